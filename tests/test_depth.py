"""depth_profile: a real stack of block35 per scale, sizes per block, the input gradient."""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer.core.schedule import SCHEDULE
from explainer.scaling.depth import REAL_STACKS


@pytest.fixture(scope="module")
def x_small():
    return explainer.sample_input("v1", batch=1, size=5, seed=2)


@pytest.fixture(scope="module")
def profile(x_small):
    return explainer.depth_profile("v1", 3, [1.0, 0.17, 0.0], x=x_small, seed=1)


def test_shapes_and_finiteness(profile):
    assert profile.depth == 3 and profile.scales.tolist() == [1.0, 0.17, 0.0]
    assert profile.std.shape == profile.norm.shape == (3, 4)
    assert profile.residual_ratio.shape == (3, 3) and profile.grad_norm.shape == (3,)
    for name in ("std", "norm", "residual_ratio", "grad_norm"):
        assert np.all(np.isfinite(profile[name])), name
    assert profile.input_shape == (1, 5, 5, 256)
    assert "stack of 3 x block35 v1" in str(profile)
    assert profile.to_dict()["grad_norm"] == profile.grad_norm.tolist()
    # the |grad| column keeps 4 significant figures, trailing zeros included (not 118 / 252.4)
    grads = [line.split()[-1] for line in str(profile).splitlines()[2:]]
    assert all(len(g.replace(".", "").lstrip("0")) == 4 for g in grads), grads


def test_scale_zero_is_the_identity_on_a_relu_input(profile, x_small):
    # x >= 0, so relu(x + 0 * up) = x after every block: nothing changes, gradient = 1 where x > 0
    assert np.all(profile.std[2] == profile.std[2, 0])
    assert np.all(profile.residual_ratio[2] == 0.0)
    assert profile.grad_norm[2] == pytest.approx(np.sqrt(np.count_nonzero(x_small > 0)))
    assert profile.norm[0, 0] == pytest.approx(np.linalg.norm(x_small.astype(np.float64)))


def test_profile_equals_chained_real_forwards(profile, x_small):
    h = x_small
    for i in range(3):
        block = explainer.build_block35("v1", scale=0.17, seed=1 * 1000 + i)
        tr = explainer.trace(block, h)
        assert profile.residual_ratio[1, i] == pytest.approx(tr.residual_ratio, rel=1e-5)
        h = tr["net_out"].value
        assert profile.std[1, i + 1] == pytest.approx(h.astype(np.float64).std(), rel=1e-5)
        assert profile.norm[1, i + 1] == pytest.approx(np.linalg.norm(h.astype(np.float64)),
                                                       rel=1e-5)


# Independent facts, from the papers (Szegedy et al. 2016, figures 9 and 15) and the original
# code: Inception-ResNet-v1 runs 5 x block35, 10 x block17, 5 x block8; v2 10 / 20 / 9, each
# followed by a final block8 at scale 1.0 without activation; block35's scale is 0.17.
PAPER_STAGES = {"v1": [("block35", 5), ("block17", 10), ("block8", 5), ("block8", 1)],
                "v2": [("block35", 10), ("block17", 20), ("block8", 9), ("block8", 1)]}


def test_real_stacks_and_default_input():
    for variant, stages in PAPER_STAGES.items():
        assert REAL_STACKS[variant] == (stages[0][1], 0.17)
        assert [(s.block, s.repeats) for s in SCHEDULE[variant]] == stages
        final = SCHEDULE[variant][-1]
        assert (final.scale, final.activation) == (1.0, None)
    p = explainer.depth_profile("v2", 1, [0.17], seed=0)
    assert p.input_shape == (1, 35, 35, 320) and p.std.shape == (1, 2)


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"depth": 41}, ValueError, "depth: got 41; expected at most 40"),
    ({"depth": 0}, ValueError, "depth: got 0"),
    ({"depth": 2.5}, TypeError, "depth: got 2.5"),
    ({"scales": []}, ValueError, "scales: got an empty list"),
    ({"scales": [1.0, float("nan")]}, ValueError, "scales[1]: got nan"),
    ({"scales": "1,0"}, TypeError, "scales: got '1,0'"),
    ({"variant": "v3"}, ValueError, "variant: got 'v3'"),
    ({"x": np.zeros((1, 4, 4, 320), np.float32)}, ValueError, "x: got 320 channels"),
])
def test_bad_arguments(kwargs, error, fragment):
    args = {"variant": "v1", "depth": 2, "scales": [1.0], **kwargs}
    with pytest.raises(error) as info:
        explainer.depth_profile(**args)
    assert fragment in str(info.value)
