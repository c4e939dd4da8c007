"""keras.applications' InceptionResNetV2 == ours: its block35_k, block17_k and block8_k hold the
block's weights under Keras layer names, and run as our block runs.

One model for the whole file (building it costs seconds): non-trivial BatchNorm statistics and
biases written straight into the Keras layers of block35_1 and block35_10, our seeded weights
into block17_1, block17_20, block8_9 and block8_10; the round trip writes into block35_5. The
file is one xdist group (tests/xdist_groups.py), so the model is built once per session.
"""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer import port
from explainer.core.blocks import build_block, build_block8, build_block17
from explainer.core.schedule import SCHEDULE
from explainer.core.spec import UP_SCOPE
from explainer.core.weight_tables import seeded_weights, weight_shapes


@pytest.fixture(scope="module")
def keras_apps():
    """InceptionResNetV2 built once (weights=None: offline), with the weights above."""
    import keras

    model = keras.applications.InceptionResNetV2(weights=None)
    rng = np.random.default_rng(7)
    for index in (1, 10):
        sub = port.keras_apps_block(model, index).submodel()
        for layer in sub.layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                n = layer.beta.shape[0]
                layer.beta.assign(rng.normal(0, 0.1, n))
                layer.moving_mean.assign(rng.normal(0, 0.2, n))
                layer.moving_variance.assign(rng.uniform(0.5, 2.0, n))
        bias = model.get_layer(f"block35_{index}_conv").bias
        bias.assign(rng.normal(0, 0.1, bias.shape))
    for kind, index in (("block17", 1), ("block17", 20), ("block8", 9), ("block8", 10)):
        port.to_keras_applications(seeded_weights("v2", index, kind), model, index, block=kind)
    return model


# ------------------------------------------------------------------ block35
@pytest.mark.parametrize("index", [1, 10])
def test_keras_applications_block_equals_ours(keras_apps, index):
    found = port.keras_apps_block(keras_apps, index)
    assert found.scale == pytest.approx(0.17) and found.activation == "relu"
    assert found.layer_names[UP_SCOPE] == f"block35_{index}_conv"  # not block35_1 for 10
    assert "CustomScaleLayer" in found.layer_names["scale"]
    x = explainer.sample_input("v2", batch=2, size=35, seed=index)
    theirs = np.asarray(found.submodel()(x, training=False))
    ours = explainer.forward(port.from_keras_applications(keras_apps, index), x)
    print(f"keras apps block35_{index} vs ours: {np.max(np.abs(theirs - ours)):.2e}")
    np.testing.assert_allclose(ours, theirs, atol=1e-5)
    check = port.compare_keras_applications(keras_apps, index)
    assert check.net_out <= 1e-5 and "copied exactly: True" in check.notes[0]


def test_block35_1_and_block35_10_are_different_blocks(keras_apps):
    one = explainer.block_weights(port.from_keras_applications(keras_apps, 1))
    ten = explainer.block_weights(port.from_keras_applications(keras_apps, 10))
    for name in weight_shapes("v2"):
        assert not np.array_equal(one[name], ten[name]), name


def test_to_keras_applications_round_trip(keras_apps):
    weights = seeded_weights("v2", seed=11)
    port.to_keras_applications(weights, keras_apps, 5)
    back = explainer.block_weights(port.from_keras_applications(keras_apps, 5))
    assert all(np.array_equal(back[n], weights[n]) for n in weights)
    ours = explainer.build_block35("v2", 0.17, "relu", seed=11)
    x = explainer.sample_input("v2", batch=1, size=35, seed=3)
    theirs = np.asarray(port.keras_apps_block(keras_apps, 5).submodel()(x, training=False))
    np.testing.assert_allclose(explainer.forward(ours, x), theirs, atol=1e-5)


@pytest.mark.parametrize(("index", "error", "fragment"), [
    (0, ValueError, "index: got 0"), (11, ValueError, "index: got 11"),
    (True, TypeError, "index: got True"), ("1", TypeError, "index: got '1'"),
])
def test_keras_applications_bad_index(keras_apps, index, error, fragment):
    with pytest.raises(error, match=fragment):
        port.from_keras_applications(keras_apps, index)


def test_keras_applications_wrong_model(block_v2):
    with pytest.raises(ValueError, match="block35_1_mixed"):
        port.from_keras_applications(block_v2, 1)


# ------------------------------------------------------------------ block17 and block8
@pytest.mark.parametrize(("kind", "index"), [("block17", 1), ("block8", 1), ("block8", 10)])
def test_parameter_counts_equal_keras_applications(keras_apps, kind, index):
    found = port.keras_apps_block(keras_apps, index, block=kind)
    assert found.submodel().count_params() == build_block(kind, "v2").count_params()


@pytest.mark.parametrize(("kind", "index", "scale", "activation"), [
    ("block17", 1, 0.1, "relu"), ("block17", 20, 0.1, "relu"),
    ("block8", 9, 0.2, "relu"), ("block8", 10, 1.0, None)])
def test_keras_applications_blocks_equal_ours(keras_apps, kind, index, scale, activation):
    found = port.keras_apps_block(keras_apps, index, block=kind)
    assert (found.scale, found.activation) == (pytest.approx(scale), activation)
    assert found.layer_names["Conv2d_1x1"] == f"{kind}_{index}_conv"
    check = port.compare_keras_applications(keras_apps, index, block=kind)
    assert check.net_out <= 1e-5 and "copied exactly: True" in check.notes[0]
    ours = port.from_keras_applications(keras_apps, index, block=kind)
    held = explainer.block_weights(ours)
    seeded = seeded_weights("v2", index, kind)
    assert all(np.array_equal(held[n], seeded[n]) for n in seeded)


def test_the_schedule_defaults(keras_apps):
    assert build_block17().residual_spec.scale == explainer.REAL_SCALES["block17"] == 0.10
    assert build_block8().residual_spec.scale == explainer.REAL_SCALES["block8"] == 0.20
    final = port.keras_apps_block(keras_apps, 10, block="block8")
    stages = SCHEDULE["v2"]
    assert (stages[-1].block, stages[-1].scale, stages[-1].activation) == (
        "block8", final.scale, final.activation)


def test_block17_and_block8_bad_index(keras_apps):
    with pytest.raises(ValueError, match=r"index: got 21; expected 1\.\.20"):
        port.keras_apps_block(keras_apps, 21, block="block17")
    with pytest.raises(ValueError, match=r"index: got 11; expected 1\.\.10"):
        port.keras_apps_block(keras_apps, 11, block="block8")
