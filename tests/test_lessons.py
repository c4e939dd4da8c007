"""Lessons a learner does: every exercise is answerable from its notebook's own names, no
output carries a TensorFlow warning, sections with data have figures, and the outputs say
what they mean."""

from __future__ import annotations

import re

import pytest
from lesson_answers import FROM_NOTEBOOK

import explainer
from explainer.exercises import list_exercises

MIN_FIGURES = {"00_start_here": 1, "01_what_does_star_do": 2, "02_block35_walkthrough": 2,
               "03_residual_scaling": 5, "04_broadcasting": 3, "05_porting": 1}
# TensorFlow's Python warnings, its native (absl) log lines, Python warnings of any kind
TF_WARNING = re.compile(r"WARNING:tensorflow|triggered tf\.function retracing|^[IWE]\d{4} "
                        r"|\w+Warning: |WARNING: All log messages", re.M)


def output_texts(nb) -> list[str]:
    """Every text a learner can see in the executed notebook: streams (stdout and stderr),
    results, errors."""
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                texts.append(out.text)
            elif out.output_type == "error":
                texts.append("\n".join(out.traceback))
            else:
                texts += [v for k, v in out.get("data", {}).items() if k.startswith("text/")]
    return texts


def test_the_warning_pattern_catches_what_tensorflow_prints():
    retrace = ("WARNING:tensorflow:5 out of the last 5 calls to <function f> triggered "
               "tf.function retracing. Tracing is expensive")
    native = "W0000 00:00:1796037184.970348   16809 local_rendezvous.cc:412] Local rendezvous"
    for text in (retrace, native, "/x.py:3: UserWarning: careful"):
        assert TF_WARNING.search(text)
    assert not TF_WARNING.search("a warning in prose, Wide 0000 numbers, 'W' alone")


def test_every_exercise_of_notebooks_00_to_05_has_an_answer_expression():
    for notebook, answers in FROM_NOTEBOOK.items():
        assert set(answers) == {e.name for e in list_exercises(notebook)}, notebook


@pytest.mark.notebook
@pytest.mark.parametrize("notebook", sorted(FROM_NOTEBOOK))
def test_each_exercise_is_answerable_from_the_notebook(notebook, notebook_runs):
    """The notebook as stored ran, then each answer was computed from the names it defined
    (tests/lesson_answers.py): the check must say Right. Also: no TensorFlow warning anywhere
    in the outputs (stdout too), and the figures are there."""
    run = notebook_runs.get(f"{notebook}.ipynb")
    assert run.error is None, run.error
    nb, stored = run.nb, run.stored
    answered = nb.cells[stored + 1:]
    for (name, expression), cell in zip(FROM_NOTEBOOK[notebook].items(), answered, strict=True):
        printed = "".join(o.get("text", "") for o in cell.outputs)
        assert printed.startswith(f"[{name}] Right"), (expression, printed)
    warnings = [m.group(0) for t in output_texts(nb) for m in [TF_WARNING.search(t)] if m]
    assert not warnings, warnings
    figures = sum("image/png" in o.get("data", {}) for c in nb.cells[:stored]
                  for o in c.get("outputs", []))
    assert figures >= MIN_FIGURES[notebook], f"{notebook}: {figures} figures"
    pending = [o for c in nb.cells[:stored] for o in c.get("outputs", [])
               if "Not yet" in str(o.get("data", {}))]
    assert not pending, "a stored exercise cell is graded red before the learner answers"


def test_inplace_table_speaks_of_an_alias_only_where_the_code_has_one():
    for case in explainer.inplace_semantics():
        if "alias" not in case.code:
            assert "alias" not in case.verdict, case
    raised = [c for c in explainer.inplace_semantics() if c.error and "alias" not in c.code]
    assert raised and all("net still holds the old value" in c.verdict for c in raised)
    # the autograd case changes `up`, not `net`: the verdict names the tensor it changed
    (autograd,) = [c for c in raised if "backward" in c.code]
    assert "the tensor changed in place is `up` (version counter 1" in autograd.verdict


def test_broadcast_diagrams_are_at_least_800_px_wide():
    from explainer.plots.broadcast import figure_png
    from explainer.widgets.images import png_size

    for a, b in (("()", "(1, 35, 35, 256)"), ("(2, 35, 35, 256)", "(256, 1)"), ("(3,)", "(3,)")):
        e = explainer.explain_broadcast(a, b)
        assert png_size(explainer.plots.broadcast_diagram_png(e))[0] >= 800
        assert png_size(figure_png(explainer.plots.broadcast_diagram(e)))[0] >= 800


def test_translation_rows_that_run_are_not_called_disagreeing():
    rows = explainer.translation_table()
    for row in rows:
        old_failed = row.old_result.split(":")[0].endswith("Error")
        if old_failed and not row.new_result.split(":")[0].endswith("Error"):
            assert row.outcome == "the TF1 form fails on TF 2.21; the new form runs"
    text = explainer.ports.translation.table_text(rows)
    assert "agree: False" not in text and "outcome: same result" in text
