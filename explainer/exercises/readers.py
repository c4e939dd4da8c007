"""How an answer is read: the text grammar shared with the static pages, and Python values.

A number is decimal text (``0.17``, ``-1.5e-3``) or a real number; a whole number is digits with
an optional sign or an int; a shape is whole numbers separated by commas, in ``( )`` or ``[ ]``
or bare, or a tuple/list of them; True/False is ``True``, ``False``, ``yes`` or ``no`` in any
case (or a bool); a word is non-empty text. Leading and trailing ASCII white space is ignored.
An answer of another form raises :class:`AnswerError`, whose words name the form expected
(``explainer.exercises.check`` makes it a "Not yet" verdict). The page's grader
(:mod:`explainer.site.exercise_page`) implements the same grammar and words.
"""

from __future__ import annotations

import decimal
import math
import re
from collections.abc import Callable

import numpy as np

from ..broadcasting.shapes import MAX_DIM, MAX_RANK
from ..core.validate import FLOAT32_MAX, check_scale, given

FIGURES = 2  # significant figures a numeric answer needs, unless an exercise asks for more


class AnswerError(ValueError):
    """An answer that is not of the kind the exercise asks for (a word for a number, an empty
    text, ...): :func:`explainer.exercises.check` makes it a "Not yet" verdict."""


PLACEHOLDER = "..."  # what an exercise cell holds until the learner writes an answer
SPACES = " \t\n\r\x0b\x0c"  # what a text answer is stripped of, here and in the page


def is_placeholder(answer: object) -> bool:
    """Whether ``answer`` is the cell's placeholder: ``...`` (Ellipsis) or the text "..."."""
    return answer is Ellipsis or (isinstance(answer, str) and answer.strip(SPACES) == PLACEHOLDER)


ECHO = 60  # characters of a text answer a verdict repeats


def echo(text: str) -> str:
    """A text answer as a verdict repeats it: stripped, cut to :data:`ECHO` characters."""
    text = text.strip(SPACES)
    return text if len(text) <= ECHO else f"{text[:ECHO - 15]}... ({len(text):,} characters)"


def malformed(answer: object, noun: str, ex) -> AnswerError:
    """The "Not yet" words for an answer of the wrong form: what it is not, what is expected."""
    expected = f"expected {ex.expects}, such as {ex.example}."
    if isinstance(answer, str):
        if not answer.strip(SPACES):
            return AnswerError(f"the answer is empty; {expected}")
        return AnswerError(f"'{echo(answer)}' is not {noun}; {expected}")
    return AnswerError(f"{given(answer)} is not {noun}; {expected}")


_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_WHOLE_TEXT = re.compile(r"[+-]?[0-9]+")
_SIZE_TEXT = re.compile(r"[0-9]+")


class Number(float):
    """A learner's number, remembering the digits as written (``"0.160"`` has 3 significant
    figures, the float 0.16 has 2): :func:`close` grades it to the figures given."""

    written: str

    def __new__(cls, value: float, written: str):
        number = super().__new__(cls, value)
        number.written = written
        return number


def read_number(answer: object, ex) -> Number:
    """A real number finite in float32: decimal text such as "0.17", or an int, float, numpy
    scalar or 0-d array. It keeps the digits as written, for :func:`close`."""
    if isinstance(answer, str):
        text = answer.strip(SPACES)
        if not _NUMBER_TEXT.fullmatch(text):
            raise malformed(answer, "a number", ex)
        value = float(text)
        if not math.isfinite(value) or abs(value) > FLOAT32_MAX:
            raise malformed(answer, "a finite number (float32)", ex)
        return Number(value, text)
    try:
        value = check_scale(answer, name="answer", example=ex.example)
    except (TypeError, ValueError) as err:
        raise AnswerError(f"{err}.") from None
    return Number(value, str(value))


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
    rounded = float(f"{truth:.{min(given_figures, 17) - 1}e}")  # past 17 figures: the truth
    return math.isclose(float(value), rounded, rel_tol=1e-9)


def read_int(answer: object, ex) -> int:
    """A whole number: digits with an optional sign, an int or a numpy integer (bools and
    floats refused)."""
    if isinstance(answer, str):
        text = answer.strip(SPACES)
        if not _WHOLE_TEXT.fullmatch(text):
            raise malformed(answer, "a whole number", ex)
        return int(text)
    if isinstance(answer, np.integer):
        answer = int(answer)
    if isinstance(answer, bool) or not isinstance(answer, int):
        raise malformed(answer, "a whole number", ex)
    return answer


_TRUE, _FALSE = ("true", "yes"), ("false", "no")


def read_bool(answer: object, ex) -> bool:
    """True or False (numpy bools, and the text "True" / "False" / "yes" / "no" too)."""
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    if isinstance(answer, str) and answer.strip(SPACES).lower() in _TRUE + _FALSE:
        return answer.strip(SPACES).lower() in _TRUE
    raise malformed(answer, "True or False", ex)


def read_text(answer: object, ex) -> str:
    """A word: non-empty text, stripped of white space and then of quotes."""
    if not isinstance(answer, str):
        raise malformed(answer, "a word (text)", ex)
    text = answer.strip(SPACES).strip("'\"")
    if not text:
        raise malformed("", "a word (text)", ex)
    return text


def read_choice(answer: object, ex) -> str:
    """One of the exercise's options, as text: "b", "(b)" or "B"."""
    choice = read_text(answer, ex).lower().strip("() ")
    if choice not in ex.options:
        raise malformed(answer, "one of " + ", ".join(f"'{o}'" for o in ex.options), ex)
    return choice


def read_shape(answer: object, ex) -> tuple[int, ...]:
    """A shape: whole numbers >= 0 separated by commas, in ( ) or [ ] or bare ("(1, 35, 35,
    256)", "256,"), or a tuple or list of whole numbers."""
    if isinstance(answer, str):
        text = answer.strip(SPACES)
        inner = text
        if text[:1] in "([":
            if len(text) < 2 or text[-1] != {"(": ")", "[": "]"}[text[0]]:
                raise malformed(answer, "a shape", ex)
            inner = text[1:-1]
            if not inner.strip(SPACES):
                return ()
        items = [item.strip(SPACES) for item in inner.split(",")]
        if len(items) > 1 and not items[-1]:  # one trailing comma, as in (256,)
            items.pop()
        if len(items) > MAX_RANK or not all(_SIZE_TEXT.fullmatch(i) and
                                            len(i.lstrip("0")) <= 19 and int(i) <= MAX_DIM
                                            for i in items):
            raise malformed(answer, "a shape", ex)
        return tuple(int(i) for i in items)
    if not isinstance(answer, (tuple, list)) or len(answer) > MAX_RANK:
        raise malformed(answer, "a shape", ex)
    dims = [int(d) if isinstance(d, np.integer) else d for d in answer]
    if not all(isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= MAX_DIM
               for d in dims):
        raise malformed(answer, "a shape", ex)
    return tuple(dims)


READERS: dict[str, Callable[[object, object], object]] = {
    "number": read_number, "whole": read_int, "bool": read_bool, "text": read_text,
    "choice": read_choice, "shape": read_shape}
