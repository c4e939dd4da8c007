"""The "why scale" trunk and its training: the block is block35's maths, one compiled trunk
serves every scale and seed, determinism (in a fresh process too: test_fresh_process.py), the
died / diverged / stopped detectors, and bad or unbounded input refused at once."""

from __future__ import annotations

import json
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explainer
from explainer.core.reference import block_forward
from explainer.core.schedule import BLOCK35_SCALE
from explainer.scaling.why_scale.training import (
    DEAD_PATIENCE,
    PARAMETERS,
    TrunkRun,
    death_step,
    digits_split,
    train_trunk,
)
from explainer.scaling.why_scale.trunk import (
    block_prefix,
    block_reference_weights,
    build_trunk,
    initial_weights,
)

SMALL = dict(width=16, depth=2, stem_stride=2, batch=8)  # cheap; the maths is the same


def _randomise_batchnorm(model, seed: int) -> None:
    """Non-trivial BatchNorm statistics and betas, so a swapped mean or variance shows."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if layer.name.endswith("__BatchNorm"):
            n = layer.beta.shape[0]
            layer.beta.assign(rng.normal(0.0, 0.3, n).astype("float32"))
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2.0, n).astype("float32"))


@pytest.fixture(scope="module")
def digits_batch():
    x_train, *_ = digits_split()
    return x_train[:4]


@pytest.mark.parametrize("index", [1, 2])
def test_trunk_block_is_block35_v1(index, digits_batch):
    """Each residual block of a 256-wide trunk computes what the numpy block35 v1 oracle
    computes from the block's own weights (inference BatchNorm, scale 0.17, ReLU)."""
    model = build_trunk(256, 2, BLOCK35_SCALE, seed=3)
    _randomise_batchnorm(model, seed=4)
    out = model(digits_batch, training=False)
    net = out["nets"][index - 1].numpy()
    block_out = (out["nets"][index] if index < 2 else out["last"]).numpy()
    expected = block_forward(net, block_reference_weights(model, index), "v1", BLOCK35_SCALE,
                             "relu", intermediates=True)
    np.testing.assert_allclose(block_out, expected["net_out"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["scaled_ups"][index - 1].numpy(), expected["scaled_up"],
                               rtol=1e-4, atol=1e-4)


def test_layerscale_block_multiplies_up_per_channel(digits_batch):
    model = build_trunk(256, 1, "layerscale", seed=5)
    _randomise_batchnorm(model, seed=6)
    vector = np.random.default_rng(7).uniform(-1, 1, 256).astype("float32")
    model.get_layer(f"{block_prefix(1)}scaled_up").channel_gain.assign(vector)
    out = model(digits_batch, training=False)
    parts = block_forward(out["nets"][0].numpy(), block_reference_weights(model, 1), "v1", 1.0,
                          "relu", intermediates=True)
    expected = np.maximum(parts["net"] + vector * parts["up"], 0.0)
    np.testing.assert_allclose(out["last"].numpy(), expected, rtol=1e-4, atol=1e-4)


def test_rezero_starts_as_identity_plus_relu(digits_batch):
    model = build_trunk(64, 2, "rezero", seed=1)
    out = model(digits_batch, training=False)
    np.testing.assert_array_equal(out["scaled_ups"][0].numpy(), 0.0)
    # the stem ends in a ReLU, so relu(net + 0 * up) is net itself
    np.testing.assert_array_equal(out["last"].numpy(), out["nets"][0].numpy())


def test_initial_weights_come_from_the_seed_alone():
    model = build_trunk(16, 2, 1.0, seed=0)
    first, again = initial_weights(model, 1.0, 0), initial_weights(model, 0.1, 0)
    other = initial_weights(model, 1.0, 1)
    kernels = [i for i, w in enumerate(model.weights) if w.path.endswith("kernel")]
    for i in kernels:
        np.testing.assert_array_equal(first[i], again[i])  # the scale changes only the gains
        assert not np.array_equal(first[i], other[i])
        fan = np.prod(first[i].shape[:-1]) + np.prod(first[i].shape[:-2] or (1,)) * \
            first[i].shape[-1]
        assert np.abs(first[i]).max() <= np.sqrt(6 / fan) + 1e-7  # Glorot-uniform's limit
    gains = {w.path.rsplit("/", 1)[-1]: v for w, v in zip(model.weights, again, strict=True)
             if "gain" in w.path}
    assert float(gains["gain"]) == np.float32(0.1) and (gains["channel_gain"] == 1.0).all()


def test_same_arguments_same_numbers_whatever_ran_before():
    """One compiled trunk serves every run of its shape: a run after other scales, seeds and
    learning rates equals the same run on a fresh trunk, bit for bit."""
    kwargs = dict(**SMALL, scale=1.0, lr=0.1, steps=6, seed=1)
    first = train_trunk(**kwargs)
    train_trunk(**{**kwargs, "scale": "layerscale", "seed": 2, "lr": 0.3})
    train_trunk(**{**kwargs, "scale": "rezero"})
    second = train_trunk(**kwargs)
    for name in TrunkRun.ARRAYS:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    assert first.test_accuracy == second.test_accuracy
    assert not np.array_equal(first.loss, train_trunk(**{**kwargs, "seed": 2}).loss)


def test_run_record_and_step_zero_is_the_initialised_trunk():
    run = explainer.train_trunk(**SMALL, scale=0.1, lr=0.05, steps=5)
    assert run.loss.shape == run.accuracy.shape == run.dead_fraction.shape == (5,)
    assert run.step0_grad_norm.shape == run.step0_residual_ratio.shape == (2,)
    assert run.step0_net_norm.shape == (3,)
    assert run.fate == "trained" and 0.0 <= run.test_accuracy <= 1.0
    assert run.arguments() == {name: run[name] for name in PARAMETERS}
    again = TrunkRun.from_dict(json.loads(json.dumps(run.to_dict(digits=17))))
    assert again.arguments() == run.arguments()
    np.testing.assert_array_equal(again.loss, run.loss)
    # step 0 is measured before any update: at 10x the scale, block 1's ratio is 10x
    ten = explainer.train_trunk(**SMALL, scale=1.0, lr=0.05, steps=1)
    assert ten.step0_residual_ratio[0] == pytest.approx(10 * run.step0_residual_ratio[0],
                                                        rel=1e-5)
    assert ten.growth > run.growth  # a larger scale grows the stream more
    assert math.log(10) == pytest.approx(run.loss[0], rel=0.3)  # ten classes, near chance


def test_death_step_on_constructed_dead_fractions():
    assert death_step([0.5, 0.6, 0.7]) is None
    assert death_step([0.5, 0.995, 0.5, 0.99, 1.0]) == 3  # from step 3 to the end
    assert death_step([1.0, 1.0]) == 0
    assert death_step([0.5, 0.999, 0.98]) is None  # it came back: not dead at the end
    assert death_step([0.5, 0.999, np.nan, np.nan]) == 1  # NaN: not measured
    assert death_step([0.5, 0.9], threshold=0.9) == 1


def test_an_overflowing_learning_rate_diverges_and_stops():
    run = train_trunk(**SMALL, scale=1.0, lr=1e30, steps=10)
    assert run.diverged and run.diverged_step is not None and run.diverged_step < 10
    assert not np.isfinite(run.loss[run.diverged_step])
    assert np.isnan(run.loss[run.diverged_step + 1:]).all()  # the run stopped there
    assert math.isnan(run.test_accuracy) and "undefined" in str(run)
    assert json.dumps(run.to_dict(), allow_nan=False)  # NaN stored as null: strict JSON


def test_a_dead_run_stops_once_its_death_is_final():
    """lr 1e3 does not overflow here: its first updates push every unit of the last block
    below zero, and a ReLU that outputs 0 everywhere passes no gradient back, so it stays dead.
    With stop_when_dead the run ends DEAD_PATIENCE steps into the all-zero stretch."""
    kwargs = dict(**SMALL, scale=1.0, lr=1e3, steps=DEAD_PATIENCE + 15)
    full = train_trunk(**kwargs)
    stopped = train_trunk(**kwargs, stop_when_dead=True)
    assert full.died and full.stopped_step is None and full.dead_fraction[0] < 0.9
    zero = int(np.flatnonzero(full.dead_fraction < 1.0)[-1]) + 1  # all zeros from here on
    assert stopped.stopped_step == zero + DEAD_PATIENCE
    assert stopped.died and stopped.died_step == full.died_step
    np.testing.assert_array_equal(stopped.loss[:stopped.stopped_step],
                                  full.loss[:stopped.stopped_step])
    assert np.isnan(stopped.loss[stopped.stopped_step:]).all()
    assert "stopped at step" in str(stopped)


def test_a_trunk_without_batchnorm_has_biased_branches():
    model = build_trunk(16, 1, 0.1, batchnorm=False)
    assert not [layer for layer in model.layers if "BatchNorm" in layer.name]
    assert model.get_layer(f"{block_prefix(1)}Branch_0__Conv2d_1x1").use_bias
    run = train_trunk(**SMALL, scale=0.1, lr=0.05, steps=2, batchnorm=False)
    assert not run.batchnorm and "no BatchNorm" in run.describe()


@pytest.mark.parametrize("kwargs, word", [
    (dict(scale="big"), "scale"), (dict(scale=float("nan")), "scale"),
    (dict(width=0), "width"), (dict(depth=1.5), "depth"), (dict(lr=-0.1), "lr"),
    (dict(steps=0), "steps"), (dict(optimizer="rmsprop"), "optimizer"), (dict(seed=-1), "seed"),
    (dict(seed=2**32), "seed"), (dict(stem_stride=3), "stem_stride"),
    (dict(batchnorm="yes"), "batchnorm"), (dict(stop_when_dead=1), "stop_when_dead"),
])
def test_bad_input_names_the_argument(kwargs, word):
    args = dict(width=16, depth=1, scale=1.0, lr=0.1, steps=1) | kwargs
    with pytest.raises((ValueError, TypeError), match=word):
        train_trunk(**args)


@pytest.mark.parametrize("kwargs, words", [
    (dict(depth=10**9), ("depth", "too large")),
    (dict(width=10**400), ("width", "too large")),
    (dict(steps=10**7), ("steps", "too large")),
    (dict(batch=10**9), ("batch", "too large")),
    (dict(width=8192, depth=100, batch=1437), ("memory", "budget")),
    (dict(width=2048, depth=30, steps=100_000), ("multiply-adds", "at most")),
])
def test_unbounded_training_is_refused_at_once_in_one_sentence(kwargs, words):
    args = dict(width=16, depth=1, scale=1.0, lr=0.1, steps=1) | kwargs
    started = time.perf_counter()
    with pytest.raises(ValueError) as err:
        train_trunk(**args)
    assert time.perf_counter() - started < 1.0
    message = str(err.value)
    assert all(word in message for word in words), message
    assert "\n" not in message and len(message) < 300


@settings(max_examples=60, deadline=None)
@given(name=st.sampled_from(["width", "depth", "steps", "batch", "seed", "stem_stride"]),
       value=st.one_of(st.integers(min_value=-10**600, max_value=-1),
                       st.integers(min_value=10**6 + 1, max_value=10**600)))
def test_integers_past_their_bounds_are_one_sentence_before_any_work(name, value):
    """Every integer argument of train_trunk, from -10**600 to 10**600 outside its range:
    a ValueError naming it, at once (nothing is built, so no OverflowError, no allocation)."""
    args = dict(width=16, depth=1, scale=1.0, lr=0.1, steps=1) | {name: value}
    if name == "seed" and 0 <= value < 2**32:
        value = 2**32  # inside the seed's range: not a bad value
        args[name] = value
    started = time.perf_counter()
    with pytest.raises(ValueError, match=name) as err:
        train_trunk(**args)
    assert time.perf_counter() - started < 1.0
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
