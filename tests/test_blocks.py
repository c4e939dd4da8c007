"""The Keras block is faithful: parameter counts, shapes, names, the oracle, determinism."""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer.core.reference import block_forward


@pytest.mark.parametrize(("variant", "params", "cin", "mixed"),
                         [("v1", 77_632, 256, 96), ("v2", 123_408, 320, 128)])
def test_param_count_and_widths(variant, params, cin, mixed):
    block = explainer.build_block35(variant)
    assert block.count_params() == params
    shapes = explainer.weight_shapes(variant)
    conv = sum(int(np.prod(s)) for n, s in shapes.items() if "BatchNorm" not in n)
    bn = sum(int(np.prod(s)) for n, s in shapes.items() if "BatchNorm" in n)
    assert conv + bn == params
    if variant == "v1":
        assert (conv, bn) == (77_056, 576)
    assert shapes["Conv2d_1x1/weights"] == (1, 1, mixed, cin)
    # scale is a constant, not a weight: no variable carries it
    assert not any("scale" in v.path for v in block.weights)


def test_spatial_size_is_free(block_v1):
    for h, w in [(35, 35), (8, 13), (1, 1)]:
        x = explainer.sample_input("v1", batch=1, size=1) if h == 1 else np.zeros(
            (1, h, w, 256), np.float32)
        assert explainer.forward(block_v1, x).shape == (1, h, w, 256)


@pytest.mark.parametrize("variant", ["v1", "v2"])
@pytest.mark.parametrize("scale", [0.0, 0.17, 1.0])
@pytest.mark.parametrize("activation", ["relu", None, "relu6"])
def test_block_equals_numpy_oracle(variant, scale, activation):
    block = explainer.build_block35(variant, scale=scale, activation=activation, seed=3)
    # scaled up so that relu6 really clips somewhere at scale 1
    x = explainer.sample_input(variant, batch=2, size=7, seed=4) * 4.0
    got = explainer.forward(block, x)
    want = block_forward(x, explainer.block_weights(block), variant, scale, activation)
    rel = np.abs(got - want).max() / np.abs(want).max()
    assert rel < 1e-4
    if activation == "relu6" and scale == 1.0:
        assert want.max() == 6.0  # the clip is exercised, not vacuous


def test_oracle_detects_a_swapped_beta_and_mean(x_v1, block_v1):
    weights = explainer.block_weights(block_v1)
    swapped = dict(weights)
    s = "Branch_1/Conv2d_0b_3x3/BatchNorm"
    swapped[f"{s}/beta"], swapped[f"{s}/moving_mean"] = weights[f"{s}/moving_mean"], weights[
        f"{s}/beta"]
    good = block_forward(x_v1, weights, "v1")
    bad = block_forward(x_v1, swapped, "v1")
    assert np.abs(good - bad).max() > 1e-3


def test_weight_round_trip_is_exact(block_v2):
    weights = explainer.block_weights(block_v2)
    other = explainer.build_block35("v2", seed=99)
    assert any(not np.array_equal(weights[k], v) for k, v in explainer.block_weights(other).items())
    explainer.set_block_weights(other, weights)
    back = explainer.block_weights(other)
    assert back.keys() == weights.keys()
    assert all(np.array_equal(back[k], weights[k]) for k in weights)
    assert all(back[k].dtype == np.float32 for k in back)


def test_bn_statistics_are_not_initial_values(block_v1):
    w = explainer.block_weights(block_v1)
    assert np.abs(w["Branch_0/Conv2d_1x1/BatchNorm/moving_mean"]).max() > 0.01
    assert np.abs(w["Branch_0/Conv2d_1x1/BatchNorm/moving_variance"] - 1).max() > 0.01
    assert np.abs(w["Conv2d_1x1/biases"]).max() > 0.01


def test_same_seed_same_outputs_different_seed_differs(x_v1):
    a = explainer.forward(explainer.build_block35("v1", seed=5), x_v1)
    b = explainer.forward(explainer.build_block35("v1", seed=5), x_v1)
    c = explainer.forward(explainer.build_block35("v1", seed=6), x_v1)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)
    assert np.array_equal(explainer.sample_input(seed=2), explainer.sample_input(seed=2))


def test_scale_is_a_constant_in_the_graph(block_v1):
    assert block_v1.residual_spec.scale == 0.17
    assert block_v1.get_layer("scaled_up").scale == 0.17


def test_device_auto_and_cpu(x_v1):
    block = explainer.build_block35("v1", device="cpu")
    assert block.residual_spec.device == "/CPU:0"
    tr = explainer.trace(block, x_v1)
    assert all(r.device.endswith("CPU:0") for r in tr)


def test_gpu_without_gpu_is_a_clear_error():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU; the error path cannot happen here")
    with pytest.raises(ValueError, match=r"device: got 'gpu' but TensorFlow found no GPU "
                                         r"\(found: \[.*CPU"):
        explainer.build_block35("v1", device="gpu")


@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_description_in_words_matches_the_built_model(variant):
    text = explainer.describe_block(variant, scale=0.2, activation="relu6")
    block = explainer.build_block35(variant)
    mixed = block.get_layer("mixed").output.shape[-1]
    assert f"`mixed` with {mixed} channels" in text
    assert f"1x1 conv {mixed} -> {block.input.shape[-1]} with bias" in text
    for conv in block.residual_spec.convs:
        layer = block.get_layer(conv.scope.replace("/", "__"))
        assert f"{conv.size} conv {layer.filters} ({conv.name})" in text
        assert tuple(layer.kernel_size) == conv.kernel
    assert "scale = 0.2: clipped to [-6, 6]" in text and "relu6(net)" in text
    assert "no activation" in explainer.describe_block(variant, activation=None)


@pytest.mark.parametrize("activation", ["relu", None, "relu6"])
def test_one_tail_in_numpy_and_keras(activation):
    """The numpy ``tail`` and the Keras ``residual_tail`` give the block's own last line, and
    relu6 clips ``scale * up`` before the add (values beyond 6 are there to be clipped)."""
    from explainer.core.blocks import residual_tail
    from explainer.core.reference import tail

    block = explainer.build_block35("v1", scale=2.0, activation=activation, seed=1)
    tr = explainer.trace(block, explainer.sample_input("v1", batch=1, size=5, seed=2) * 8.0)
    net, up = tr["net"].value, tr["up"].value
    parts = tail(net, up, 2.0, activation, parts=True)
    for name in ("scaled_up", "net_sum", "net_out"):
        np.testing.assert_allclose(parts[name], tr[name].value, rtol=1e-6, atol=1e-5)
    scaled_up, net_out = residual_tail(net, up, 2.0, activation)
    np.testing.assert_allclose(np.asarray(net_out), tr["net_out"].value, rtol=1e-6, atol=1e-5)
    if activation == "relu6":
        assert np.abs(2.0 * up).max() > 6 and np.abs(parts["scaled_up"]).max() == 6.0
        assert np.asarray(scaled_up).max() <= 6.0


def test_each_argument_is_checked_once(monkeypatch):
    """build_block35 checks its scale itself; the spec it hands on is not checked again."""
    from explainer.core import blocks

    seen = []
    real = blocks.check_scale
    monkeypatch.setattr(blocks, "check_scale", lambda v, *a, **k: seen.append(v) or real(v))
    explainer.build_block35("v1", scale=0.3)
    explainer.build_block("block17", "v1", scale=0.2)
    assert seen == [0.3, 0.2]
    with pytest.raises(ValueError, match="scale"):
        explainer.build_block35("v1", scale=float("nan"))
