"""explainer.exercises: every notebook has 2-3 exercises, graded by running the package."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

import explainer
from explainer import exercises
from explainer.exercises import Verdict, check, list_exercises, solution

NOTEBOOKS = Path(__file__).parent.parent / "notebooks"
PATH = ("00_start_here", "01_what_does_star_do", "02_block35_walkthrough",
        "03_residual_scaling", "04_broadcasting", "05_porting")
RENDERED = tuple(exercises.notebooks())  # every notebook with exercises, 06 included


def _ratio_at(scale: float) -> float:
    """Measured independently of the exercises module: a fresh block, a fresh trace."""
    block = explainer.build_block35("v1", scale=scale, seed=0)
    x = explainer.sample_input("v1", batch=1, size=35, seed=0)
    return explainer.trace(block, x).residual_ratio


def _swap_difference() -> float:
    """Independently: the slim graph with swapped BatchNorm beta / moving_mean vs the port,
    on the lesson's input with default arguments (what the question asks)."""
    from explainer import legacy, port

    x = explainer.lesson_setup().x
    run = legacy.run_slim_block35(x)
    v = dict(run.variables)
    for name in [k for k in v if k.endswith("BatchNorm/beta")]:
        mean = name.replace("BatchNorm/beta", "BatchNorm/moving_mean")
        v[name], v[mean] = v[mean], v[name]
    ours = explainer.forward(port.from_slim(v), x)
    return float(np.abs(ours - run.net_out).max())


def _lesson_net_up() -> tuple[np.ndarray, np.ndarray, float]:
    tr = explainer.trace(explainer.build_block35("v1", scale=0.17, seed=0),
                         explainer.lesson_setup().x)
    return tr["net"].value.astype(np.float64), tr["up"].value.astype(np.float64), 0.17


def _shortcut_ratio() -> float:
    net, up, scale = _lesson_net_up()
    return float(np.linalg.norm(up) / np.linalg.norm(scale * net))


def _after_sum_ratio() -> float:
    net, up, scale = _lesson_net_up()
    return float(np.linalg.norm(scale * (net + up)) / np.linalg.norm(net + scale * up))


# name -> an answer known to be right, and one known to be wrong
KNOWN = {
    "start_scale": (0.17, 1.0),
    "start_star": ("b", "a"),
    "start_ratio": (lambda: _ratio_at(0.17), lambda: _ratio_at(1.0)),
    "star_graph_op": ("Mul", "MatMul"),
    "star_gradient": (0.17, 1.0),
    "star_inplace": (False, True),
    "walk_mixed_channels": (96, 256),
    "walk_up_shape": ((1, 35, 35, 256), (1, 35, 35, 96)),
    "walk_scale_is_weight": (False, True),
    "scale_ratio": (lambda: _ratio_at(0.30), lambda: _ratio_at(0.17)),
    "scale_ratio_double": (2.0, 4.0),
    "scale_zero_identity": (True, False),
    "broadcast_per_channel": ((2, 35, 35, 256), (256,)),
    "broadcast_per_sample": ((2, 1, 1, 1), (2,)),
    "broadcast_silent_mistake": (False, True),
    "port_swap_bn": (lambda: _swap_difference(), 0.0),
    "port_v2_changes": (2, 3),
    "port_kernel_shape": ((256, 96, 1, 1), (1, 1, 96, 256)),
    "scale_on_shortcut": (_shortcut_ratio, lambda: _ratio_at(0.17)),
    "scale_after_sum": (_after_sum_ratio, 0.17),
    "scale_per_sample_vs_channel": (255 / 256, 0.0),
    "relu6_clip": (0, 313600),
}


def _value(answer):
    return answer() if callable(answer) else answer


def test_every_notebook_of_the_path_has_two_to_five_exercises():
    assert set(PATH) <= set(exercises.notebooks())
    for notebook in PATH:
        assert 2 <= len(list_exercises(notebook)) <= 5, notebook


def test_known_answers_cover_every_exercise_of_the_path():
    assert set(KNOWN) == {e.name for n in PATH for e in list_exercises(n)}


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_right_answer_is_right_and_says_why(name):
    verdict = check(name, _value(KNOWN[name][0]))
    assert verdict.correct and bool(verdict), verdict.why
    assert len(verdict.why) > 20
    assert str(verdict).startswith(f"[{name}] Right")


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_wrong_answer_is_wrong_and_says_why(name):
    verdict = check(name, _value(KNOWN[name][1]))
    assert not verdict.correct and not bool(verdict)
    assert len(verdict.why) > 20
    assert "Not yet" in str(verdict) and "Not yet" in verdict._repr_html_()


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_example_answer_is_read_and_graded_but_gives_nothing_away(name):
    """The cell's example has the right kind (it is read and graded, not refused), and it is
    never the answer: it is graded "Not yet", with a reason."""
    ex = exercises.get(name)
    verdict = check(name, ast.literal_eval(ex.example))
    assert not verdict.pending and not verdict.correct
    assert str(verdict).startswith(f"[{name}] Not yet") and len(verdict.why) > 20


NUMERIC = sorted(name for name in KNOWN if "number" in exercises.get(name).expects
                 and "whole" not in exercises.get(name).expects)


@pytest.mark.parametrize("name", NUMERIC)
def test_numeric_exercises_say_how_precise_and_name_their_own_example(name):
    ex = exercises.get(name)
    assert re.search(r"[23] or more significant figures", ex.expects), ex.expects
    verdict = check(name, "a word")  # the decorator's example, written once
    assert not verdict and f"such as {ex.example}" in verdict.why


@pytest.mark.parametrize("name, right, wrong", [
    # true value 0.15629...: rounded to the figures written, at least two of them
    ("scale_ratio", [0.16, "0.16", "0.156", 0.1563, "1.6e-1"], [0.2, "0.2", 0.15, "0.160", 0.157]),
    # true value 3.07...
    ("scale_on_shortcut", [3.1, "3.1", 3.07, "3.07"], [3, "3", 3.0, 3.2, "3.10"]),
    # 255 / 256 = 0.99609...: this one asks for three figures (1.0 would hide the drop)
    ("scale_per_sample_vs_channel", [0.996, "0.9961", 255 / 256], [1.0, "1.00", 0.99, 0.997]),
])
def test_rounded_answers_are_accepted_to_the_figures_written(name, right, wrong):
    truth = float(solution(name))
    for answer in right:
        assert check(name, answer).correct, (name, answer, truth)
    for answer in wrong:
        assert not check(name, answer).correct, (name, answer, truth)


def test_close_rounds_the_truth_to_the_learners_figures():
    from explainer.exercises.core import close, read_number, significant_figures

    ex = exercises.get("scale_ratio")

    assert significant_figures(read_number("0.160", ex)) == (3, 0.001)
    assert significant_figures(read_number(0.16, ex))[0] == 2
    assert significant_figures(read_number("2", ex))[0] == 1
    assert close(read_number("0.16", ex), 0.15629) and close(read_number("0.1563", ex), 0.15629)
    assert not close(read_number("0.2", ex), 0.15629)  # one figure is not enough
    assert not close(read_number("0.15", ex), 0.15629)  # wrong digits
    assert not close(read_number("0.160", ex), 0.15629)  # three figures written, 0.156 true
    assert close(read_number("2", ex), 2.0000001)  # the true value itself, however written
    assert close(read_number("0.10", ex), 0.0996) and not close(read_number(0.1, ex), 0.0996)
    assert not close(read_number("1.00", ex), 255 / 256, figures=3)


def test_answers_follow_the_block_not_a_table():
    """The truth is measured: the ratio at 0.30 is 0.30/0.17 times the one at 0.17."""
    at_017, at_030 = _ratio_at(0.17), _ratio_at(0.30)
    assert at_030 == pytest.approx(at_017 * 0.30 / 0.17, rel=1e-5)
    assert check("scale_ratio", f"{at_030:.3g}") and check("scale_ratio", at_030)
    assert not check("scale_ratio", at_030 * 1.05)
    assert f"{at_030:.4f}" in solution("scale_ratio")


def test_known_mistakes_get_specific_reasons():
    assert "scale 1" in check("start_ratio", _ratio_at(1.0)).why
    assert "shortcut" in check("star_gradient", 1.0).why
    assert "mixed" in check("walk_up_shape", (1, 35, 35, 96)).why
    assert "squared norm" in check("scale_ratio_double", 4.0).why
    assert "zero" in check("port_swap_bn", 0.0).why
    assert "v1 needs" in check("port_v2_changes", 3).why
    assert "slim / Keras layout" in check("port_kernel_shape", (1, 1, 96, 256)).why
    refused = check("broadcast_per_sample", (2,)).why
    assert "broadcast" in refused and "(2,)" in refused  # numpy's own message
    assert "same numbers" in check("broadcast_per_sample", (1, 1, 1, 256)).why
    assert "Right-align" in check("broadcast_silent_mistake", True).why


def test_solution_is_computed_text():
    assert solution("walk_mixed_channels") == "96"
    assert solution("star_graph_op") == "Mul"
    assert solution("port_kernel_shape") == "(256, 96, 1, 1)"
    assert float(solution("port_swap_bn")) > 1e-3  # the swap is caught


@pytest.mark.parametrize("name, answer, words", [
    ("scale_ratio", "a tenth", ["'a tenth'", "is not a number", "such as 0.5"]),
    ("scale_ratio", [0.1], ["answer", "[0.1]", "number"]),
    ("scale_ratio", float("nan"), ["answer", "finite"]),
    ("scale_ratio", "1e400", ["'1e400'", "finite"]),
    ("scale_ratio", "", ["empty", "a number"]),
    ("scale_ratio", "9" * 2000, ["2,000 characters", "a number"]),
    ("start_scale", True, ["True (bool)", "number"]),
    ("walk_up_shape", 5, ["5 (int)", "shape"]),
    ("walk_up_shape", (1, 35.0, 35, 256), ["35.0", "shape"]),
    ("walk_up_shape", (1, -35, 35, 256), ["-35", "shape"]),
    ("walk_mixed_channels", 96.0, ["96.0 (float)", "whole number"]),
    ("star_inplace", "maybe", ["'maybe'", "True or False"]),
    ("star_inplace", 1, ["1 (int)", "True or False"]),
    ("walk_up_shape", "(1, 35, 35, 256", ["'(1, 35, 35, 256'", "not a shape"]),
    ("walk_mixed_channels", "ninety-six", ["'ninety-six'", "whole number"]),
    ("star_graph_op", "  ", ["empty", "op type"]),
    ("start_star", "e", ["'e'", "'a', 'b', 'c', 'd'"]),
])
def test_bad_answers_are_a_verdict_that_names_the_form(name, answer, words):
    """A malformed answer is "Not yet" with the form expected, never an exception (a
    learner would see a traceback)."""
    verdict = check(name, answer)
    assert not verdict.correct and not verdict.pending
    assert str(verdict).startswith(f"[{name}] Not yet: ")
    assert f"expected {exercises.get(name).expects}" in verdict.why or "answer:" in verdict.why
    for word in words:
        assert word in verdict.why, (word, verdict.why)


def test_no_odd_answer_raises():
    """Odd answers of every kind, to every exercise: a verdict each time (the bug: 391 of 511
    raised ValueError / TypeError)."""
    odd = ["", " ", "abc", "1e400", "-1e400", "nan", "inf", "0x10", "1_000", "1/6", "17 %",
           "0,17", "\uff10.\uff11\uff17", "\u00bd", "\u03c0", "()", "[]", "(", ")", "(1,,2)",
           "True", "None", "{}", "'", '""', "...x", "\x00", "9" * 1001, "-0", "+.5", "5.",
           None, 1j, [], {}, object(), b"0.17", 10**400, -(10**400), float("inf"), (1,) * 65,
           [2**70], ("a",), np.float64("nan"), np.array([1.0, 2.0])]
    for ex in list_exercises():
        for answer in odd:
            verdict = check(ex.name, answer)
            assert isinstance(verdict, Verdict) and not verdict.pending, (ex.name, answer)
            assert verdict.why, (ex.name, answer)


@pytest.mark.parametrize("name, text, value", [
    ("walk_up_shape", "(1,35,35,256)", (1, 35, 35, 256)),
    ("walk_up_shape", "[1, 35, 35, 256]", (1, 35, 35, 256)),
    ("walk_up_shape", " 1, 35, 35, 256 ", (1, 35, 35, 256)),
    ("walk_mixed_channels", "96", 96),
    ("start_scale", "0.17", 0.17),
    ("star_inplace", "False", False),
    ("star_inplace", "no", False),
    ("star_graph_op", "'Mul'", "Mul"),
])
def test_text_answers_are_read_like_the_value_they_spell(name, text, value):
    by_text, by_value = check(name, text), check(name, value)
    assert by_text.correct == by_value.correct and by_text.why == by_value.why


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_the_placeholder_asks_for_an_answer_instead_of_grading(name):
    for placeholder in (..., "...", " ... "):
        verdict = check(name, placeholder)
        assert verdict.pending and not verdict.correct
        assert str(verdict).startswith(f"[{name}] Your turn: replace ... with your answer")
        html = verdict._repr_html_()
        assert "Not yet" not in html and "#D55E00" not in html and "Your turn" in html


def test_unknown_names_are_refused_with_suggestions():
    with pytest.raises(ValueError, match=r"name: got 'scale_raito'.*did you mean 'scale_ratio'"):
        check("scale_raito", 0.1)
    with pytest.raises(TypeError, match="name: got 3"):
        check(3, 0.1)


def test_list_exercises_accepts_numbers_and_names():
    by_number = list_exercises(3)
    assert [e.name for e in by_number] == ["relu6_clip", "scale_ratio", "scale_ratio_double",
                                           "scale_zero_identity"]
    for key in ("03", "03_residual_scaling", "03_residual_scaling.ipynb"):
        assert list_exercises(key) == by_number
    assert len(list_exercises()) >= len(KNOWN)
    with pytest.raises(ValueError, match="notebook: got 9"):
        list_exercises(9)
    with pytest.raises(TypeError, match="notebook: got 3.0"):
        list_exercises(3.0)


def test_verdict_html_is_escaped_and_not_colour_only():
    html = Verdict("x", "<b>", False, "a < b")._repr_html_()
    assert "a &lt; b" in html and "Not yet" in html
    assert "Right" in Verdict("x", 1, True, "fine")._repr_html_()


def _checked_names(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    source = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    return re.findall(r"exercises\.check\(\s*[\"'](\w+)[\"']", source)


@pytest.mark.parametrize("notebook", PATH)
def test_each_notebook_ends_with_its_exercises(notebook):
    path = NOTEBOOKS / f"{notebook}.ipynb"
    if not path.exists():
        pytest.fail(f"{path.name} is missing: the path needs it")
    names = _checked_names(path)
    assert sorted(names) == sorted(e.name for e in list_exercises(notebook))
    nb = nbformat.read(path, as_version=4)
    assert "you will learn" in nb.cells[0].source.lower()
    last_code = [c for c in nb.cells if c.cell_type == "code"][-1]
    assert "exercises.check(" in last_code.source


@pytest.mark.parametrize("notebook", RENDERED)
def test_each_question_is_written_once_and_rendered_from_the_registry(notebook):
    """The notebook's exercise section is exactly what render.exercise_cells makes of the
    registry: the question text lives in one place, and every cell holds the placeholder."""
    from explainer.exercises import render

    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", as_version=4)
    headings = [c for c in nb.cells if c.cell_type == "markdown" and "Exercises" in c.source
                and c.source.lstrip().startswith("#")]
    assert len(headings) == 1, f"{notebook}: {len(headings)} exercise introductions"
    section = nb.cells[render.section_start(nb.cells):]
    assert [(c.cell_type, c.source) for c in section] == render.exercise_cells(notebook), (
        f"run: python -m explainer.exercises.render notebooks/{notebook}.ipynb")
    for cell in section[1:]:
        assert cell.source.rstrip().endswith(", ...)")
        question = exercises.get(re.findall(r'check\("(\w+)"', cell.source)[0]).question
        assert question not in cell.source  # the code cell does not repeat the question
