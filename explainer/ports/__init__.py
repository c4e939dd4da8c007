"""Ports: the original tf-slim code running, the TF1 -> TF2 table, and the block in other
frameworks (keras.applications, PyTorch, ONNX, Deeplearning4j), each with a measured comparison.

``from explainer import port`` gives this package; its entry points are gathered here:
``port.from_slim``, ``port.from_keras_applications``, ``port.compare_slim``,
``port.to_torch``, ``port.compare_torch``, ``port.to_onnx``, ``port.to_dl4j``,
``port.to_timm``, ``port.compare_timm``.

The names load lazily (on first use), so a module of this package that needs no TensorFlow,
such as :mod:`.torch_blocks` (the PyTorch classes a saved module is unpickled with), imports
without it.
"""

from __future__ import annotations

import importlib

_NAMES = {
    "check": ("PortCheck", "max_abs"),
    "dl4j_port": ("DL4J_DIFFERENCES", "differences_text", "dl4j_vertices", "parse_dl4j",
                  "to_dl4j"),
    "keras_port": ("KERAS_APPS_BLOCKS", "compare_keras_applications", "compare_slim",
                   "from_keras_applications", "from_slim", "keras_apps_block",
                   "slim_side_by_side", "to_keras_applications"),
    "keras_serialisation": ("SavedForm", "lambda_vs_layer"),
    "onnx_port": ("OnnxReport", "compare_onnx", "find_scale_mul", "onnx_missing", "to_onnx"),
    "timm_port": ("compare_timm", "timm_missing", "to_timm"),
    "torch_port": ("compare_torch", "to_torch", "torch_forward", "torch_line_forms",
                   "torch_missing", "torch_report"),
}
_WHERE = {name: module for module, names in _NAMES.items() for name in names}
__all__ = sorted(_WHERE)


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value  # once: the next look-up is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
