"""Hostile input, one test (or property) per class of defect found by fuzzing (issue 13).

Each property says how many inputs it tries (``max_examples``); the README of the note reports
how long they take. The CLI properties run ``explainer.cli.main`` in this process (a fresh
process per example would cost seconds each) and check what a user sees: exit 0 or 2, one line
on stderr for 2, never a traceback, strict JSON for ``--json``.
"""

from __future__ import annotations

import json
import math
import os
import time

import numpy as np
import pytest
from cli_support import run_cli_without_tensorflow, run_here, run_in_process
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import explainer
from explainer.broadcasting.shapes import MAX_DIM, MAX_RANK
from explainer.core.validate import FLOAT32_MAX, check_scale

# 1. explaining two shapes costs the same whatever their sizes, and little per axis ---------

@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, MAX_DIM), max_size=MAX_RANK),
       st.lists(st.integers(0, MAX_DIM), max_size=MAX_RANK))
def test_broadcast_numpy_explains_any_shapes_quickly(a, b):
    start = time.perf_counter()
    try:
        e = explainer.explain_broadcast_numpy(tuple(a), tuple(b))
    except ValueError as err:  # more elements than numpy / TensorFlow can index
        assert "index at most" in str(err)
        return
    assert time.perf_counter() - start < 2.0  # a generous bound: real cost is milliseconds
    assert e.result_shape == _rule(tuple(a), tuple(b))


def _rule(a: tuple, b: tuple) -> tuple | None:
    """The broadcasting rule written plainly, as the reference for the property above."""
    rank = max(len(a), len(b))
    a, b = (1,) * (rank - len(a)) + a, (1,) * (rank - len(b)) + b
    if any(x != y and 1 not in (x, y) for x, y in zip(a, b, strict=True)):
        return None
    return tuple(y if x == 1 else x for x, y in zip(a, b, strict=True))


def test_rank_32_of_twos_is_cheap():
    start = time.perf_counter()
    e = explainer.explain_broadcast((2,) * 32, (2,) * 32)
    assert e.result_shape == (2,) * 32 and e.numpy.ok
    assert time.perf_counter() - start < 10  # was minutes and many GiB


# 2. a broadcast TensorFlow's kernel refuses is TensorFlow's outcome, not a traceback ---------

def test_tensorflow_unsupported_broadcast_is_an_outcome():
    e = explainer.explain_broadcast((2, 1, 2, 1, 2, 1), (1, 2, 1, 2, 1, 2))
    assert e.compatible and e.numpy.ok and e.numpy.shape == (2,) * 6
    assert not e.tensorflow.ok and e.tensorflow.unsupported
    assert "not supported" in e.tensorflow.message
    assert "kernel does not support" in str(e)


def test_cli_unsupported_broadcast_exits_0():
    out = run_here("broadcast", "(2,1,2,1,2,1)", "(1,2,1,2,1,2)")
    assert out.returncode == 0 and out.stderr == "", out.stderr
    assert "TensorFlow's kernel does not support this broadcast" in out.stdout


# 3. work is bounded by a memory budget, checked before anything is allocated -----------------

@pytest.mark.parametrize(("call", "names"), [
    (lambda: explainer.sample_input(size=10000), "size=10000"),
    (lambda: explainer.sample_input(batch=100000), "batch=100000"),
    (lambda: explainer.sample_input(batch=99999999999999999999999), "batch=9999"),
])
def test_budget_refuses_before_allocating(call, names):
    with pytest.raises(ValueError, match=rf"{names}.*memory.*budget of 2 GiB"):
        call()


def test_budget_applies_to_trace_sweep_and_depth(block_v1, monkeypatch):
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", "1M")
    x = explainer.sample_input("v1", batch=1, size=12)  # 147 KiB: the input itself fits
    for call in (lambda: explainer.trace(block_v1, x), lambda: explainer.forward(block_v1, x),
                 lambda: explainer.scale_sweep(block_v1, x, [0.1]),
                 lambda: explainer.depth_profile("v1", 2, [0.1], x=x)):
        with pytest.raises(ValueError, match=r"size=12.*budget of 1 MiB"):
            call()


def test_cli_budget_is_one_line_naming_the_argument():
    out = run_cli_without_tensorflow("--size", "10000")
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "size=10000" in out.stderr and "budget" in out.stderr


# 4. non-finite numbers: refused when given, "undefined" when a valid input has no value ------

@settings(max_examples=300, deadline=None)
@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**400, 10**400),
                 st.sampled_from([np.float16(1.5), np.float32(3e38), np.float64(1e39),
                                  np.int64(-7), np.array(0.17), np.float32("nan")])))
def test_any_scale_is_accepted_finite_or_refused_clearly(value):
    try:
        result = check_scale(value)
    except ValueError as err:
        assert str(err).startswith("scale: got") and "expected" in str(err)
        assert len(str(err)) < 300  # huge ints are shortened, never echoed whole
        return
    assert math.isfinite(result) and abs(result) <= FLOAT32_MAX


def test_zero_input_has_undefined_ratios_not_a_crash(block_v1):
    zeros = np.zeros((1, 4, 4, 256), np.float32)
    assert explainer.trace(block_v1, zeros).residual_ratio is None
    sweep = explainer.scale_sweep(block_v1, zeros, [0.0, 0.5])
    assert set(sweep.undefined) >= {"residual_ratio"}
    doc = json.loads(json.dumps(sweep.to_dict(), allow_nan=False))
    assert doc["metrics"]["residual_ratio"] == [None, None]
    assert "undefined" in str(sweep)


def test_negative_input_has_undefined_output_change(block_v1):
    negative = -np.ones((1, 4, 4, 256), np.float32)  # relu(net) == 0: no change to compare to
    sweep = explainer.scale_sweep(block_v1, negative, list(np.linspace(0, 1, 9)))
    assert "output_change" in sweep.undefined
    assert "||f(net)|| = 0" in sweep.undefined["output_change"]


def test_nan_input_is_refused(block_v1):
    x = explainer.sample_input("v1", size=4)
    x[0, 0, 0, 0] = np.nan
    for call in (explainer.trace, explainer.forward):
        with pytest.raises(ValueError, match="x: got 1 values that are NaN"):
            call(block_v1, x)


def test_scale_explorer_shows_huge_numbers_as_errors(block_v1, x_v1):
    ex = explainer.widgets.scale_explorer(block_v1, x_v1)
    assert ex.update(10**400) is False and "too large for a float" in ex.error.value
    assert ex.update("9" * 100_000) is False and len(ex.error.value) < 1000


# 5. a change is all or nothing ----------------------------------------------------------------

def test_set_block_weights_changes_nothing_when_one_entry_is_bad():
    block = explainer.build_block35("v1", seed=3)
    before = explainer.block_weights(block)
    bad = explainer.seeded_weights("v1", 9)
    bad["Conv2d_1x1/biases"] = np.full(256, np.inf, np.float32)  # the last name checked
    with pytest.raises(ValueError, match=r"Conv2d_1x1/biases.*non-finite"):
        explainer.set_block_weights(block, bad)
    after = explainer.block_weights(block)
    assert all(np.array_equal(before[k], after[k]) for k in before)


@pytest.mark.parametrize(("change", "error", "pattern"), [
    (lambda w: w.update({1: 2}), ValueError, r"unexpected \[1\]"),
    (lambda w: w.update({"Conv2d_1x1/biases": "abc"}), TypeError, "biases'\\]: got dtype <U3"),
    (lambda w: w.update({"Conv2d_1x1/biases": [[1, 2], [3]]}), TypeError, "not an array"),
])
def test_set_block_weights_messages_name_the_entry(change, error, pattern):
    block = explainer.build_block35("v1", seed=0)
    weights = explainer.seeded_weights("v1", 0)
    change(weights)
    with pytest.raises(error, match=pattern):
        explainer.set_block_weights(block, weights)


# 6. output paths are checked before any work ---------------------------------------------------

@pytest.mark.parametrize("path", ["/proc/x.png", "DIR", "a" * 300 + ".png"])
def test_scale_plot_path_fails_first(tmp_path, path):
    if path == "DIR":
        path = str(tmp_path / "folder.png")
        os.mkdir(path)
    out = run_cli_without_tensorflow("scale", "--plot", path)
    assert out.returncode == 2 and out.stderr.count("\n") == 1, out.stderr
    assert "cannot be written" in out.stderr and "Traceback" not in out.stderr


# 7. dimension names are the user's: any identifier works --------------------------------------

@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True), st.integers(0, 64))
def test_any_identifier_names_a_dimension(name, size):
    e = explainer.explain_broadcast_numpy(f"({name},3)", "(3,)", **{name: size})
    assert e.result_shape == (size, 3)


def test_cli_dims_may_be_called_name():
    out = run_here("broadcast", "(name,3)", "(3,)", "--dims", "name=2")
    assert out.returncode == 0 and "=> result shape (2, 3)" in out.stdout, out.stderr


# 8. messages name the argument, show what came (shortened) and what is expected ----------------

def test_unknown_rank_tensorshape():
    import tensorflow as tf

    with pytest.raises(ValueError, match="a: got a TensorShape of unknown rank; expected"):
        explainer.explain_broadcast(tf.TensorShape(None), (3,))


def test_huge_shape_text_is_not_echoed_whole():
    with pytest.raises(ValueError) as info:
        explainer.explain_broadcast_numpy("(" + "x" * 1_000_000 + ")", "(3,)")
    assert len(str(info.value)) < 400 and "chars" in str(info.value)


def test_torch_tensors_that_cannot_become_numpy_get_a_sentence(block_v1):
    torch = pytest.importorskip("torch")
    x = torch.ones((1, 3, 3, 256), requires_grad=True)
    with pytest.raises(TypeError, match=r"x: got a Tensor of dtype torch.float32 whose "
                                        r"\.numpy\(\) failed.*detach\(\)"):
        explainer.forward(block_v1, x)
    with pytest.raises(TypeError, match="dtype torch.bfloat16"):
        explainer.forward(block_v1, torch.ones((1, 3, 3, 256), dtype=torch.bfloat16))


# the CLI under random argument lists: exit 0 or 2, one line on 2, no traceback, strict JSON ---

def _strict(text: str) -> object:
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")
    return json.loads(text, parse_constant=refuse)


TOKENS = {
    "answer": ["--variant", "v1", "v2", "v3", "--scale", "0.5", "-1", "1e39", "nan",
               "99999999999999999999999", "--size", "0", "3", "10000", "--batch", "1",
               "99999999999999999999999", "--seed", "-1", "2", "--activation", "relu6",
               "none", "tanh", "--json", "--device", "cpu", "tpu", "x"],
    "scale": ["scale", "--scales", "0,0.5", "1e39", ",", "nan,1", "--size", "3", "10000",
              "--variant", "v2", "--json", "--scale", "5", "--plot", "/proc/x.png",
              "--activation", "none", "--batch", "2"],
    "broadcast": ["broadcast", "(2,3)", "(3,)", "(a,3)", "()", "(2,1,2,1,2,1)",
                  "(1,2,1,2,1,2)", "(" + "9" * 30 + ",)", "--dims", "a=2", "name=3", "a=b",
                  "--json", "(x)", "2x3"],
    "star": ["star", "--scale", "0.3", "1e39", "-0", "nan", "--json", "extra"],
}


@pytest.mark.parametrize("command", sorted(TOKENS))
def test_cli_random_argv(command):
    tokens = TOKENS[command]
    first = [] if command == "answer" else [command]

    @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(st.sampled_from(tokens[1 if first else 0:]), max_size=6))
    def check(rest):
        code, out, err = run_in_process(first + rest)
        assert code in (0, 2), (rest, code, err)
        assert "Traceback" not in err and "Traceback" not in out, rest
        if code == 2:
            assert err.count("\n") == 1 and "error:" in err, (rest, err)
        elif "--json" in rest and "--help" not in rest:
            _strict(out)

    check()


@pytest.mark.parametrize(("scale", "words"), [(0.17, "shrunk before"), (5.0, "grown before"),
                                              (-1.0, "kept at full size, and its sign flipped"),
                                              (0.0, "removed before")])
def test_answer_words_hold_for_the_scale(scale, words):
    line = explainer.explain_block(scale=scale, size=5).lines[2]
    assert words in line
    assert ("shrunk" in line) == (0 < abs(scale) < 1)


def test_overflowing_scale_is_undefined_and_quiet():
    out = run_here("scale", "--scales", "0,3e38", "--size", "4", "--json")
    assert out.returncode == 0 and out.stderr == "", out.stderr  # no RuntimeWarning either
    doc = _strict(out.stdout)
    assert doc["metrics"]["net_out_mean"][1] is None and "overflows" in doc["undefined"][
        "net_out_mean"]
