"""The real nets' residual stages with their schedule (read from the original code) vs all 1.0."""

from __future__ import annotations

import numpy as np
import pytest

from explainer.core.schedule import SCHEDULE
from explainer.scaling.stages import stage_profile


def test_the_schedule_is_the_original_codes():
    v1 = [(s.block, s.repeats, s.scale, s.activation) for s in SCHEDULE["v1"]]
    v2 = [(s.block, s.repeats, s.scale, s.activation) for s in SCHEDULE["v2"]]
    assert v1 == [("block35", 5, 0.17, "relu"), ("block17", 10, 0.10, "relu"),
                  ("block8", 5, 0.20, "relu"), ("block8", 1, 1.0, None)]
    assert v2 == [("block35", 10, 0.17, "relu"), ("block17", 20, 0.10, "relu"),
                  ("block8", 9, 0.20, "relu"), ("block8", 1, 1.0, None)]


@pytest.fixture(scope="module")
def profile():
    return stage_profile("v1", size=3, seed=1, max_repeats=2)


def test_stages_run_at_their_real_widths_with_the_schedule(profile):
    assert [(s.block, s.repeats) for s in profile.stages] == [
        ("block35", 2), ("block17", 2), ("block8", 2), ("block8", 1)]
    assert profile.widths == (256, 896, 1792, 1792)
    assert [shape[-1] for shape in profile.input_shapes] == list(profile.widths)
    want = [s.scale for s in profile.stages for _ in range(s.repeats)]
    assert profile.scales["real"].tolist() == want
    assert profile.scales["all 1.0"].tolist() == [1.0] * len(want)


def test_first_block_ratio_is_linear_in_the_scale(profile):
    # the first block of a stage reads the same input under both schedules, and its
    # residual ||scale * up|| / ||net|| is linear in the scale (relu: no clip)
    firsts = [int(np.flatnonzero(profile.block_stage == j)[0]) for j in range(3)]
    for i in firsts:
        real, one = profile.residual_ratio["real"][i], profile.residual_ratio["all 1.0"][i]
        assert one * profile.scales["real"][i] == pytest.approx(real, rel=1e-5)


def test_the_schedule_keeps_the_trunk_near_identity(profile):
    for j in range(3):  # the repeated stages
        assert profile.growth["all 1.0"][j] > profile.growth["real"][j]
        assert profile.grad_norm["all 1.0"][j] > profile.grad_norm["real"][j]
        assert abs(profile.growth["real"][j] - 1.0) < abs(profile.growth["all 1.0"][j] - 1.0)
    # the final block8 runs at 1.0 in both
    assert profile.growth["real"][3] == profile.growth["all 1.0"][3]
    text = str(profile)
    assert "1 x block8 @ 1, no activation" in text and "2 x block17 @ 0.1" in text
    assert profile.to_dict()["widths"] == [256, 896, 1792, 1792]


def test_stage_figure_states_the_largest_growth_of_each_schedule(profile):
    from explainer.plots import plot_stage_profile

    fig = plot_stage_profile(profile)
    title = fig._suptitle.get_text()
    real, ones = profile.growth["real"][:3].max(), profile.growth["all 1.0"][:3].max()
    assert f"at most ×{real:.2f}" in title and f"up to ×{ones:.2f}" in title, title
    left, right = fig.axes[:2]
    assert len(left.lines) == 2 and len(left.lines[0].get_xdata()) == len(profile.block_stage)
    assert [round(p.get_height(), 6) for p in right.patches[:4]] == \
        [round(g, 6) for g in profile.growth["real"]]


@pytest.mark.parametrize(("kwargs", "error", "fragment"), [
    ({"variant": "v3"}, ValueError, "variant: got 'v3'"),
    ({"max_repeats": 0}, ValueError, "max_repeats: got 0"),
    ({"size": 1.5}, TypeError, "size: got 1.5"),
])
def test_bad_input(kwargs, error, fragment):
    with pytest.raises(error, match=fragment):
        stage_profile(**kwargs)
