"""The exercise machinery: an :class:`Exercise` registry, :class:`Verdict`, answer readers.

An exercise is a question plus a grading function. The grading function computes the true
answer at check time, by running the package (a block, a trace, TensorFlow, numpy), and
returns whether the learner's answer matches and why. Nothing is compared with a typed-in key.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..core.validate import check_scale, given

Grader = Callable[[object], "tuple[bool, str]"]


@dataclass(frozen=True)
class Exercise:
    """One question of a notebook; ``grade(answer) -> (correct, why)`` computes the truth."""

    name: str
    notebook: str  # the notebook's file stem, e.g. "03_residual_scaling"
    question: str
    expects: str  # what kind of answer, in words: "a number", "a shape tuple", ...
    example: str  # an answer that has the right type (not the right value), for the cell
    grade: Grader = field(repr=False, compare=False)
    solve: Callable[[], str] = field(repr=False, compare=False)


@dataclass(frozen=True)
class Verdict:
    """Right or wrong, and why. Truthy when right; shows itself in a notebook."""

    name: str
    answer: object
    correct: bool
    why: str

    def __bool__(self) -> bool:
        return self.correct

    def __str__(self) -> str:
        head = "Right" if self.correct else "Not yet"
        return f"[{self.name}] {head}: {self.why}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        # Okabe-Ito blue for right, vermillion for wrong: safe for colour-blind readers,
        # and the words "Right" / "Not yet" carry the meaning without colour.
        colour, mark, head = (("#0072B2", "&#10004;", "Right") if self.correct
                              else ("#D55E00", "&#10008;", "Not yet"))
        return (f'<div class="exercise-verdict" style="border-left:6px solid {colour};'
                f'padding:0.4em 0.8em;font-size:1.15em;line-height:1.4">'
                f'<b style="color:{colour}">{mark} {head}</b> '
                f'<code>{html.escape(self.name)}</code>: {html.escape(self.why)}</div>')


REGISTRY: dict[str, Exercise] = {}


def exercise(name: str, notebook: str, question: str, expects: str, example: str,
             solve: Callable[[], str]) -> Callable[[Grader], Grader]:
    """Register the decorated grading function as exercise ``name`` of ``notebook``."""

    def register(grade: Grader) -> Grader:
        if name in REGISTRY:
            raise RuntimeError(f"exercise {name!r} is registered twice")
        REGISTRY[name] = Exercise(name, notebook, question, expects, example, grade, solve)
        return grade

    return register


def read_number(answer: object, example: str = "0.1") -> float:
    """A finite real number (int, float, numpy scalar or 0-d array), else a clear error."""
    return check_scale(answer, name="answer", example=example)


def read_int(answer: object, example: str = "3") -> int:
    """A whole number (bools refused), else a TypeError."""
    if isinstance(answer, np.integer):
        answer = int(answer)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise TypeError(f"answer: got {given(answer)}; expected a whole number such as {example}")
    return answer


def read_bool(answer: object) -> bool:
    """True or False (numpy bools too), else a TypeError."""
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    raise TypeError(f"answer: got {given(answer)}; expected True or False")


def read_text(answer: object, example: str) -> str:
    """A non-empty string, stripped, else a TypeError / ValueError."""
    if not isinstance(answer, str):
        raise TypeError(f"answer: got {given(answer)}; expected a string such as {example}")
    if not answer.strip():
        raise ValueError(f"answer: got an empty string; expected a string such as {example}")
    return answer.strip()


def read_shape(answer: object, example: str = "(1, 35, 35, 256)") -> tuple[int, ...]:
    """A shape as a tuple or list of whole numbers >= 0, else a TypeError / ValueError."""
    if not isinstance(answer, (tuple, list)):
        raise TypeError(f"answer: got {given(answer)}; expected a shape as a tuple of whole "
                        f"numbers such as {example}")
    dims = []
    for i, dim in enumerate(answer):
        if isinstance(dim, np.integer):
            dim = int(dim)
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"answer[{i}]: got {given(dim)}; expected a whole number, as in "
                            f"{example}")
        if dim < 0:
            raise ValueError(f"answer[{i}]: got {dim}; expected a size >= 0, as in {example}")
        dims.append(dim)
    return tuple(dims)


def close(value: float, truth: float, rel: float = 0.01, abs_tol: float = 5e-4) -> bool:
    """Whether ``value`` matches ``truth`` to about two significant figures (1 %)."""
    return math.isclose(value, truth, rel_tol=rel, abs_tol=abs_tol)
