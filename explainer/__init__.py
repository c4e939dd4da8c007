"""block35 explainer: what ``net += scale * up`` does, shown by running the real block.

The package is in layers; each folder is one (see the README's layout, checked by the tests):

    core/          the block: spec tables, weights, the numpy reference, the Keras block, traces
    semantics/     what `*` and `+=` do;  broadcasting/: the rule;  scaling/: what scale does
    ports/         the original slim code, keras.applications, PyTorch, DL4J
    plots/ widgets/ exercises/ cli/ site/   on top; answer.py: the five-line answer (v2: six)
    classroom/     the top: a class's apps, kernel pool and servers (``make classroom``)

Public names are imported lazily, so ``import explainer`` is instant and TensorFlow loads only
when something that needs it is used (the CLI checks its arguments before that).
"""

from __future__ import annotations

import pkgutil

__version__ = "0.1.0"

# The layers, bottom first. A module may import its own layer and the layers below it, never
# one above (tests/test_layers.py reads every import to check this; the README's layout is
# generated in this order).
LAYERS = (
    ("core",),                   # the block: spec tables, weights, numpy reference, Keras block
    ("semantics", "broadcasting"),  # what `*` and `+=` do; the broadcasting rule
    ("scaling", "ports", "torch_blocks"),  # what the scale does; the block in other code and
    #                                          frameworks; the PyTorch block classes
    ("answer", "plots"),         # the five-line answer; figures
    ("widgets", "exercises"),    # interactive apps; checked exercises
    ("site", "cli"),             # static pages; `python -m explainer`
    ("classroom",),              # a class: Voila apps, their kernel pool, the static server
)
ENGINE = ("core", "semantics", "broadcasting", "scaling", "ports")  # no plots, widgets, UI

# The one table of public names: name -> the module that defines it, or, for a name that ends
# in ":" here, the module itself. Every subpackage and top-level module is found on disk and
# added as itself (``explainer.plots``, ``explainer.widgets``, ``explainer.exercises`` ...).
_EXPORTS = {
    # core: the block itself
    "build_block35": "core.blocks", "resolve_device": "core.blocks",
    "build_block17": "core.blocks", "build_block8": "core.blocks", "build_block": "core.blocks",
    "sample_input": "core.lesson", "lesson_setup": "core.lesson", "LessonSetup": "core.lesson",
    "BlockSpec": "core.spec", "describe_block": "core.spec", "TRACE_NAMES": "core.spec",
    "trace": "core.tracing", "forward": "core.tracing", "Trace": "core.tracing",
    "TensorRecord": "core.tracing", "branch_summary": "core.tracing",
    "block_weights": "core.weights", "set_block_weights": "core.weights",
    "weight_shapes": "core.weight_tables", "seeded_weights": "core.weight_tables",
    "REAL_SCALES": "core.schedule", "BLOCK35_SCALE": "core.schedule",
    "keras_backend": "core.backend", "TensorFlowOnlyError": "core.backend",
    "compare_backends": "core.backend_run",
    "explain_block": "answer",
    # residual scaling
    "scale_sweep": "scaling.sweep", "ScaleSweep": "scaling.sweep",
    "depth_profile": "scaling.depth", "DepthProfile": "scaling.depth",
    "stage_profile": "scaling.stages", "StageProfile": "scaling.stages",
    "fold_scale": "scaling.folding", "fold_cases": "scaling.folding",
    "FoldCase": "scaling.folding", "fold_table": "scaling.folding",
    "train_trunk": "scaling.why_scale.training", "TrunkRun": "scaling.why_scale.training",
    "build_trunk": "scaling.why_scale.trunk", "load_why_scale_results": "scaling.why_scale.results",
    # broadcasting and operator semantics
    "explain_broadcast": "broadcasting.rule", "BroadcastExplanation": "broadcasting.rule",
    "explain_broadcast_numpy": "broadcasting.rule",
    "parse_shape": "broadcasting.shapes",
    "scale_shape_catalogue": "broadcasting.catalogue", "format_catalogue": "broadcasting.catalogue",
    "dispatch": "semantics.operators", "scale_gradient": "semantics.operators",
    "dispatch_table": "semantics.operators", "format_dispatch_table": "semantics.operators",
    "graph_ops": "semantics.graph", "last_line_ops": "semantics.graph",
    "block_ops": "semantics.graph", "inplace_semantics": "semantics.inplace",
    "dtype_table": "semantics.dtypes", "format_dtype_table": "semantics.dtypes",
    "framework_star": "semantics.frameworks",
    # legacy and porting
    "run_slim_block35": "ports.legacy", "SlimRun": "ports.legacy",
    "translation_table": "ports.translation",
    "from_slim": "ports.keras_port", "from_keras_applications": "ports.keras_port",
    "to_torch": "ports.torch_port", "to_dl4j": "ports.dl4j_port", "to_onnx": "ports.onnx_port",
    "to_timm": "ports.timm_port", "compare_timm": "ports.timm_port",
    # the classroom (the top layer): its two apps, for light kernels
    "classroom_scale_explorer": "classroom.apps",
    "classroom_broadcast_playground": "classroom.apps",
    # documented short names of modules: ``from explainer import port, legacy``
    "port": "ports:", "legacy": "ports.legacy:",
}
_EXPORTS.update({m.name: f"{m.name}:" for m in pkgutil.iter_modules(__path__)
                 if not m.name.startswith("_")})

__all__ = sorted(_EXPORTS)


def _module(relative: str):
    from .core.backend import TensorFlowOnlyError
    from .core.quiet import import_quietly

    # most modules import TensorFlow: keep its native start-up lines out of a learner's view
    try:
        return import_quietly(f".{relative}", __name__)
    except ModuleNotFoundError as err:  # Keras on JAX / PyTorch where TensorFlow is absent
        if (err.name or "").split(".")[0] not in ("tensorflow", "tf_slim", "tf2onnx"):
            raise
        raise TensorFlowOnlyError(f"explainer.{relative} runs through TensorFlow, which is not "
                                  f"installed here ({err}); the blocks themselves run on Keras' "
                                  "JAX and PyTorch backends") from None


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'explainer' has no attribute {name!r}")
    where, is_module, _ = _EXPORTS[name].partition(":")
    value = _module(where) if is_module else getattr(_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
