"""Hostile input, round 2 (issue 20): ranks past numpy's 32, whole numbers past float range, and
the memory budget checked from shapes before anything is allocated.

Properties run few, cheap examples (each is refused or answered in milliseconds); the CLI runs
in this process (``cli_support.run_in_process``). ``make fuzz`` runs the long version.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from cli_support import run_in_process
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from test_hostile_input import _rule  # the rule written plainly, the reference

import explainer
from explainer.broadcasting.shapes import MAX_RANK, broadcast_shapes
from explainer.core.budget import memory_budget
from explainer.core.validate import MAX_WHOLE

FAST = settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])  # a failure prints its value as is
SHORT = 400  # characters: an error never echoes a huge value whole

# 1. ranks 0-80: the rule decides, not numpy's 32-dimension limit ------------------------------


@settings(max_examples=120, deadline=None)
@given(st.lists(st.integers(0, 3), max_size=80), st.lists(st.integers(0, 3), max_size=80))
def test_ranks_0_to_80_follow_the_rule(a, b):
    a, b = tuple(a), tuple(b)
    if max(len(a), len(b)) > MAX_RANK:
        with pytest.raises(ValueError, match=f"at most {MAX_RANK}"):
            explainer.explain_broadcast_numpy(a, b)
        return
    e = explainer.explain_broadcast_numpy(a, b)
    assert e.result_shape == _rule(a, b)
    assert e.numpy.ok == (e.result_shape is not None) and e.agrees


@pytest.mark.parametrize(("a", "b", "result"), [
    ((1,) * 33, (2,), (1,) * 32 + (2,)),
    ((3,) + (1,) * 40, (2,) * 41, None),
    ((1,) * 64, (5,) * 3, (1,) * 61 + (5,) * 3),
    ((7,) * 3 + (1,) * 40, (9,), (7,) * 3 + (1,) * 39 + (9,)),  # too many elements to multiply
])
def test_explain_broadcast_past_rank_32(a, b, result):
    e = explainer.explain_broadcast(a, b)
    assert e.result_shape == result and e.numpy.ok == (result is not None)
    assert e.tensorflow is not None and (e.agrees or e.tensorflow.unsupported)
    assert broadcast_shapes(a, b) == result if result else True


def test_exercise_and_playground_past_rank_32():
    from explainer.classroom.apps import ClassroomBroadcastPlayground
    from explainer.exercises import check

    verdict = check("broadcast_per_sample", (1,) * 33)
    assert not verdict and "broadcasts, but to" in verdict.why
    assert not check("broadcast_per_sample", (3,) + (1,) * 33)  # numpy refuses: said so
    playground = ClassroomBroadcastPlayground(tensorflow=False)
    playground.shape_a.value, playground.shape_b.value = str((1,) * 40), "(2,)"
    e = playground.update()
    assert e is not None and e.result_shape == (1,) * 39 + (2,)
    assert "Unexpected" not in playground.error.value


def test_cli_broadcast_rank_33():
    code, out, err = run_in_process(["broadcast", str((1,) * 33), "(2,)", "--json"])
    assert code == 0 and err == "" and '"compatible": true' in out


# 2. whole numbers up to 10**600, in every integer parameter ---------------------------------

HUGE = st.one_of(st.integers(-10**600, -1), st.integers(MAX_WHOLE + 1, 10**600))
BEYOND_FLOAT32 = st.integers(4 * 10**38, 10**600)
SIZES = st.integers(-10**600, 10**600)  # refused by the small budget below when large


def _calls():
    x = np.zeros((1, 3, 3, 256), np.float32)
    from explainer.plots.broadcast import broadcast_diagram
    from explainer.plots.sweep import plot_histograms
    return {  # name -> (strategy, call of one whole number)
        "sample_input batch": (SIZES, lambda v: explainer.sample_input(batch=v, size=3)),
        "sample_input size": (SIZES, lambda v: explainer.sample_input(size=v)),
        "sample_input seed": (HUGE, lambda v: explainer.sample_input(size=2, seed=v)),
        "explain_block batch": (SIZES, lambda v: explainer.explain_block(batch=v, size=40)),
        "explain_block size": (SIZES, lambda v: explainer.explain_block(size=v, batch=30)),
        "explain_block seed": (HUGE, lambda v: explainer.explain_block(size=3, seed=v)),
        "scale_gradient batch": (SIZES, lambda v: explainer.scale_gradient(batch=v, size=40)),
        "scale_gradient size": (SIZES, lambda v: explainer.scale_gradient(size=v, batch=30)),
        "stage_profile size": (SIZES, lambda v: explainer.stage_profile(size=v, batch=30)),
        "stage_profile batch": (SIZES, lambda v: explainer.stage_profile(batch=v, size=40)),
        "stage_profile max_repeats": (HUGE, lambda v: explainer.stage_profile(max_repeats=v,
                                                                             size=10**6)),
        "dispatch_table": (BEYOND_FLOAT32, explainer.dispatch_table),
        "dtype_table": (BEYOND_FLOAT32, explainer.dtype_table),
        "block_ops size": (HUGE, lambda v: explainer.block_ops(size=v)),
        "last_line_ops shape": (HUGE, lambda v: explainer.last_line_ops(shape=(1, v))),
        "scale_sweep channel_scale": (BEYOND_FLOAT32, lambda v: explainer.scale_sweep(
            None, x, [0.1], channel_scale=[v] * 256)),
        "build_block35 seed": (HUGE, lambda v: explainer.build_block35(seed=v)),
        "seeded_weights seed": (HUGE, lambda v: explainer.seeded_weights("v1", v)),
        "depth_profile depth": (HUGE, lambda v: explainer.depth_profile("v1", v)),
        "translation_table seed": (HUGE, lambda v: explainer.translation_table(seed=v)),
        "scale_shape_catalogue N": (HUGE, lambda v: explainer.scale_shape_catalogue(N=v)),
        "parse_shape dims": (HUGE, lambda v: explainer.parse_shape("(N,)", N=v)),
        "broadcast_diagram dpi": (HUGE, lambda v: broadcast_diagram(
            explainer.explain_broadcast_numpy("(2,)", "()"), dpi=v)),
        "plot_histograms bins": (HUGE, lambda v: plot_histograms(None, bins=v)),
        "list_exercises": (HUGE, lambda v: explainer.exercises.list_exercises(v)),
    }


CALLS = _calls()


@pytest.mark.parametrize("name", sorted(CALLS))
def test_whole_numbers_up_to_10_600_are_a_sentence(name, monkeypatch):
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", "1M")  # any real work is refused at once
    strategy, call = CALLS[name]

    @FAST
    @given(strategy)
    def check(value):
        try:
            call(value)
        except (ValueError, TypeError) as err:
            text = str(err)
            assert len(text) < SHORT and "\n" not in text, text
            assert len(str(value)) < 100 or str(value) not in text, text
        # anything else (OverflowError, AttributeError ...) fails the test

    check()


ENV_TEXT = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                   max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.one_of(st.integers(0, 10**600).map(str), ENV_TEXT,
                 st.from_regex(r"[0-9]{1,400}(\.[0-9]{0,400})?\s*[KMGTkmgt]?i?B?", fullmatch=True)))
def test_budget_environment_values(text):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("EXPLAINER_MEMORY_BUDGET", text)
        try:
            budget = memory_budget()
        except ValueError as err:
            assert str(err).startswith("EXPLAINER_MEMORY_BUDGET: got") and len(str(err)) < SHORT
            return
    assert 0 <= budget <= 2**63 - 1


INT_OPTIONS = [([], "--batch"), ([], "--size"), ([], "--seed"), (["scale"], "--batch"),
               (["scale"], "--size"), (["scale"], "--seed"), (["port", "--to", "dl4j"], "--seed"),
               (["port", "--to", "keras"], "--index")]


@pytest.mark.parametrize(("first", "option"), INT_OPTIONS)
def test_cli_whole_numbers_up_to_10_600(first, option, monkeypatch):
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", "1K")

    @FAST
    @given(HUGE)
    def check(value):
        code, out, err = run_in_process([*first, option, str(value)])
        assert code == 2 and err.count("\n") == 1 and "Traceback" not in err, err
        assert len(err) < 2 * SHORT, err

    check()


def test_cli_budget_environment_is_one_line(monkeypatch):
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", "1" + "0" * 309)
    code, _, err = run_in_process(["--size", "3"])
    assert code == 2 and err.count("\n") == 1 and "too large" in err, err


# 3. the budget is estimated from shapes, before anything is allocated -----------------------

def test_v2_batch_5_size_400_is_refused_before_building():
    start = time.perf_counter()
    code, _, err = run_in_process(["--variant", "v2", "--batch", "5", "--size", "400"])
    assert code == 2 and "17.6 GiB" in err and err.count("\n") == 1, err
    assert time.perf_counter() - start < 2.0  # the input alone took 17 s and 2.8 GB
    with pytest.raises(ValueError, match="batch=5, size=400: running block35 v2 needs"):
        explainer.explain_block("v2", batch=5, size=400)


@pytest.mark.parametrize("call", ["trace", "forward", "scale_sweep", "depth_profile",
                                  "fold_cases"])
def test_zero_stride_input_is_refused_by_its_shape(block_v1, call):
    x = np.broadcast_to(np.float32(0.5), (20000, 35, 35, 256))  # 25 GB if it were real
    calls = {"trace": lambda: explainer.trace(block_v1, x),
             "forward": lambda: explainer.forward(block_v1, x),
             "scale_sweep": lambda: explainer.scale_sweep(block_v1, x, [0.1]),
             "depth_profile": lambda: explainer.depth_profile("v1", 2, x=x),
             "fold_cases": lambda: explainer.fold_cases(block_v1, x)}
    start = time.perf_counter()
    with pytest.raises(ValueError, match="memory; expected at most the budget"):
        calls[call]()
    assert time.perf_counter() - start < 1.0
