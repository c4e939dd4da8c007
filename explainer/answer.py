"""The plain-words answer to "what does `*` do in `net += scale * up`?", with measured numbers.

Every number in the text comes from running the real block; the statements about Python's
operator protocol are checked by calling it here (and in depth by :mod:`explainer.semantics`).
On Keras' JAX or PyTorch backend the block runs there, and lines 2 and 4 say what that
framework does (:func:`explainer.semantics.frameworks.framework_star`, run on the block's own
``net`` and ``up``).

The headline is the question's line, ``net += scale * up`` (facenet's v1 writes it so, and the
block computes ``scale * up``). For ``variant="v2"`` on TensorFlow a line is added after line
2: tf-models' current v2 code writes ``scaled_up = up * scale``, run on the block's own tensors
by :func:`explainer.ports.spellings.spelling` (the tensor's own ``__mul__``, no
NotImplemented step). Line 5 says where the fold of the scale into the weights stops holding:
under training, measured by :func:`explainer.scaling.folding.fold_training_step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .core.backend import keras_backend, tensorflow_or_none
from .core.blocks import _spec, build_from_spec
from .core.budget import check_block_run
from .core.lesson import _sample_input
from .core.schedule import BLOCK35_SCALE
from .core.spec import BlockSpec
from .core.tracing import Trace, _trace
from .core.validate import (
    check_activation,
    check_device,
    check_positive_int,
    check_scale,
    check_variant,
)
from .ports.spellings import spelling
from .scaling.folding import _fold_training_step
from .semantics.frameworks import FrameworkStar, _framework_star


@dataclass
class BlockAnswer:
    """The answer lines and the trace they were measured from."""

    lines: list[str]
    trace: Trace
    ratio_at_scale_1: float | None  # ||up|| / ||net||; None when relu6 clipping makes it nonlinear
    backend: str = "tensorflow"  # the Keras backend the block ran on

    def __str__(self) -> str:
        return "\n".join(self.lines)


def _operator_facts(scale: float, up) -> dict:
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
    """Build and trace one block and answer the question with its numbers.

    Every argument is checked here, once, and the memory budget from the shapes before
    anything is built; :func:`_explain_block` trusts these checked values.
    """
    activation = check_activation(activation)  # "RELU6" -> "relu6", as the block reads it
    batch, size = check_positive_int("batch", batch), check_positive_int("size", size)
    variant = check_variant(variant)
    check_block_run(variant, batch, size, size)  # from shapes, before building
    return _explain_block(variant, check_scale(scale), activation, batch, size,
                          check_positive_int("seed", seed, minimum=0), check_device(device))


def _explain_block(variant: str, scale: float, activation: str | None, batch: int, size: int,
                   seed: int, device: str) -> BlockAnswer:
    """:func:`explain_block` of checked arguments within the memory budget (its own checks,
    or the CLI's argument types and budget): it trusts its caller. ``device`` ("auto", "cpu"
    or "gpu") is resolved here; "gpu" without one is still a ValueError naming it."""
    spec = _spec("block35", variant, scale, activation, seed, device)
    block = build_from_spec(spec)
    tr = _trace(block, spec, _sample_input(variant, batch, size, seed, spec.block))
    up, net = tr["up"], tr["net"]
    backend = keras_backend()
    clipped = activation == "relu6"
    ratio_1 = None if clipped or not net.l2 else up.l2 / net.l2
    if backend == "tensorflow":
        mul_step, iadd = _tensorflow_lines(tr.spec.scale, up.value[:1, :1, :1, :1])
    else:  # the block's own net and up, a corner of them, in the backend's framework
        corner = (slice(0, 1), slice(0, 3), slice(0, 3))
        mul_step, iadd = _framework_lines(_framework_star(
            backend, tr.spec.scale, net.value[corner], up.value[corner]))
    n_el = int(np.prod(up.shape))
    training = _training_words(block, spec, backend)
    lines = [
        f"`up` is a tensor of shape {up.shape}: the 1x1 conv 'Conv2d_1x1' that projects the "
        f"{tr['mixed'].shape[-1]} concatenated branch channels back to the {net.shape[-1]} "
        f"channels of `net`.",
        f"`scale` is a plain Python float ({tr.spec.scale:g}), a constant, not a trained weight. "
        f"`*` is element-wise multiplication: {mul_step}; "
        f"the scalar is broadcast to all {n_el:,} elements.",
        f"So the residual is {_what_scale_does(tr.spec.scale)} before it is added: "
        f"||scale*up|| / ||net|| = {_number(tr.residual_ratio)}"
        + (f" (at scale 1 it would be {_number(ratio_1)})" if not clipped
           else " (clipped to [-6, 6])")
        + f", with the block's seeded random weights on a synthetic input (seed {seed}), not "
          "a trained net's.",
        f"`+=`: {iadd}; then the activation ({activation or 'none'}).",
        "It scales activations, not layers: for the forward pass it equals multiplying "
        "Conv2d_1x1's weights and biases by scale (see fold_scale), and the gradient reaching "
        f"`up` is scaled by it too. Under training the fold is not the same block: {training}",
    ]
    if variant == "v2" and backend == "tensorflow":
        lines.insert(2, _v2_code_line(tr))
    return BlockAnswer(lines, tr, ratio_1, backend)


def _training_words(block, spec: BlockSpec, backend: str) -> str:
    """The last sentence of line 5: the scale slows Conv2d_1x1's learning by scale² (SGD),
    with one SGD step measured where Keras runs on TensorFlow."""
    if backend != "tensorflow":
        return ("with SGD the scale also slows that conv's learning by scale² (measured by "
                "fold_training_step on Keras' TensorFlow backend).")
    step = _fold_training_step(block, spec)  # the lesson's input, lr 0.01
    if not np.isfinite(step.up_ratio):
        return ("with SGD the scale also slows that conv's learning by scale²; the one-step "
                "check is undefined here (no weight moved, or a move beyond float32's range).")
    return (f"with SGD the scale also slows that conv's learning by scale² = "
            f"{step.expected:.4f} (one SGD step, measured: scale·W moved {step.up_ratio:.4f} "
            f"times as far as the folded weights).")


def _v2_code_line(tr: Trace) -> str:
    """What tf-models' current v2 code writes for the line, run on this block's net and up."""
    found = spelling("tf-models", tr.spec.scale, tr["net"].value, tr["up"].value)
    return (f"tf-models' current v2 code itself writes `{found.lines[0]}` (clipped to [-6, 6] "
            f"when the activation is relu6), then `{found.lines[-1]}`: for "
            f"`{found.product}` {found.dispatch}, "
            f"one `{' '.join(t for t in found.ops if t == 'Mul')}` op; run on this block's own "
            f"net and up it gives the same sum bit for bit: {found.equals_block}.")


def _tensorflow_lines(scale: float, up: np.ndarray) -> tuple[str, str]:
    """How `*` and `+=` resolve for a tf.Tensor, in the words of lines 2 and 4."""
    facts = _operator_facts(scale, tensorflow_or_none().constant(up))
    mul_step = ("float.__mul__ returns NotImplemented, so Python calls tf.Tensor.__rmul__"
                if facts["mul_returns_notimplemented"] else "float.__mul__ handles it")
    iadd = ("tf.Tensor has no __iadd__, so Python computes `net + scale * up` as a new tensor "
            "and rebinds the name `net`; nothing is modified in place"
            if not facts["tensor_has_iadd"] else "tf.Tensor defines __iadd__")
    return f"{mul_step}, i.e. tf.math.multiply, one `Mul` op", iadd


def _framework_lines(f: FrameworkStar) -> tuple[str, str]:
    """Lines 2 and 4 for JAX or PyTorch, from what :func:`framework_star` measured."""
    public = f.rmul.split(" ")[0]
    mul_step = (f"float.__mul__ returns NotImplemented, so Python calls {public}"
                if f.mul_returns_notimplemented else "float.__mul__ handles it")
    what = "primitive in the jaxpr" if f.framework == "jax" else "op (PyTorch's profiler)"
    mul_step += f", one `{' '.join(f.mul_ops)}` {what}"
    cls = public.rsplit(".", 1)[0]
    if not f.has_iadd:
        return mul_step, (f"{cls} has no __iadd__ ({f.name} arrays are immutable), so Python "
                          "computes `net + scale * up` as a new array and rebinds the name "
                          "`net`; nothing is modified in place")
    where = ("into net's own storage (same data_ptr), in place"
             if f.iadd_same_storage else "and rebinds `net`")
    error = f.inplace_error.partition(" -> ")[2]
    return mul_step, (f"{cls} has __iadd__, so `net += scale * up` adds {where}; when `net` "
                      f"was saved for the backward pass (a ReLU's output is), backward then "
                      f"fails ({error.split(': [')[0]}), which is why timm writes "
                      "`out = out * self.scale + x`")
