"""Each bad argument is a ValueError or TypeError naming the argument, what came, what is wanted."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import explainer


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"variant": "v3"}, ValueError, r"variant: got 'v3'.*expected one of 'v1', 'v2'"),
    ({"variant": 1}, ValueError, r"variant: got 1 \(int\)"),
    ({"activation": "tanh"}, ValueError, r"activation: got 'tanh'.*'relu', 'relu6', None"),
    ({"device": "tpu"}, ValueError, r"device: got 'tpu'.*'auto', 'cpu', 'gpu'"),
    ({"scale": float("nan")}, ValueError,
     r"scale: got nan, which is not finite in float32.*expected a finite number"),
    ({"scale": float("inf")}, ValueError, r"scale: got inf"),
    ({"scale": "0.17"}, TypeError, r"scale: got '0.17' \(str\); expected a real number"),
    ({"scale": None}, TypeError, r"scale: got None"),
    ({"scale": True}, TypeError, r"scale: got True \(bool\)"),
    ({"seed": -1}, ValueError, r"seed: got -1; expected a whole number >= 0"),
    ({"seed": 1.5}, TypeError, r"seed: got 1.5"),
])
def test_build_rejects(kwargs, error, pattern):
    with pytest.raises(error, match=pattern):
        explainer.build_block35(**kwargs)


def test_numpy_scalar_scales_are_accepted():
    assert explainer.build_block35(scale=np.float32(0.5)).residual_spec.scale == 0.5
    assert explainer.build_block35(scale=np.array(1)).residual_spec.scale == 1.0


@pytest.mark.parametrize(("x", "error", "pattern"), [
    (np.zeros((35, 35, 256), np.float32), ValueError, r"x: got rank 3.*expected rank 4"),
    (np.zeros((1, 1, 35, 35, 256), np.float32), ValueError, r"x: got rank 5"),
    (np.zeros((1, 35, 35, 320), np.float32), ValueError,
     r"x: got 320 channels.*expected 256 channels"),
    (np.zeros((1, 35, 35, 256), np.int32), TypeError, r"x: got dtype int32; expected a float"),
    (np.zeros((0, 35, 35, 256), np.float32), ValueError, r"x: got shape \(0, 35, 35, 256\)"),
    ("net", TypeError, r"x: got str; expected a float array"),
    ([[1.0]], TypeError, r"x: got list"),
])
def test_trace_and_forward_reject(block_v1, x, error, pattern):
    with pytest.raises(error, match=pattern):
        explainer.trace(block_v1, x)
    with pytest.raises(error, match=pattern):
        explainer.forward(block_v1, x)


def test_tensor_input_is_accepted(block_v1, x_v1):
    got = explainer.forward(block_v1, tf.constant(x_v1))
    assert np.array_equal(got, explainer.forward(block_v1, x_v1))


def test_not_a_block_is_a_type_error(x_v1):
    import keras

    other = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    with pytest.raises(TypeError, match=r"block: got Sequential; expected a model made by"):
        explainer.trace(other, x_v1)


def test_set_block_weights_names_the_problem_and_changes_nothing():
    block = explainer.build_block35("v1", seed=5)  # its own block: the shared one stays clean
    w = explainer.block_weights(block)
    bad = dict(w)
    del bad["Conv2d_1x1/biases"]
    with pytest.raises(ValueError, match=r"missing \['Conv2d_1x1/biases'\]"):
        explainer.set_block_weights(block, bad)
    bad = dict(w, **{"Conv2d_1x1/biases": np.zeros(3)})
    bad["Conv2d_1x1/weights"] = w["Conv2d_1x1/weights"] + 1.0  # valid, listed before the bad one
    with pytest.raises(ValueError, match=r"weights\['Conv2d_1x1/biases'\]: got shape \(3,\); "
                                         r"expected \(256,\)"):
        explainer.set_block_weights(block, bad)
    with pytest.raises(TypeError, match="weights: got list"):
        explainer.set_block_weights(block, [])
    after = explainer.block_weights(block)  # all or nothing: no entry was set
    assert all(np.array_equal(after[n], w[n]) for n in w)


@pytest.mark.parametrize("kwargs", [{"batch": 0}, {"size": 0}, {"variant": "v9"}])
def test_sample_input_rejects(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        explainer.sample_input(**kwargs)
