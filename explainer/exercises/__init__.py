"""Exercises for every notebook, checked by running the package: ``check(name, answer)``.

>>> from explainer.exercises import check, list_exercises
>>> [e.name for e in list_exercises("03")]
['relu6_clip', 'scale_ratio', 'scale_ratio_double', 'scale_zero_identity']
>>> check("scale_ratio_double", 2.0)      # doctest: +SKIP
[scale_ratio_double] Right: two real forwards give ... = 2.0000: ...

The true answer is computed when you check (a block is built and run, TensorFlow or numpy is
asked), never looked up in a table; a wrong answer says why it is wrong and how to find the
right one, and ``solution(name)`` shows the computed answer.
"""

from __future__ import annotations

import difflib

from ..core.quiet import load_tensorflow_quietly
from ..core.validate import given, shorten
from . import (  # noqa: F401 (register)
    broadcasting,
    misconceptions,
    porting,
    residual_scaling,
    star,
    start,
    walkthrough,
    why_scale,
)
from .core import PLACEHOLDER, REGISTRY, AnswerError, Exercise, Verdict, is_placeholder

__all__ = ["AnswerError", "Exercise", "Verdict", "check", "get", "list_exercises", "notebooks",
           "solution"]


def notebooks() -> list[str]:
    """The notebooks that have exercises, in the path's order."""
    return sorted({e.notebook for e in REGISTRY.values()})


def get(name: object) -> Exercise:
    """The exercise called ``name`` (a TypeError / ValueError that suggests names otherwise)."""
    if not isinstance(name, str):
        raise TypeError(f"name: got {given(name)}; expected an exercise "
                        "name (a string) such as 'scale_ratio'; see list_exercises()")
    if name not in REGISTRY:
        near = difflib.get_close_matches(name, list(REGISTRY), n=3)
        hint = f"; did you mean {', '.join(map(repr, near))}?" if near else ""
        raise ValueError(f"name: got {shorten(name)}, which is not an exercise{hint}; "
                         f"expected one of {', '.join(sorted(REGISTRY))}")
    return REGISTRY[name]


def list_exercises(notebook: object = None) -> list[Exercise]:
    """All exercises, or those of one notebook: 3, "03", "03_residual_scaling" or its file name."""
    if notebook is None:
        return sorted(REGISTRY.values(), key=lambda e: e.notebook)
    if isinstance(notebook, int) and not isinstance(notebook, bool):
        key = f"{notebook:02d}_"
    elif isinstance(notebook, str):
        key = notebook.strip().removesuffix(".ipynb")
    else:
        raise TypeError(f"notebook: got {given(notebook)}; expected None, "
                        "a number such as 3, or a name such as '03_residual_scaling'")
    found = [e for e in REGISTRY.values() if e.notebook == key or e.notebook.startswith(key)]
    if not key or not found:
        raise ValueError(f"notebook: got {shorten(notebook)}; expected one of {notebooks()} "
                         "(or its number)")
    return found


def check(name: str, answer: object) -> Verdict:
    """Grade ``answer`` to exercise ``name``: right or wrong, and why.

    The returned :class:`Verdict` is truthy when right and shows itself in a notebook
    (``print(verdict)`` in a terminal). An answer of the wrong kind (a word for a number, an
    empty text, ``1e400``, ...) is a "Not yet" verdict that names the form expected, not an
    exception; only an unknown exercise ``name`` raises. The placeholder ``...`` that the
    notebook's cells hold is not graded: the verdict asks for an answer.
    """
    ex = get(name)
    if is_placeholder(answer):
        return Verdict(name=name, answer=answer, correct=False, pending=True,
                       why=f"replace {PLACEHOLDER} with your answer ({ex.expects}, e.g. "
                           f"{ex.example}) and check it again.")
    try:
        _check_length(answer, ex)
        ex.read(answer)  # the form first: a malformed answer costs no TensorFlow
        load_tensorflow_quietly()  # the graders run the block: no native start-up lines
        correct, why = ex.grade(answer)
    except AnswerError as err:
        return Verdict(name=name, answer=answer, correct=False, why=str(err))
    return Verdict(name=name, answer=answer, correct=bool(correct), why=why)


MAX_ANSWER = 1000  # characters: every answer is a word, a number or a short shape


def _check_length(answer: object, ex: Exercise) -> None:
    """Refuse an answer far longer than any answer (a 10 MB string, a million-item tuple)
    before grading: a verdict would otherwise echo it whole. Text counts its characters, as
    the page does; other values their ``repr``."""
    try:
        size = len(answer) if isinstance(answer, (str, bytes, tuple, list, dict, set)) else 0
        if size <= MAX_ANSWER and not isinstance(answer, str):
            size = len(repr(answer))
    except Exception:  # noqa: BLE001 - a broken __len__ / __repr__: the reader says why
        return
    if size > MAX_ANSWER:
        raise AnswerError(f"the answer is {size:,} characters long; expected {ex.expects}, "
                          f"such as {ex.example}.")


def solution(name: str) -> str:
    """The answer to exercise ``name``, computed now by running the package."""
    ex = get(name)
    load_tensorflow_quietly()
    return ex.solve()
