"""The line as each source writes it, run: which method Python calls for its ``*``, and its add.

Four real spellings of the residual scale, each taken from its source's own text, never typed
in: facenet's Inception-ResNet-v1 (and tf-models' v2 before the relu6 clip) ``net += scale *
up`` and tf-models' current v2 ``scaled_up = up * scale`` ... ``net += scaled_up`` from the
stored originals (:mod:`explainer.ports.legacy_sources`); keras.applications'
``CustomScaleLayer.call``, ``inputs[0] + inputs[1] * self.scale``, and timm's ``Block35.forward``,
``out = out * self.scale + x``, read with :func:`inspect.getsource` from the installed packages.

For each, :func:`spelling` runs the source's lines themselves on the lesson block's own ``net``
and ``up`` (compiled from the source text, as :mod:`explainer.ports.legacy` runs the stored
blocks; Keras' line inside a real ``CustomScaleLayer``), watches which of the tensor's operator
methods the line calls (``sys.setprofile`` for TensorFlow's Python wrappers, a
``TorchFunctionMode`` for PyTorch), asks the left operand's ``__mul__`` itself whether it returns
``NotImplemented``, traces the ops, and checks the result equals the block's own
``net + scale * up`` bit for bit.
"""

from __future__ import annotations

import ast
import inspect
import sys
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..core.lesson import lesson_setup
from ..core.schedule import BLOCK35_SCALE
from ..core.validate import _choice, check_scale, error_text
from ..semantics.frameworks import _torch_ops
from .legacy_sources import ORIGINALS
from .spelling_runs import mul_operands, product, run_lines, watch_tensorflow
from .timm_port import import_timm

SOURCES = ("facenet", "tf-models", "keras", "timm")
WHO = {
    "facenet": "facenet's Inception-ResNet-v1 (and tf-models' v2 before its relu6 clip)",
    "tf-models": "tf-models' current Inception-ResNet-v2",
    "keras": "keras.applications' InceptionResNetV2 (CustomScaleLayer.call)",
    "timm": "timm's InceptionResnetV2 (Block35.forward)",
}
WHERE = {
    "facenet": "facenet src/models/inception_resnet_v1.py",
    "tf-models": "tensorflow/models research/slim/nets/inception_resnet_v2.py",
    "keras": "keras/src/applications/inception_resnet_v2.py (installed)",
    "timm": "timm/models/inception_resnet_v2.py (installed)",
}


@dataclass
class Spelling:
    """One source's spelling of the line, and what running it did."""

    source: str  # "facenet", "tf-models", "keras", "timm"
    who: str
    where: str
    lines: tuple[str, ...]  # the source's own lines, stripped, in order
    product: str  # the `*` expression as written, e.g. "scale * up"
    left: str  # type of the left operand of `*`, e.g. "float", "tf.Tensor"
    notimplemented: bool  # type(left).__mul__(left, right) returned NotImplemented
    calls: tuple[str, ...]  # the operator methods the line called, in order (seen running it)
    ops: tuple[str, ...]  # the compute ops the lines ran (tf graph ops / torch profiler ops)
    add: str  # what the add does, in words built from what ran
    equals_block: bool  # the result equals the block's own net + scale * up, bit for bit
    framework: str = "tensorflow"
    skipped: str | None = None  # why it could not run (a missing package)
    details: list[str] = field(default_factory=list)

    @property
    def dispatch(self) -> str:
        """``float.__mul__ -> NotImplemented -> tf.Tensor.__rmul__`` or ``tf.Tensor.__mul__``."""
        if self.skipped:
            return f"not run: {self.skipped}"
        mul = next((c for c in self.calls if c.endswith("mul__")), "?")
        if self.notimplemented:
            return f"{self.left}.__mul__ returns NotImplemented, so Python calls {mul}"
        return (f"Python calls {mul} directly, the left operand's own method (no "
                "NotImplemented step)")

    def __str__(self) -> str:
        head = f"[{self.source}] {self.who}\n    {self.where}"
        code = "\n".join(f"    | {line}" for line in self.lines)
        if self.skipped:
            return f"{head}\n{code}\n    skipped: {self.skipped}"
        return "\n".join([
            head, code,
            f"    `{self.product}`: {self.dispatch}",
            f"    operator methods called, in order: {' -> '.join(self.calls)}",
            f"    ops: {', '.join(self.ops)}",
            f"    add: {self.add}",
            f"    equals the block's own net + scale * up, bit for bit: {self.equals_block}",
            *(f"    {d}" for d in self.details)])


def check_source(source: object) -> str:
    """'facenet', 'tf-models', 'keras' or 'timm'."""
    return _choice("source", source, SOURCES)  # type: ignore[return-value]


def source_lines(source: str) -> tuple[str, ...]:
    """The source's own lines for the scaled residual, read from its text (stored original or
    the installed package), stripped of indentation."""
    source = check_source(source)
    if source in ("facenet", "tf-models"):
        text = ORIGINALS["v1" if source == "facenet" else "v2"]
        lines = text.splitlines()
        first = next(i for i, line in enumerate(lines) if "scale" in line and "def " not in line)
        last = next(i for i, line in enumerate(lines) if line.strip().startswith("net +="))
        return tuple(line.strip() for line in lines[first:last + 1] if line.strip())
    code = inspect.getsource(_keras_layer_class().call if source == "keras"
                             else _timm_block_class().forward)
    return tuple(line.strip() for line in code.splitlines() if "self.scale" in line)


@lru_cache(maxsize=1)
def _keras_layer_class():
    from keras.src.applications import inception_resnet_v2

    return inception_resnet_v2.CustomScaleLayer


def _timm_block_class():
    import_timm()
    from timm.models.inception_resnet_v2 import Block35

    return Block35


@lru_cache(maxsize=1)
def lesson_net_up() -> tuple[np.ndarray, np.ndarray]:
    """The lesson block's ``net`` and ``up`` (numpy), traced once per process."""
    tr = lesson_setup().traced
    return tr["net"].value, tr["up"].value


def spelling(source: str, scale: float = BLOCK35_SCALE, net: np.ndarray | None = None,
             up: np.ndarray | None = None) -> Spelling:
    """Run ``source``'s own spelling of the line on the lesson block's ``net`` and ``up`` (or
    on ``net`` and ``up`` given as float32 arrays of one shape, e.g. another block's)."""
    source, scale = check_source(source), check_scale(scale)
    if (net is None) != (up is None):
        raise TypeError("net, up: got one of them; expected both arrays or neither")
    if net is not None:
        net, up = np.asarray(net, np.float32), np.asarray(up, np.float32)
        if net.shape != up.shape:
            raise ValueError(f"net, up: got shapes {net.shape} and {up.shape}; expected one "
                             "shape")
    else:
        net, up = lesson_net_up()
    if source == "timm":
        try:
            lines = source_lines(source)
        except (ImportError, RuntimeError) as err:
            return Spelling(source, WHO[source], WHERE[source], ("out = out * self.scale + x",),
                            "out * self.scale", "torch.Tensor", False, (), (), "", False,
                            framework="torch", skipped=error_text(err))
        return _run_timm(lines, scale, net, up)
    return _run_tensorflow(source, source_lines(source), scale, net, up)


def _run_tensorflow(source: str, lines: tuple[str, ...], scale: float, net_np: np.ndarray,
                    up_np: np.ndarray) -> Spelling:
    import tensorflow as tf

    from ..semantics.graph import graph_ops

    net, up = tf.constant(net_np), tf.constant(up_np)
    with np.errstate(over="ignore", invalid="ignore"):  # float32 overflows to inf, as TF does
        expected = net_np + np.float32(scale) * up_np  # the block's order; float * commutes
    filename = f"<{source}: {WHERE[source]}>"
    if source == "keras":
        layer = _keras_layer_class()(scale)
        namespace = {"inputs": [net, up], "self": layer}
        call_code = _keras_layer_class().call.__code__
        result, calls = watch_tensorflow(lambda: layer([net, up]),
                                          lambda code: code is call_code, up)
        left, right = mul_operands(lines, namespace)
        traced = graph_ops(lambda n, u: _keras_layer_class()(scale)([n, u]), net, up)
        add = ("`inputs[0] + ...`: the layer returns a new tensor, the sum; Keras' Add is not "
               "used, CustomScaleLayer does the add itself")
        rebinds = None
    else:
        namespace = {"tf": tf, "net": net, "up": up, "scale": scale,
                     "activation_fn": tf.nn.relu}
        alias = net
        ran, calls = watch_tensorflow(lambda: run_lines(lines, namespace, filename),
                                       lambda code: code.co_filename == filename, up)
        result = ran["net"]
        left, right = mul_operands(lines, {"tf": tf, "net": net, "up": up, "scale": scale,
                                             "activation_fn": tf.nn.relu})
        traced = graph_ops(lambda n, u: run_lines(
            lines, {"tf": tf, "net": n, "up": u, "scale": scale, "activation_fn": tf.nn.relu},
            filename)["net"], net, up)
        rebinds = result is not alias and bool(np.array_equal(alias.numpy(), net_np))
        add = ("`net += ...`: tf.Tensor has no __iadd__, so Python calls __add__ and rebinds "
               "the name `net` to the new tensor" if not hasattr(type(net), "__iadd__") else
               "`net += ...`: tf.Tensor defines __iadd__")
        add += f"; the old tensor is unchanged: {rebinds}"
    first = type(left).__mul__(left, right)
    label = "tf.Tensor" if isinstance(left, tf.Tensor) else type(left).__name__
    details = []
    if source == "tf-models":
        details.append("the clip line runs only when activation_fn is tf.nn.relu6 (here relu: "
                       "skipped)")
    return Spelling(source, WHO[source], WHERE[source], lines, ast.unparse(product(lines)),
                    label, first is NotImplemented, tuple(calls), traced.compute_types, add,
                    bool(np.array_equal(np.asarray(result), expected, equal_nan=True)),
                    details=details)


def _run_timm(lines: tuple[str, ...], scale: float, net_np: np.ndarray,
              up_np: np.ndarray) -> Spelling:
    import torch
    from torch.overrides import TorchFunctionMode

    net, up = torch.from_numpy(net_np.copy()), torch.from_numpy(up_np.copy())
    block = _timm_block_class()(scale=scale)  # timm's own module: its `self.scale`
    seen: list[str] = []

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if sys._getframe(1).f_code.co_name == "<module>":
                seen.append(f"torch.Tensor.{getattr(func, '__name__', func)}")
            return func(*args, **(kwargs or {}))

    namespace = {"out": up, "x": net, "self": block}
    ptr = net.data_ptr()
    with Watch():
        run_lines(lines, namespace, f"<timm: {WHERE['timm']}>")
    left, right = mul_operands(lines, {"out": up, "x": net, "self": block})
    first = type(left).__mul__(left, right)
    name = "__mul__" if first is not NotImplemented else "__rmul__"
    calls = tuple(f"torch.Tensor.{name}" if c.endswith(".mul") else
                  "torch.Tensor.__add__" if c.endswith(".add") else c for c in seen)
    ops = _torch_ops(torch, lambda: run_lines(lines, {"out": up, "x": net, "self": block},
                                               "<timm>"))
    result = namespace["out"]
    with np.errstate(over="ignore", invalid="ignore"):  # float32 overflows to inf, as torch does
        expected = net_np + np.float32(scale) * up_np
    fresh = result.data_ptr() not in (ptr, up.data_ptr())
    return Spelling("timm", WHO["timm"], WHERE["timm"], lines, ast.unparse(product(lines)),
                    "torch.Tensor", first is NotImplemented, calls, tuple(ops),
                    f"`... + x`: a new tensor (its own storage: {fresh}), bound to `out`; `x` "
                    "(the shortcut) is not written, so autograd can keep it",
                    bool(np.array_equal(result.numpy(), expected, equal_nan=True)),
                    framework="torch",
                    details=[f"torch {torch.__version__}: the product (TensorBase.mul) and "
                             "the sum (TensorBase.add) ran as seen by a TorchFunctionMode"])


def spellings(scale: float = BLOCK35_SCALE) -> list[Spelling]:
    """:func:`spelling` for every source, in :data:`SOURCES` order."""
    scale = check_scale(scale)
    return [spelling(s, scale) for s in SOURCES]


__all__ = ["SOURCES", "Spelling", "check_source", "source_lines", "spelling", "spellings"]
