"""The plain-words answer to "what does `*` do in `net += scale * up`?", with measured numbers.

Every number in the text comes from running the real block; the statements about Python's
operator protocol are checked by calling it here (and in depth by :mod:`explainer.semantics`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from .core.blocks import build_block35
from .core.budget import check_block_run
from .core.lesson import sample_input
from .core.schedule import BLOCK35_SCALE
from .core.tracing import Trace, trace
from .core.validate import check_activation, check_positive_int, check_variant


@dataclass
class BlockAnswer:
    """The answer lines and the trace they were measured from."""

    lines: list[str]
    trace: Trace
    ratio_at_scale_1: float | None  # ||up|| / ||net||; None when relu6 clipping makes it nonlinear

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _operator_facts(scale: float, up: tf.Tensor) -> dict:
    """Ask Python itself how `scale * up` and `net += ...` resolve for these objects."""
    forward = type(scale).__mul__(scale, up)  # float.__mul__(tensor)
    reflected = type(up).__rmul__(up, scale)  # what Python tries next
    return {"mul_returns_notimplemented": forward is NotImplemented,
            "rmul_type": type(reflected).__name__,
            "tensor_has_iadd": hasattr(type(up), "__iadd__")}


def _what_scale_does(scale: float) -> str:
    """What multiplying by ``scale`` does to the residual, in words that hold for that scale."""
    size = abs(scale)
    how = ("removed" if size == 0 else "shrunk" if size < 1 else "kept at full size"
           if size == 1 else "grown")
    return how + (", and its sign flipped," if scale < 0 else "")


def _number(value: float | None) -> str:
    if value is None or not np.isfinite(value):
        return "undefined (||net|| = 0, or scale * up beyond float32's range)"
    return f"{value:.4f}"


def explain_block(variant: str = "v1", scale: float = BLOCK35_SCALE,
                  activation: str | None = "relu",
                  batch: int = 1, size: int = 35, seed: int = 0,
                  device: str = "auto") -> BlockAnswer:
    """Build and trace one block and answer the question with its numbers."""
    activation = check_activation(activation)  # "RELU6" -> "relu6", as the block reads it
    batch, size = check_positive_int("batch", batch), check_positive_int("size", size)
    check_block_run(check_variant(variant), batch, size, size)  # from shapes, before building
    block = build_block35(variant, scale=scale, activation=activation, seed=seed, device=device)
    tr = trace(block, sample_input(variant, batch=batch, size=size, seed=seed))
    up, net = tr["up"], tr["net"]
    facts = _operator_facts(tr.spec.scale, tf.constant(up.value[:1, :1, :1, :1]))
    clipped = activation == "relu6"
    ratio_1 = None if clipped or not net.l2 else up.l2 / net.l2
    mul_step = ("float.__mul__ returns NotImplemented, so Python calls tf.Tensor.__rmul__"
                if facts["mul_returns_notimplemented"] else "float.__mul__ handles it")
    iadd = ("tf.Tensor has no __iadd__, so Python computes `net + scale * up` as a new tensor "
            "and rebinds the name `net`; nothing is modified in place"
            if not facts["tensor_has_iadd"] else "tf.Tensor defines __iadd__")
    n_el = int(np.prod(up.shape))
    lines = [
        f"`up` is a tensor of shape {up.shape}: the 1x1 conv 'Conv2d_1x1' that projects the "
        f"{tr['mixed'].shape[-1]} concatenated branch channels back to the {net.shape[-1]} "
        f"channels of `net`.",
        f"`scale` is a plain Python float ({tr.spec.scale:g}), a constant, not a trained weight. "
        f"`*` is element-wise multiplication: {mul_step}, i.e. tf.math.multiply, one `Mul` op; "
        f"the scalar is broadcast to all {n_el:,} elements.",
        f"So the residual is {_what_scale_does(tr.spec.scale)} before it is added: "
        f"||scale*up|| / ||net|| = {_number(tr.residual_ratio)}"
        + (f" (at scale 1 it would be {_number(ratio_1)})." if not clipped
           else " (clipped to [-6, 6])."),
        f"`+=`: {iadd}; then the activation ({activation or 'none'}).",
        "It scales activations, not layers, yet it equals multiplying Conv2d_1x1's weights and "
        "biases by scale (see fold_scale), and the gradient reaching `up` is scaled by it too.",
    ]
    return BlockAnswer(lines, tr, ratio_1)
