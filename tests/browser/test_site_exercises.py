"""Every exercise checked in the page: ``window.checkExercise`` (the page's grader,
:mod:`explainer.site.exercise_page`) against ``explainer.exercises.check`` on hundreds of typed
answers, messages included; the forms work from the keyboard and pass axe."""

from __future__ import annotations

import pytest
from accessibility import axe_violations

from explainer.exercises import check, list_exercises, notebooks, solution

MIN_ANSWERS = 20  # per exercise, at the least

# odd text any exercise may meet: empty, spaces, words, malformed numbers and shapes, unicode
ODD = ["", "   ", "abc", "...", " ... ", "\u2026", "1e400", "-1e400", "nan", "inf", "0x10",
       "1_000", "1/6", "17 %", "0,17", "\uff10.\uff11\uff17", "\u00bd", "\u03c0", "()", "[]", "(",
       "(1,,2)", "True", "no", "None", "{}", "'", '""', "\x00", "9" * 1001, "-0", "+.5", "5.",
       "0.160", "1234565", "0.000012345", "123456789", "1e-7", "12 345", "x" * 80, "\U0001F600",
       "\u00a00.17", "0.17\n", "\t96\t", "(256, 96, 1, 1", "[2, 1, 1, 1]", "1.5e-3",
       "mul", "B", "(b)", "e", "yes", "FALSE", "256,", "(1, -35)"]

SHAPES = ["(2, 1, 1, 1)", "(1, 1, 1, 1)", "(2,)", "(3,)", "(2, 1, 1, 256)", "(2, 35, 1, 1)",
          "(1, 2, 1, 1, 1)", "(256,)", "(2, 35, 35, 256)", "(0,)", str((1,) * 33),
          str((3,) + (1,) * 33), str((2,) + (1,) * 40), str((1,) * 33 + (3,)),
          str((1,) * 31 + (3,)), "(4611686018427387904, 1, 1, 1, 1)",
          "(1073741824, 4, 1, 1, 1, 1)", "(4611686018427387905,)", "(99999999999999999999,)",
          "[2,1,1,1]", "2, 1, 1, 1", "(1, 35, 35, 96)", "(96, 256, 1, 1)", "(1, 1, 256, 96)"]


def _numbers(text: str) -> list[str]:
    truth = float(text)
    forms = [f"{truth:.{k}g}" for k in range(1, 7)] + [f"{truth:.3e}", f"{truth * 1.01:.4g}",
                                                      f"{truth * 2:.4g}", f"{truth ** 2:.4g}",
                                                      f"{-truth:.3g}", "1", "1.0", "0", "0.0",
                                                      "0.17", "0.0886", "1e-6", "0.5"]
    return forms


def _answers(ex) -> list[str]:
    sol = solution(ex.name)
    extra = {"number": lambda: _numbers(sol), "whole": lambda: [sol, str(int(sol) + 1),
                                                                 str(int(sol) - 1), f"+{sol}",
                                                                 f"00{sol}", f"{sol}.0", "256",
                                                                 "96", "3", "7" * 400],
             "shape": lambda: [sol, *SHAPES], "bool": lambda: [sol, sol.lower(), " True ",
                                                               "False", "1", "0", "maybe"],
             "text": lambda: [sol, sol.upper(), f"'{sol}'", "MatMul", "tf.multiply",
                              "Multiply", "AddV2", "''"],
             "choice": lambda: ["a", "b", "c", "d", "(c)", " D ", "'a'", "ab", "f"]}
    return list(dict.fromkeys(extra[ex.reader]() + ODD))


@pytest.fixture(scope="module")
def oracle_page(tmp_path_factory):
    from explainer.site.exercise_page import standalone_page

    path = tmp_path_factory.mktemp("exercises") / "exercises.html"
    path.write_text(standalone_page(notebooks()), encoding="utf-8")
    return path


def test_the_page_grades_every_exercise_as_python_does(page, oracle_page):
    page.goto(oracle_page.as_uri())
    cases = [(ex.name, text) for ex in list_exercises() for text in _answers(ex)]
    per_exercise = {ex.name: sum(n == ex.name for n, _ in cases) for ex in list_exercises()}
    assert min(per_exercise.values()) >= MIN_ANSWERS, per_exercise
    in_page = page.evaluate("cases => cases.map(([n, t]) => window.checkExercise(n, t))", cases)
    differ = []
    for (name, text), got in zip(cases, in_page, strict=True):
        verdict = check(name, text)
        want = {"ok": bool(verdict), "message": str(verdict)}
        if got != want:
            differ.append((name, text[:40], want, got))
    assert differ == [], f"{len(differ)} of {len(cases)} differ, e.g. {differ[:3]}"
    oks = sum(g["ok"] for g in in_page)
    assert 0 < oks < len(cases) // 2  # right and wrong answers both met
    assert page.console_messages == [] or not any("error" in m for m in page.console_messages)


def test_the_forms_work_from_the_keyboard_and_pass_axe(page, oracle_page):
    page.goto(oracle_page.as_uri())
    page.keyboard.press("Tab")  # the first input
    name = page.evaluate("document.activeElement.id")
    assert name.startswith("answer-")
    exercise = name.removeprefix("answer-")
    page.keyboard.type(solution(exercise) if exercise != "start_star" else "b")
    page.keyboard.press("Enter")
    box = page.locator(f'.page-exercise[data-exercise="{exercise}"]')
    assert box.locator(".exercise-verdict").inner_text().startswith(f"[{exercise}] Right")
    box.locator("input").fill("a word")
    page.keyboard.press("Tab")  # the Check button
    assert page.evaluate("document.activeElement.tagName") == "BUTTON"
    page.keyboard.press("Space")
    assert "Not yet" in box.locator(".exercise-verdict").inner_text()
    assert "answers are in this page's source" in page.inner_text("body")
    assert axe_violations(page) == []
