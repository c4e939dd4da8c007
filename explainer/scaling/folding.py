"""Folding the scale into the projection, where the same trick breaks, and what it changes
under training.

``scale * up`` with ``up = conv(mixed, W) + b`` equals ``conv(mixed, scale * W) + scale * b``:
a convolution is linear, so the scale can live in the weights and the block runs with scale 1.
That works because slim builds the projection with ``normalizer_fn=None, activation_fn=None``.
Put a BatchNorm after the projection, or push the scale through a ReLU, and it no longer does.

The fold is exact for the forward pass only. Under training the two blocks differ: with SGD the
block's projection weights ``W`` get the gradient ``scale * g`` (``g`` that of the folded
weights), and its effective weights ``scale * W`` move ``scale**2`` as far per step as the
folded block's ``scale * W`` do (:func:`fold_training_step` runs one step on each and measures
it: 0.0289 = 0.17**2 on the lesson block).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..core.backend import require_tensorflow
from ..core.inputs import check_block_input
from ..core.lesson import _sample_input
from ..core.spec import UP_SCOPE, BlockSpec, block_spec, keras_name
from ..core.validate import check_items, check_scale
from ..core.weights import _set_block_weights, block_weights

HOLDS_BELOW = 1e-4  # relative difference under which float32 results count as equal


def fold_scale(block):
    """A copy of ``block`` with scale 1 whose ``Conv2d_1x1`` kernel and bias are multiplied by
    the original scale. Its outputs equal the original's (to float32 rounding): the fold is
    exact for the forward pass. Under training (SGD) it is not the same block: the scale also
    slows the original's ``Conv2d_1x1`` learning by ``scale**2``, because its weights ``W``
    receive ``scale`` times the folded weights' gradient and ``scale * W`` moves ``scale`` times
    that again (:func:`fold_training_step` measures one step)."""
    return _fold_scale(block, block_spec(block))


def _fold_scale(block, spec: BlockSpec):
    """:func:`fold_scale` of a block and its own spec (the block's weights, read back, need
    no check): it trusts its caller."""
    from ..core.blocks import build_from_spec

    weights = block_weights(block)
    weights[f"{UP_SCOPE}/weights"] = weights[f"{UP_SCOPE}/weights"] * np.float32(spec.scale)
    weights[f"{UP_SCOPE}/biases"] = weights[f"{UP_SCOPE}/biases"] * np.float32(spec.scale)
    folded = build_from_spec(replace(spec, scale=1.0))  # same kind, seed and device
    _set_block_weights(folded, weights, folded.residual_spec)
    return folded


@dataclass(frozen=True)
class FoldStep:
    """One plain SGD step (same loss, same learning rate) on a block and on its
    :func:`fold_scale` twin, from the same start.

    ``up_ratio`` = ||change of the block's effective projection weights (scale * W, scale * b)||
    / ||change of the folded block's weights||; SGD predicts ``scale**2``. ``branch_ratio`` is
    the same ratio for the branch convs' kernels, which the scale does not slow (1)."""

    scale: float
    lr: float
    forward_max_diff: float  # before the step: max |block(x) - folded(x)|, the exact fold
    up_ratio: float
    branch_ratio: float

    @property
    def expected(self) -> float:
        return self.scale ** 2

    def __str__(self) -> str:
        return (f"one SGD step (lr {self.lr:g}) on the block at scale {self.scale:g} and on its "
                f"folded twin: the projection's effective weights scale*W moved "
                f"{self.up_ratio:.4f} times as far as the folded weights (scale^2 = "
                f"{self.expected:.4f}); the branch convs {self.branch_ratio:.4f} times; before "
                f"the step the outputs differed by at most {self.forward_max_diff:.1e}")


def fold_training_step(block, x=None, lr: float = 0.01) -> FoldStep:
    """Run one SGD step on ``block`` and on :func:`fold_scale` of it, and compare the moves.

    The loss is half the mean squared difference between the block's output and a seeded
    random target; ``x`` defaults to the lesson's input for that block kind (one 35x35 image
    for block35, 9x9 for the others: a fixed cost, as the two blocks' weights are, outside the
    memory budget of the caller's requests). Needs Keras' TensorFlow backend
    (``tf.GradientTape``).
    """
    require_tensorflow("fold_training_step (tf.GradientTape)")
    spec = block_spec(block)
    lr = check_scale(lr, "lr", "0.01")
    if not lr > 0:
        raise ValueError(f"lr: got {lr!r}; expected a positive learning rate such as 0.01")
    x = None if x is None else check_block_input(x, spec.in_channels)
    return _fold_training_step(block, spec, x, lr)


def _fold_training_step(block, spec: BlockSpec, x: np.ndarray | None = None,
                        lr: float = 0.01) -> FoldStep:
    """:func:`fold_training_step` of a block and its own spec, a checked float32 input (or
    None: the lesson's) and a checked positive ``lr``, under TensorFlow: it trusts its caller
    (:func:`explainer.explain_block` runs it on the block it built)."""
    import keras
    import tensorflow as tf

    if x is None:
        x = _sample_input(spec.variant, 1, 35 if spec.block == "block35" else 9, spec.seed,
                          spec.block)
    x = tf.constant(x)
    folded = _fold_scale(block, spec)
    target = tf.constant(np.random.default_rng([spec.seed, 5]).standard_normal(
        x.shape).astype(np.float32))
    up_name = keras_name(UP_SCOPE)
    branch_names = [keras_name(c.scope) for c in spec.convs]
    before_diff = float(np.max(np.abs(block(x, training=False).numpy()
                                      - folded(x, training=False).numpy())))

    def step(model, factor: float) -> tuple[np.ndarray, np.ndarray]:
        """One SGD step; the moves of the effective up weights (times ``factor``) and of the
        branch kernels, each flattened."""
        up_vars = model.get_layer(up_name).trainable_weights
        branch_vars = [model.get_layer(n).kernel for n in branch_names]
        variables = [*up_vars, *branch_vars]
        start = [v.numpy().copy() for v in variables]
        with tf.GradientTape() as tape:
            loss = 0.5 * tf.reduce_mean(tf.square(model(x, training=False) - target))
        grads = tape.gradient(loss, variables)
        keras.optimizers.SGD(learning_rate=lr).apply_gradients(zip(grads, variables, strict=True))
        moves = [v.numpy() - s for v, s in zip(variables, start, strict=True)]
        up_move = np.concatenate([np.float64(factor) * m.ravel() for m in moves[:len(up_vars)]])
        branch_move = np.concatenate([m.ravel() for m in moves[len(up_vars):]])
        return up_move, branch_move

    # the step changes the block's weights; they are put back right after it
    original = block_weights(block)
    up_scaled, branch_scaled = step(block, spec.scale)
    _set_block_weights(block, original, spec)
    up_folded, branch_folded = step(folded, 1.0)
    return FoldStep(scale=spec.scale, lr=lr, forward_max_diff=before_diff,
                    up_ratio=_ratio(up_scaled, up_folded),
                    branch_ratio=_ratio(branch_scaled, branch_folded))


def _ratio(a: np.ndarray, b: np.ndarray) -> float:
    """||a|| / ||b||; NaN (undefined) when ||b|| is 0 or either norm is not finite."""
    with np.errstate(over="ignore", invalid="ignore"):
        top, bottom = np.linalg.norm(a), np.linalg.norm(b)
    if bottom == 0 or not (np.isfinite(top) and np.isfinite(bottom)):
        return float("nan")
    return float(top / bottom)


@dataclass(frozen=True)
class FoldCase:
    """One attempt to move the scale somewhere else, and how far its output is from the real
    ``scale * (...)``: ``relative_error`` = ||folded - target|| / ||target||."""

    name: str
    scale: float
    holds: bool
    max_abs_error: float
    relative_error: float
    note: str
    to_unscaled: float | None = None  # ||folded - unscaled|| / ||unscaled||, where it applies


def _rel(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


def _case(name: str, scale: float, folded, target, note: str, unscaled=None) -> FoldCase:
    folded = np.asarray(folded, dtype=np.float64)
    target = np.asarray(target, dtype=np.float64)
    rel = _rel(folded, target)
    return FoldCase(name, float(scale), rel < HOLDS_BELOW,
                    float(np.max(np.abs(folded - target))), rel, note,
                    None if unscaled is None else _rel(folded, unscaled))


def fold_cases(block, x) -> list[FoldCase]:
    """Fold the block's scale four ways and measure each against the unfolded computation.

    1. into the projection (what :func:`fold_scale` does): holds;
    2. the same with a negative scale: holds (the projection is linear);
    3. into a projection followed by a BatchNorm (training mode, batch statistics, and
       inference, fixed statistics): breaks, BN divides the scale back out;
    4. through the branches' ReLU (``relu(s * pre)`` in place of ``s * relu(pre)``): holds for
       a positive scale, breaks for a negative one.
    """
    import keras
    import tensorflow as tf

    from ..core.blocks import build_from_spec
    from ..core.tracing import forward, trace

    spec = block_spec(block)
    x = check_block_input(x, spec.in_channels)
    s = spec.scale
    cases = [_case("fold into the projection Conv2d_1x1", s, forward(_fold_scale(block, spec), x),
                   forward(block, x), "conv(m, sW) + sb = s * (conv(m, W) + b): linear")]

    neg = build_from_spec(replace(spec, scale=-abs(s) or -1.0))  # the same kind, seed, device
    _set_block_weights(neg, block_weights(block), neg.residual_spec)
    cases.append(_case("fold a negative scale into the projection", -abs(s) or -1.0,
                       forward(_fold_scale(neg, neg.residual_spec), x), forward(neg, x),
                       "linear in the scale, whatever its sign"))

    tr = trace(block, x)
    w = block_weights(block)
    kernel, bias = w[f"{UP_SCOPE}/weights"][0, 0], w[f"{UP_SCOPE}/biases"]
    up = tr["mixed"].value @ kernel + bias  # the projection as a 1x1 conv: a matmul
    up_folded = tr["mixed"].value @ (np.float32(s) * kernel) + np.float32(s) * bias
    rng = np.random.default_rng([spec.seed, 4])
    bn = keras.layers.BatchNormalization(epsilon=0.001, scale=False)
    bn.build(up.shape)
    bn.beta.assign(rng.normal(0.0, 0.1, spec.in_channels).astype(np.float32))
    bn.moving_mean.assign(up.mean(axis=(0, 1, 2)))  # as if trained on the unscaled `up`
    bn.moving_variance.assign(up.var(axis=(0, 1, 2)))
    for training, mode in ((True, "training mode"), (False, "inference")):
        target = s * bn(tf.constant(up), training=training).numpy()
        folded = bn(tf.constant(up_folded), training=training).numpy()
        unscaled = bn(tf.constant(up), training=training).numpy()
        note = ("BN(s*z) vs s*BN(z): batch statistics divide s back out (up to BN's "
                "epsilon), so the folded output sits near the unscaled BN(z)" if training else
                "BN(s*z) vs s*BN(z): fixed statistics subtract the unscaled mean and add the "
                "unscaled beta, so the result is neither")
        cases.append(_case(f"fold into a projection followed by BatchNorm ({mode})", s,
                           folded, target, note, unscaled))

    ends = [f"{keras_name(c.scope)}__BatchNorm" for c in spec.convs if c.name in spec.mixed_from]
    pre_model = keras.Model(block.inputs, [block.get_layer(n).output for n in ends])
    pre = np.concatenate([t.numpy() for t in pre_model(tf.constant(x), training=False)], axis=3)
    for sign in (1.0, -1.0):
        t = sign * abs(s) or sign
        target = t * (np.maximum(pre, 0) @ kernel + bias)
        folded = np.maximum(np.float32(t) * pre, 0) @ kernel + np.float32(t) * bias
        cases.append(_case(f"push a {'positive' if sign > 0 else 'negative'} scale through "
                           "the branches' ReLU", t, folded, target,
                           "relu(t*a) = t*relu(a) only for t >= 0"))
    return cases


def fold_table(cases: list[FoldCase]) -> str:
    """The cases of :func:`fold_cases` as a text table."""
    cases = check_items("cases", cases, FoldCase, "fold_cases()")
    head = f"{'case':<62}{'scale':>7}{'holds':>7}{'rel. error':>12}{'to unscaled':>13}"
    lines = [head, "-" * len(head)]
    for c in cases:
        unscaled = "" if c.to_unscaled is None else f"{c.to_unscaled:.2e}"
        lines.append(f"{c.name:<62}{c.scale:>7.2f}{'yes' if c.holds else 'NO':>7}"
                     f"{c.relative_error:>12.2e}{unscaled:>13}")
    return "\n".join(lines)
