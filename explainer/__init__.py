"""block35 explainer: what ``net += scale * up`` does, shown by running the real block.

Public names are imported lazily, so ``import explainer`` is instant and TensorFlow loads only
when something that needs it is used (the CLI checks its arguments before that).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    # foundation
    "build_block35": "blocks", "sample_input": "blocks", "resolve_device": "blocks",
    "Block35Spec": "blocks", "describe_block": "blocks", "branch_summary": "tracing",
    "trace": "tracing", "forward": "tracing", "Trace": "tracing", "TensorRecord": "tracing",
    "TRACE_NAMES": "tracing",
    "block_weights": "weights", "set_block_weights": "weights", "weight_shapes": "weights",
    "seeded_weights": "weights",
    "explain_block": "answer",
    # residual scaling
    "scale_sweep": "scaling", "ScaleSweep": "scaling", "depth_profile": "depth",
    "DepthProfile": "depth", "fold_scale": "folding",
    "fold_cases": "folding", "FoldCase": "folding", "fold_table": "folding",
    # broadcasting and operator semantics
    "explain_broadcast": "broadcasting", "BroadcastExplanation": "broadcasting",
    "parse_shape": "broadcasting", "scale_shape_catalogue": "scale_shapes",
    "dispatch": "semantics", "graph_ops": "semantics", "inplace_semantics": "semantics",
    "dtype_table": "semantics", "scale_gradient": "semantics",
    "dispatch_table": "semantics", "format_dispatch_table": "semantics",
    "format_dtype_table": "semantics", "last_line_ops": "semantics", "block_ops": "semantics",
    "format_catalogue": "scale_shapes",
    # legacy and porting
    "run_slim_block35": "legacy", "SlimRun": "legacy", "translation_table": "translation",
    "from_slim": "port", "from_keras_applications": "port", "to_torch": "port", "to_dl4j": "port",
}
# submodules a user reaches as `explainer.<name>` without importing them first
_SUBMODULES = ("reference", "semantics", "broadcasting", "scaling", "legacy", "translation",
               "port", "port_torch", "port_dl4j", "plots", "widgets", "exercises", "validate")

__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name: str):
    if name in _EXPORTS or name in _SUBMODULES:
        from .quiet import load_tensorflow_quietly

        load_tensorflow_quietly()  # most modules import TensorFlow; keep its start-up lines out
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'explainer' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


if TYPE_CHECKING:  # for editors and type checkers; at run time the lazy table above serves
    from .blocks import Block35Spec, build_block35, resolve_device, sample_input  # noqa: F401
    from .tracing import TRACE_NAMES, TensorRecord, Trace, forward, trace  # noqa: F401
    from .weights import block_weights, seeded_weights, set_block_weights, weight_shapes  # noqa: F401
