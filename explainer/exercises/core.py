"""The exercise machinery: an :class:`Exercise` registry, :class:`Verdict`, answer readers.

An exercise is a question plus a grading function. The grading function computes the true
answer at check time, by running the package (a block, a trace, TensorFlow, numpy), and
returns whether the learner's answer matches and why. Nothing is compared with a typed-in key.
"""

from __future__ import annotations

import ast
import contextvars
import decimal
import functools
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
    pending: bool = False  # the cell still holds the placeholder `...`: nothing was graded

    def __bool__(self) -> bool:
        return self.correct

    @property
    def head(self) -> str:
        return "Your turn" if self.pending else "Right" if self.correct else "Not yet"

    def __str__(self) -> str:
        return f"[{self.name}] {self.head}: {self.why}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        # Okabe-Ito blue for right, vermillion for wrong, grey for a placeholder not yet
        # replaced: safe for colour-blind readers, and the words carry the meaning too.
        colour, mark = (("#666666", "&#9998;") if self.pending else
                        ("#0072B2", "&#10004;") if self.correct else ("#D55E00", "&#10008;"))
        head = self.head
        return (f'<div class="exercise-verdict" style="border-left:6px solid {colour};'
                f'padding:0.4em 0.8em;font-size:1.15em;line-height:1.4">'
                f'<b style="color:{colour}">{mark} {head}</b> '
                f'<code>{html.escape(self.name)}</code>: {html.escape(self.why)}</div>')


REGISTRY: dict[str, Exercise] = {}
FIGURES = 2  # significant figures a numeric answer needs, unless an exercise asks for more
NUMBER = f"a number, to {FIGURES} or more significant figures"  # what a numeric one expects
# the example answer of the exercise being graded: the readers below name it in their errors
_EXAMPLE: contextvars.ContextVar[str | None] = contextvars.ContextVar("example", default=None)


def exercise(name: str, notebook: str, question: str, expects: str, example: str,
             solve: Callable[[], str]) -> Callable[[Grader], Grader]:
    """Register the decorated grading function as exercise ``name`` of ``notebook``.

    ``example`` is written here once: while the grader runs, the ``read_*`` functions name it
    in their errors ("expected a number such as 0.5")."""

    def register(grade: Grader) -> Grader:
        if name in REGISTRY:
            raise RuntimeError(f"exercise {name!r} is registered twice")

        @functools.wraps(grade)
        def graded(answer: object) -> tuple[bool, str]:
            token = _EXAMPLE.set(example)
            try:
                return grade(answer)
            finally:
                _EXAMPLE.reset(token)

        REGISTRY[name] = Exercise(name, notebook, question, expects, example, graded, solve)
        return graded

    return register


def _example(fallback: str) -> str:
    return _EXAMPLE.get() or fallback


PLACEHOLDER = "..."  # what an exercise cell holds until the learner writes an answer


def is_placeholder(answer: object) -> bool:
    """Whether ``answer`` is the cell's placeholder: ``...`` (Ellipsis) or the text "..."."""
    return answer is Ellipsis or (isinstance(answer, str) and answer.strip() == PLACEHOLDER)


def _literal(answer: object) -> object:
    """A text answer read as the Python literal it spells ("(1,35,35,256)" -> a tuple);
    text that is not a literal stays text. Non-text answers are returned as they are."""
    if not isinstance(answer, str):
        return answer
    try:
        return ast.literal_eval(answer.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return answer


class Number(float):
    """A learner's number, remembering the digits as written (``"0.160"`` has 3 significant
    figures, the float 0.16 has 2): :func:`close` grades it to the figures given."""

    written: str

    def __new__(cls, value: float, written: str):
        number = super().__new__(cls, value)
        number.written = written
        return number


def read_number(answer: object, example: str | None = None) -> Number:
    """A finite real number (int, float, numpy scalar, 0-d array, or text such as "0.17"),
    else a clear error. It keeps the digits as written, for :func:`close`."""
    example = example or _example("0.1")
    value = _literal(answer)
    if isinstance(value, str):
        raise ValueError(f"answer: got {given(answer)}, which is not a number; expected a "
                         f"number such as {example}")
    number = check_scale(value, name="answer", example=example)
    written = answer.strip() if isinstance(answer, str) else str(value)
    return Number(number, written)


def significant_figures(value: float) -> tuple[int, float]:
    """(significant figures, the unit of the last one) of a number as written: "0.16" ->
    (2, 0.01), "0.160" -> (3, 0.001), "2" -> (1, 1), "1.5e-3" -> (2, 1e-4). A plain float
    counts as its shortest text (0.16 -> "0.16")."""
    written = getattr(value, "written", None) or str(value)
    try:
        sign, digits, exponent = decimal.Decimal(written).as_tuple()
    except (decimal.InvalidOperation, ValueError):
        sign, digits, exponent = decimal.Decimal(repr(float(value))).as_tuple()
    if not isinstance(exponent, int):  # inf / NaN: never written by a learner who passed
        return 0, math.inf
    figures = len(digits) - next((i for i, d in enumerate(digits) if d), len(digits))
    return figures, 10.0 ** exponent


def close(value: float, truth: float, figures: int = FIGURES, *, rel: float | None = None,
          abs_tol: float | None = None) -> bool:
    """Whether ``value`` is ``truth``: the true value rounded to the significant figures the
    learner wrote (at least ``figures`` of them: 0.16 and 0.1563 both match 0.15629, 0.2 and
    0.15 do not), or the true value itself however it is written (1 for 1.0000001).

    The one rule every numeric exercise grades with; their texts say how many figures.
    ``rel`` / ``abs_tol`` grade with a relative tolerance instead."""
    if rel is not None or abs_tol is not None:
        return math.isclose(value, truth, rel_tol=0.01 if rel is None else rel,
                            abs_tol=5e-4 if abs_tol is None else abs_tol)
    if math.isclose(value, truth, rel_tol=1e-5, abs_tol=1e-12):
        return True
    given_figures, _ = significant_figures(value)
    if given_figures < figures or not math.isfinite(truth) or truth == 0:
        return False
    rounded = float(f"{truth:.{given_figures - 1}e}")
    return math.isclose(float(value), rounded, rel_tol=1e-9)


def read_int(answer: object, example: str | None = None) -> int:
    """A whole number (or text such as "96"; bools refused), else a TypeError / ValueError."""
    example = example or _example("3")
    value = _literal(answer)
    if isinstance(value, np.integer):
        value = int(value)
    if isinstance(value, str):
        raise ValueError(f"answer: got {given(answer)}, which is not a whole number; expected "
                         f"a whole number such as {example}")
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"answer: got {given(answer)}; expected a whole number such as {example}")
    return value


_TRUE, _FALSE = ("true", "yes"), ("false", "no")


def read_bool(answer: object) -> bool:
    """True or False (numpy bools, and the text "True" / "False" / "yes" / "no" too)."""
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    if isinstance(answer, str) and answer.strip().lower() in _TRUE + _FALSE:
        return answer.strip().lower() in _TRUE
    if isinstance(answer, str):
        raise ValueError(f"answer: got {given(answer)}; expected True or False")
    raise TypeError(f"answer: got {given(answer)}; expected True or False")


def read_text(answer: object, example: str | None = None) -> str:
    """A non-empty string, stripped, else a TypeError / ValueError."""
    example = example or _example("'text'")
    if not isinstance(answer, str):
        raise TypeError(f"answer: got {given(answer)}; expected a string such as {example}")
    if not answer.strip():
        raise ValueError(f"answer: got an empty string; expected a string such as {example}")
    return answer.strip().strip("'\"")


def read_shape(answer: object, example: str | None = None) -> tuple[int, ...]:
    """A shape: a tuple or list of whole numbers >= 0, or text such as "(1,35,35,256)",
    else a TypeError / ValueError."""
    example = example or _example("(1, 35, 35, 256)")
    value = _literal(answer)
    if isinstance(value, str):
        raise ValueError(f"answer: got {given(answer)}, which is not a shape; expected a shape "
                         f"such as {example}")
    if isinstance(value, int) and not isinstance(value, bool) and isinstance(answer, str):
        value = (value,)  # "256" or "256," typed as text
    if not isinstance(value, (tuple, list)):
        raise TypeError(f"answer: got {given(answer)}; expected a shape as a tuple of whole "
                        f"numbers such as {example}")
    dims = []
    for i, dim in enumerate(value):
        if isinstance(dim, np.integer):
            dim = int(dim)
        if isinstance(dim, bool) or not isinstance(dim, int):
            raise TypeError(f"answer[{i}]: got {given(dim)}; expected a whole number, as in "
                            f"{example}")
        if dim < 0:
            raise ValueError(f"answer[{i}]: got {dim}; expected a size >= 0, as in {example}")
        dims.append(dim)
    return tuple(dims)

