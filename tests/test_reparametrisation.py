"""Under training, a constant scale is a reparametrisation of the `up` conv (train_trunk's
``up_init`` and ``up_lr``): ``scale=s`` trains as ``scale=1, up_init=s, up_lr=s**2`` with SGD,
and as ``up_lr=s`` with Adam; either half alone is another run.

Measured here (depth 10, width 16, batch 8, 30 steps, seed 0): with SGD the two runs' losses
agree to ~1e-7 relative, float32 rounding (their step-0 numbers differ by that much, since
``s * conv(W)`` and ``conv(s * W)`` round differently), while a learning rate one float32 ulp
larger moves the same run by ~1e-3 by step 30: the runs are the same computation, not merely
close trajectories. Adam's epsilon (1e-7, added to the gradient's running size, which the
reparametrisation scales by ``s``) keeps its match approximate.
"""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

from explainer.scaling.why_scale.reparametrisation import (
    compare_reparametrisation,
    matching_up_lr,
    relative_difference,
)
from explainer.scaling.why_scale.training import train_trunk
from explainer.scaling.why_scale.trunk import block_prefix
from explainer.scaling.why_scale.trunk_engine import trunk_engine

SHAPE = dict(width=16, depth=10, batch=8)
STEPS = 30
SGD_RTOL = 1e-3  # the bound; measured ~1e-7 (see the module)
S = 0.1


@pytest.fixture(scope="module")
def sgd():
    return compare_reparametrisation(S, **SHAPE, lr=0.05, steps=STEPS)


def test_sgd_scale_s_is_scale_1_with_up_init_s_and_up_lr_s_squared(sgd):
    print(sgd, sgd.max_relative)
    assert sgd.up_lr == pytest.approx(S * S)
    assert sgd.scaled.fate == sgd.folded.fate == "trained"
    assert np.isfinite(sgd.scaled.loss).all() and len(sgd.scaled.loss) == STEPS >= 30
    for name in ("loss", "residual_ratio", "step0_net_norm"):
        assert sgd.max_relative[name] <= SGD_RTOL, (name, sgd.max_relative)
    np.testing.assert_allclose(sgd.folded.dead_fraction, sgd.scaled.dead_fraction, atol=1e-3)
    np.testing.assert_allclose(sgd.folded.accuracy, sgd.scaled.accuracy, atol=1e-6)
    assert abs(sgd.folded.test_accuracy - sgd.scaled.test_accuracy) <= 1 / 360 + 1e-9
    assert "up_init=0.1, up_lr=0.01" in str(sgd)


def test_either_half_alone_is_another_run(sgd):
    """A small start alone, or a slow step alone, is far from scale=s: the test above can fail."""
    common = dict(**SHAPE, scale=1.0, lr=0.05, steps=STEPS, seed=0)
    start_only = train_trunk(**common, up_init=S)
    step_only = train_trunk(**common, up_lr=S * S)
    for half in (start_only, step_only):
        assert relative_difference(half.loss, sgd.scaled.loss) > 100 * SGD_RTOL


def test_the_gradient_reaching_up_is_scaled_and_the_rest_is_not():
    """At the start, scale=s and its reparametrisation give the same gradients to every branch
    conv, and the `up` conv's gradient of scale=s is s times the folded one's: so SGD moves
    the folded weights s*W by s * (s * g) = s**2 times as far."""
    engine = trunk_engine(16, 3, 2, True, 8, "sgd")
    x = tf.random.stateless_uniform((8, 8, 8, 1), seed=(1, 2))
    y = tf.constant([0, 1, 2, 3, 4, 5, 6, 7])
    grads = {}
    for label, scale, up_init in (("scaled", S, 1.0), ("folded", 1.0, S)):
        engine.reset(scale, 0.1, seed=0, up_init=up_init)
        with tf.GradientTape() as tape:
            loss = engine.loss_fn(y, engine.model(x, training=True)["logits"])
        grads[label] = dict(zip([v.path for v in engine.trainable],
                                tape.gradient(loss, engine.trainable), strict=True))
    up = f"{block_prefix(2)}Conv2d_1x1/kernel"
    branch = f"{block_prefix(2)}Branch_1__Conv2d_0b_3x3/kernel"
    np.testing.assert_allclose(grads["scaled"][up], S * grads["folded"][up], rtol=1e-4,
                               atol=1e-9)
    np.testing.assert_allclose(grads["scaled"][branch], grads["folded"][branch], rtol=1e-4,
                               atol=1e-9)


def test_adam_matches_with_up_lr_s_not_s_squared():
    """Adam divides each step by the gradient's running size, so the gradient's factor s
    cancels: its matching step multiplier is s."""
    assert matching_up_lr(S, "adam") == S and matching_up_lr(S, "sgd") == pytest.approx(S * S)
    shape = {**SHAPE, "depth": 3}  # the rule does not need depth; a new engine costs less
    adam = compare_reparametrisation(S, **shape, lr=0.003, steps=STEPS, optimizer="adam")
    wrong = train_trunk(**shape, scale=1.0, up_init=S, up_lr=S * S, lr=0.003, steps=STEPS,
                        optimizer="adam")
    print(adam, adam.max_relative, relative_difference(wrong.loss, adam.scaled.loss))
    matched = adam.max_relative["loss"]
    assert matched <= 2e-2, adam.max_relative
    assert relative_difference(wrong.loss, adam.scaled.loss) > 5 * matched


@pytest.mark.parametrize(("kwargs", "words"), [
    (dict(up_init=0), ("up_init", "> 0")), (dict(up_lr=-1), ("up_lr", "> 0")),
    (dict(up_lr=float("nan")), ("up_lr", "finite")), (dict(up_init="a"), ("up_init", "real")),
])
def test_bad_multipliers_are_refused_in_one_line(kwargs, words):
    with pytest.raises((ValueError, TypeError)) as err:
        train_trunk(width=16, depth=1, scale=1.0, lr=0.1, steps=1, **kwargs)
    assert all(w in str(err.value) for w in words) and "\n" not in str(err.value)
