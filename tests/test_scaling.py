"""scale_sweep: one branch run, every scale equal to a real forward of a block at that scale."""

from __future__ import annotations

import json
from functools import cache

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import explainer
from explainer.scaling.exact import direct_metrics, fast_metrics

FEW = [0.0, 0.1, 0.17, -0.3, 1.0]  # fewer than 8: the direct path
MANY = sorted({round(float(v), 3) for v in np.linspace(-0.5, 1.5, 41)} | {0.17})  # exact form


def real_numbers(block_at_s, x):
    """The metrics computed from a real forward of a block built with that scale."""
    tr = explainer.trace(block_at_s, x)
    net = tr["net"].value.astype(np.float64)
    out = tr["net_out"].value.astype(np.float64)
    act = block_at_s.residual_spec.activation
    f0 = {"relu": np.maximum(net, 0), "relu6": np.clip(net, 0, 6), None: net}[act]
    on = (lambda v: (v > 0) & (v < 6)) if act == "relu6" else (lambda v: v > 0)
    return {"net_out": tr["net_out"].value, "residual_ratio": tr.residual_ratio,
            "output_change": np.linalg.norm(out - f0) / np.linalg.norm(f0),
            "relu_flips": np.mean(on(tr["net_sum"].value) != on(tr["net"].value)),
            "net_out_mean": out.mean(), "net_out_std": out.std(), "net_out_max": out.max()}


def same_weights(block, scale):
    spec = block.residual_spec
    other = explainer.build_block35(spec.variant, scale=scale, activation=spec.activation,
                                    seed=spec.seed + 1)  # other seed: weights come from below
    explainer.set_block_weights(other, explainer.block_weights(block))
    return other


@cache
def _sweep_case(variant, activation):
    """The block and input of test_sweep_equals_real_forward (both paths use the same)."""
    block = explainer.build_block35(variant, scale=0.17, activation=activation, seed=2)
    x = explainer.sample_input(variant, batch=2, size=7, seed=5)
    x[0, 0, 0, :5] = -1.0  # a few negative inputs, so units can also switch off
    return block, x


@cache
def _real_at(variant, activation, scale):
    """real_numbers of a block built at ``scale`` holding the case's weights: built once for
    the direct path and the exact form."""
    block, x = _sweep_case(variant, activation)
    return real_numbers(same_weights(block, scale), x)


@pytest.mark.parametrize("variant", ["v1", "v2"])
@pytest.mark.parametrize("activation", ["relu", "relu6", None])
@pytest.mark.parametrize("scales", [FEW, MANY + [40.0]], ids=["direct", "exact-form"])
def test_sweep_equals_real_forward(variant, activation, scales):
    block, x = _sweep_case(variant, activation)
    sweep = explainer.scale_sweep(block, x, scales)
    checked = [0.0, 0.17, -0.3, 1.0] + ([40.0] if 40.0 in scales else [])  # 40: relu6 clips
    for s in checked:
        i = scales.index(s)
        real = _real_at(variant, activation, s)
        np.testing.assert_allclose(sweep.net_out(s), real["net_out"], atol=2e-5)
        for key in explainer.ScaleSweep.names:
            assert sweep[key][i] == pytest.approx(real[key], rel=1e-4, abs=2e-6), (key, s)


def test_relu6_clip_is_reproduced(block_v1, x_v1):
    block = explainer.build_block35("v1", scale=40.0, activation="relu6", seed=0)
    sweep = explainer.scale_sweep(block, x_v1, [40.0])
    scaled = sweep.scaled_up(40.0)
    assert np.abs(scaled).max() == 6.0  # the clip is active at this scale
    assert sweep.residual_ratio[0] < 40.0 * explainer.scale_sweep(
        block, x_v1, [1.0]).residual_ratio[0]  # so the ratio is no longer linear
    np.testing.assert_allclose(sweep.net_out(40.0), explainer.forward(block, x_v1), atol=1e-5)


@pytest.mark.parametrize("scales", [FEW, MANY])
def test_residual_ratio_exactly_linear(block_v1, x_v1, scales):
    sweep = explainer.scale_sweep(block_v1, x_v1, scales)
    unit = explainer.scale_sweep(block_v1, x_v1, [1.0]).residual_ratio[0]
    np.testing.assert_allclose(sweep.residual_ratio, np.abs(scales) * unit, rtol=1e-13, atol=0)
    tr = explainer.trace(block_v1, x_v1)  # and it is the trace's ratio at the block's scale
    assert unit * 0.17 == pytest.approx(tr.residual_ratio, rel=1e-6)


def test_metrics_by_name_aligned_with_scales(block_v1, x_v1):
    scales = [1.0, 0.0, 0.17, 0.17, 0.5]  # order and repeats are kept
    sweep = explainer.scale_sweep(block_v1, x_v1, scales)
    assert sweep.scales.tolist() == scales and len(sweep) == 5
    for name in explainer.ScaleSweep.names:
        assert sweep[name].shape == (5,) and sweep[name] is getattr(sweep, name)
    assert sweep.relu_flips[1] == 0.0 and sweep.output_change[1] == 0.0
    assert sweep.residual_ratio[2] == sweep.residual_ratio[3]
    with pytest.raises(KeyError, match="no metric 'ratio'"):
        sweep["ratio"]
    doc = json.loads(json.dumps(sweep.to_dict()))
    assert doc["metrics"]["residual_ratio"] == sweep.residual_ratio.tolist()
    assert f"   0.170{sweep.residual_ratio[2]:>10.4f}" in str(sweep)


def test_at_matches_sweep(block_v2, x_v2):
    sweep = explainer.scale_sweep(block_v2, x_v2, MANY)
    for i in (0, 13, 40):
        at = sweep.at(MANY[i])
        for name in explainer.ScaleSweep.names:
            assert at[name] == pytest.approx(sweep[name][i], rel=1e-6, abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000),
       scales=st.lists(st.integers(-300, 300).map(lambda k: k / 100), min_size=8,
                       max_size=30),
       activation=st.sampled_from(["relu", None]))
def test_exact_form_equals_direct_pass(seed, scales, activation):
    rng = np.random.default_rng(seed)
    net = np.maximum(rng.standard_normal((2, 4, 4, 8)), -0.2).astype(np.float32)
    net[rng.random(net.shape) < 0.3] = 0.0  # exact zeros, as after a ReLU
    up = rng.standard_normal(net.shape).astype(np.float32)
    up[rng.random(up.shape) < 0.1] = 0.0
    fast = fast_metrics(net, up, np.array(scales), activation)
    direct = direct_metrics(net, up, np.array(scales), activation)
    for name in direct:  # the direct pass rounds net + s*up to float32, as the block does
        np.testing.assert_allclose(fast[name], direct[name], rtol=1e-5, atol=1e-7,
                                   err_msg=name)
    np.testing.assert_array_equal(fast["relu_flips"], direct["relu_flips"])


def test_layerscale_vector_and_activation_override(block_v1, x_v1):
    constant = explainer.scale_sweep(block_v1, x_v1, MANY, channel_scale=np.full(256, 0.5))
    scalar = explainer.scale_sweep(block_v1, x_v1, [0.5 * s for s in MANY])
    np.testing.assert_allclose(constant.output_change, scalar.output_change, rtol=1e-5)
    lam = np.linspace(0.0, 1.0, 256)
    sweep = explainer.scale_sweep(block_v1, x_v1, [0.3], channel_scale=lam, activation=None)
    tr = explainer.trace(block_v1, x_v1)
    expected = tr["net"].value + np.float32(0.3) * (tr["up"].value * lam.astype(np.float32))
    np.testing.assert_allclose(sweep.net_out(0.3), expected, atol=1e-6)
    assert sweep.activation is None
    # without an activation the table says what its "flips" column counts, and with one not
    assert "no activation: flips counts the units whose net + s*up" in str(sweep)
    assert "no activation" not in str(scalar)
    # ... and, nothing being cut off, its output change is the residual ratio
    np.testing.assert_allclose(sweep.output_change, sweep.residual_ratio, rtol=1e-5)


@pytest.mark.parametrize(("scales", "error", "fragment"), [
    ([0.1, float("nan")], ValueError, "scales[1]: got nan"),
    ([float("inf")], ValueError, "scales[0]: got inf"),
    ("0.1,0.2", TypeError, "scales: got '0.1,0.2'"),
    (["0.1"], TypeError, "scales[0]: got '0.1'"),
    ([0.1, "abc"], TypeError, "scales[1]: got 'abc'"),
    ([], ValueError, "scales: got an empty list"),
    (np.array([]), ValueError, "scales: got an empty list"),
    (None, TypeError, "scales: got None"),
    ([True], TypeError, "scales[0]: got True"),
])
def test_bad_scales_rejected_clearly(block_v1, x_v1, scales, error, fragment):
    with pytest.raises(error) as info:
        explainer.scale_sweep(block_v1, x_v1, scales)
    assert fragment in str(info.value) and "expected" in str(info.value)


def test_other_bad_arguments(block_v1, x_v1):
    with pytest.raises(TypeError, match="block: got str"):
        explainer.scale_sweep("block", x_v1, [0.1])
    with pytest.raises(ValueError, match="x: got 320 channels"):
        explainer.scale_sweep(block_v1, np.zeros((1, 3, 3, 320), np.float32), [0.1])
    with pytest.raises(ValueError, match=r"channel_scale: got shape \(3,\)"):
        explainer.scale_sweep(block_v1, x_v1, [0.1], channel_scale=[1, 2, 3])
    with pytest.raises(TypeError, match="channel_scale: got 'abc'"):
        explainer.scale_sweep(block_v1, x_v1, [0.1], channel_scale="abc")
    with pytest.raises(ValueError, match="activation: got 'tanh'"):
        explainer.scale_sweep(block_v1, x_v1, [0.1], activation="tanh")
    sweep = explainer.scale_sweep(block_v1, x_v1, [0.1])
    with pytest.raises(ValueError, match="scale: got nan"):
        sweep.at(float("nan"))
    x_nan = np.ones((1, 3, 3, 256), np.float32)
    x_nan[..., 0] = np.nan
    with pytest.raises(ValueError, match="x: got 9 values that are NaN"):
        explainer.scale_sweep(block_v1, x_nan, [0.1])
