"""The "why scale" trunk: its block is block35's maths, training is deterministic, the
died / diverged detectors, bad input, and a resumable grid."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import explainer
from explainer.core.reference import block35_forward
from explainer.core.schedule import BLOCK35_SCALE
from explainer.scaling.experiment import GridConfig, partial_path, run_grid
from explainer.scaling.training import death_step, digits_split, first_nonfinite, train_trunk
from explainer.scaling.trunk import (
    block_prefix,
    block_reference_weights,
    build_trunk,
    dead_fraction,
)


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
    weights = block_reference_weights(model, index)
    expected = block35_forward(net, weights, "v1", BLOCK35_SCALE, "relu", intermediates=True)
    np.testing.assert_allclose(block_out, expected["net_out"], rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(out["scaled_ups"][index - 1].numpy(), expected["scaled_up"],
                               rtol=1e-4, atol=1e-4)


def test_layerscale_block_multiplies_up_per_channel(digits_batch):
    model = build_trunk(256, 1, "layerscale", seed=5)
    _randomise_batchnorm(model, seed=6)
    vector = np.random.default_rng(7).uniform(-1, 1, 256).astype("float32")
    model.get_layer(f"{block_prefix(1)}scaled_up").scale.assign(vector)
    out = model(digits_batch, training=False)
    net = out["nets"][0].numpy()
    parts = block35_forward(net, block_reference_weights(model, 1), "v1", 1.0, "relu",
                            intermediates=True)
    expected = np.maximum(parts["net"] + vector * parts["up"], 0.0)
    np.testing.assert_allclose(out["last"].numpy(), expected, rtol=1e-4, atol=1e-4)


def test_rezero_starts_as_identity_plus_relu(digits_batch):
    model = build_trunk(256, 2, "rezero", seed=1)
    out = model(digits_batch, training=False)
    np.testing.assert_array_equal(out["scaled_ups"][0].numpy(), 0.0)
    # the stem ends in a ReLU, so relu(net + 0 * up) is net itself
    np.testing.assert_array_equal(out["last"].numpy(), out["nets"][0].numpy())


def test_dead_fraction_of_a_killed_last_block(digits_batch):
    """A last block whose `up` bias is -1000 at scale 1 outputs only zeros: dead fraction 1."""
    model = build_trunk(256, 2, 1.0, seed=0)
    up = model.get_layer(f"{block_prefix(2)}Conv2d_1x1")
    up.bias.assign(np.full(256, -1000.0, dtype="float32"))
    out = model(digits_batch, training=False)
    assert float(dead_fraction(out["last"])) == 1.0
    assert 0.0 < float(dead_fraction(out["nets"][1])) < 1.0  # block 1 is alive


def test_same_seed_same_numbers():
    kwargs = dict(width=256, depth=2, scale=1.0, lr=0.1, steps=6, stem_stride=2, batch=16)
    first, second = train_trunk(**kwargs, seed=1), train_trunk(**kwargs, seed=1)
    for name in ("loss", "accuracy", "grad_norm", "residual_ratio", "dead_fraction"):
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)
    assert first.test_accuracy == second.test_accuracy
    other = train_trunk(**kwargs, seed=2)
    assert not np.array_equal(first.loss, other.loss)


def test_run_record_shapes_and_step_zero_is_the_initialised_trunk():
    run = explainer.train_trunk(256, 3, 0.1, 0.05, 5, stem_stride=2, batch=16)
    assert run.loss.shape == run.accuracy.shape == run.dead_fraction.shape == (5,)
    assert run.grad_norm.shape == run.residual_ratio.shape == (5, 3)
    assert not run.diverged and not run.died and 0.0 <= run.test_accuracy <= 1.0
    # step 0 is measured before any update: at 10x the scale, block 1's ratio is 10x
    ten = explainer.train_trunk(256, 3, 1.0, 0.05, 1, stem_stride=2, batch=16)
    assert ten.residual_ratio[0, 0] == pytest.approx(10 * run.residual_ratio[0, 0], rel=1e-5)
    assert math.log(10) == pytest.approx(run.loss[0], rel=0.3)  # ten classes, near chance


def test_first_nonfinite_on_constructed_losses():
    assert first_nonfinite([2.3, 1.0, 0.5]) is None
    assert first_nonfinite([2.3, np.inf, np.nan]) == 1
    assert first_nonfinite([2.3, 1.0, np.nan, np.nan]) == 2
    assert first_nonfinite([np.nan]) == 0


def test_death_step_on_constructed_dead_fractions():
    assert death_step([0.5, 0.6, 0.7]) is None
    assert death_step([0.5, 0.995, 0.5, 0.99, 1.0]) == 3  # from step 3 to the end
    assert death_step([1.0, 1.0]) == 0
    assert death_step([0.5, 0.999, 0.98]) is None  # it came back: not dead at the end
    assert death_step([0.5, 0.999, np.nan, np.nan]) == 1  # NaN after a divergence: unmeasured
    assert death_step([0.5, 0.9], threshold=0.9) == 1


def test_an_overflowing_learning_rate_diverges_and_stops():
    run = train_trunk(256, 2, 1.0, 1e30, 10, stem_stride=2, batch=16)
    assert run.diverged and run.diverged_step is not None and run.diverged_step < 10
    assert not np.isfinite(run.loss[run.diverged_step])
    assert np.isnan(run.loss[run.diverged_step + 1:]).all()  # the run stopped there
    assert math.isnan(run.test_accuracy)
    assert json.dumps(run.to_dict())  # NaN stored as null: valid JSON


def test_a_huge_learning_rate_kills_the_last_block():
    """lr 1e6 does not overflow: its first update pushes every unit of the last block below
    zero, and a ReLU that outputs 0 everywhere passes no gradient back, so it stays dead."""
    run = train_trunk(256, 2, 1.0, 1e6, 12, stem_stride=2, batch=16)
    assert run.died and not run.diverged
    assert run.died_step is not None and run.died_step <= 5
    assert (run.dead_fraction[run.died_step:] >= 0.99).all()
    assert run.dead_fraction[0] < 0.9  # alive as initialised


@pytest.mark.parametrize("kwargs, word", [
    (dict(scale="big"), "scale"), (dict(scale=float("nan")), "scale"),
    (dict(width=0), "width"), (dict(depth=1.5), "depth"), (dict(lr=-0.1), "lr"),
    (dict(steps=0), "steps"), (dict(optimizer="rmsprop"), "optimizer"), (dict(seed=-1), "seed"),
])
def test_bad_input_names_the_argument(kwargs, word):
    args = dict(width=256, depth=1, scale=1.0, lr=0.1, steps=1) | kwargs
    with pytest.raises((ValueError, TypeError), match=word):
        train_trunk(**args)


def test_grid_resumes_after_an_interruption(tmp_path):
    config = GridConfig(widths=(256,), depth=1, scales=(1.0,), lrs=(0.1, 0.2), steps=2,
                        seeds=(0,), batch=8)
    out = tmp_path / "grid.json"
    seen = []

    def interrupt(key, run):
        seen.append((key, run is None))
        raise KeyboardInterrupt  # after the first run has been written to the partial file

    with pytest.raises(KeyboardInterrupt):
        run_grid(config, out, on_run=interrupt)
    assert partial_path(out).exists() and not out.exists()
    resumed = []
    document = run_grid(config, out, on_run=lambda key, run: resumed.append((key, run is None)))
    assert resumed == [(seen[0][0], True), ("w256_s1_lr0.2_seed0", False)]
    assert [r["key"] for r in document["runs"]] == ["w256_s1_lr0.1_seed0", "w256_s1_lr0.2_seed0"]
    assert not partial_path(out).exists()
    assert json.loads(out.read_text())["config_hash"] == config.hash()
