"""fold_scale moves the scale into the projection; fold_cases shows where that trick breaks."""

from __future__ import annotations

import numpy as np
import pytest

import explainer


@pytest.mark.parametrize(("variant", "scale", "activation"), [
    ("v1", 0.17, "relu"), ("v2", 0.1, "relu6"), ("v1", -0.4, None), ("v2", 2.5, "relu")])
def test_fold_scale_moves_the_scale_into_the_projection(variant, scale, activation):
    block = explainer.build_block35(variant, scale=scale, activation=activation, seed=3)
    folded = explainer.fold_scale(block)
    assert folded.residual_spec.scale == 1.0 and block.residual_spec.scale == scale
    assert folded.residual_spec.activation == activation
    before, after = explainer.block_weights(block), explainer.block_weights(folded)
    for name, value in before.items():
        if name.startswith("Conv2d_1x1/"):
            np.testing.assert_array_equal(after[name], value * np.float32(scale))
        else:
            np.testing.assert_array_equal(after[name], value)
    x = explainer.sample_input(variant, batch=2, size=6, seed=4)
    np.testing.assert_allclose(explainer.forward(folded, x), explainer.forward(block, x),
                               rtol=1e-5, atol=1e-5)
    tr = explainer.trace(folded, x)  # the folded block's own `up` is the scaled residual
    np.testing.assert_allclose(tr["up"].value, explainer.trace(block, x)["scaled_up"].value,
                               rtol=1e-5, atol=1e-6)


def test_fold_scale_rejects_other_objects():
    with pytest.raises(TypeError, match="block: got str"):
        explainer.fold_scale("block35")


@pytest.fixture(scope="module")
def cases(block_v1, x_v1):
    return {c.name: c for c in explainer.fold_cases(block_v1, x_v1)}


def test_fold_into_projection_holds_for_either_sign(cases):
    for name in ("fold into the projection Conv2d_1x1",
                 "fold a negative scale into the projection"):
        assert cases[name].holds and cases[name].relative_error < 1e-6
    assert cases["fold a negative scale into the projection"].scale == -0.17


def test_batchnorm_after_the_projection_breaks_the_fold(cases):
    train = cases["fold into a projection followed by BatchNorm (training mode)"]
    infer = cases["fold into a projection followed by BatchNorm (inference)"]
    assert not train.holds and not infer.holds
    assert train.relative_error > 1.0 and infer.relative_error > 0.1
    # batch statistics divide the scale back out: the result is nearer the unscaled BN(z)
    assert train.to_unscaled < train.relative_error / 5


def test_negative_scale_through_a_relu_breaks(cases):
    positive = cases["push a positive scale through the branches' ReLU"]
    negative = cases["push a negative scale through the branches' ReLU"]
    assert positive.holds and positive.relative_error < 1e-5
    assert not negative.holds and negative.relative_error > 0.5
    assert negative.scale == -positive.scale


def test_fold_cases_checks_its_input(block_v1):
    with pytest.raises(ValueError, match="x: got rank 3"):
        explainer.fold_cases(block_v1, np.zeros((3, 3, 256), np.float32))
