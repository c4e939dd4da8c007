"""The exercise machinery: an :class:`Exercise` registry, :class:`Verdict`, answer readers and
the rules a verdict is chosen by.

An exercise is a question, a reader (what kind of answer: a number, a whole number, a shape,
True/False, a word, one of a/b/c/d) and a function that computes its :class:`Rule` list at
check time, by running the package (a block, a trace, TensorFlow, numpy). The first rule the
answer meets gives the verdict and its words; nothing is compared with a typed-in key. The
static pages grade in the browser with the same rules, computed when the pages are built
(:mod:`explainer.site.exercise_page`), so the page and :func:`explainer.exercises.check` say
the same words.

An answer typed as text follows one small grammar, the same in Python and in the page: a
number is decimal text (``0.17``, ``-1.5e-3``), a whole number is digits with an optional sign,
a shape is whole numbers separated by commas, in ``( )`` or ``[ ]`` or bare (``(1, 35, 35,
256)``, ``256,``), True/False is ``True``, ``False``, ``yes`` or ``no`` in any case; leading
and trailing ASCII white space is ignored. Anything else is a verdict "Not yet" that names the
expected form (:class:`AnswerError`), never a traceback.
"""

from __future__ import annotations

import decimal
import functools
import html
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ..broadcasting.shapes import MAX_DIM, MAX_RANK
from ..core.validate import FLOAT32_MAX, check_scale, given


class AnswerError(ValueError):
    """An answer that is not of the kind the exercise asks for (a word for a number, an empty
    text, ...): :func:`explainer.exercises.check` makes it a "Not yet" verdict."""


ANSWER = "{answer}"  # where a rule's message shows the answer as read
Rules = Callable[[], "list[Rule]"]


@dataclass(frozen=True)
class Rule:
    """One case of a grader: when the answer meets ``test`` against ``target``, the verdict
    is ``right`` and says ``message`` (with :data:`ANSWER` replaced by the answer as read).

    Tests: ``close`` (a number, to the figures written, :func:`close`), ``equal`` (the same
    value; case-insensitive for words), ``at_most`` (a number <= target), ``same_sizes`` (a
    shape with the target's sizes in any order), ``contains`` (a word holding the target,
    case-insensitive), ``always``, and ``per_sample`` (see
    :mod:`explainer.exercises.broadcasting`; ``messages`` holds its cases' words)."""

    test: str
    target: object
    right: bool
    message: str = ""
    figures: int = 0
    messages: dict = field(default_factory=dict)
    judge: Callable | None = field(default=None, repr=False, compare=False)

    def as_json(self) -> dict:
        """The rule as the page's grader reads it (a ``close`` rule carries the truth rounded
        to 1..17 significant figures, as Python's formatting rounds it)."""
        out: dict = {"test": self.test, "right": self.right, "message": self.message}
        if self.test == "close":
            truth = float(self.target)
            out.update(target=truth, figures=self.figures,
                       rounded=[float(f"{truth:.{k - 1}e}") for k in range(1, 18)])
        elif self.test in ("equal", "at_most", "same_sizes", "contains", "per_sample"):
            out["target"] = _json_value(self.target)
        if self.messages:
            out["messages"] = dict(self.messages)
        return out


def _json_value(value: object) -> object:
    if isinstance(value, tuple):
        return [str(v) for v in value]  # shapes' sizes as text: exact as whole numbers
    if isinstance(value, bool) or isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return float(value)


def when_close(truth: float, right: bool, message: str, figures: int | None = None) -> Rule:
    return Rule("close", float(truth), right, message, figures or FIGURES)


def when_equal(target: object, right: bool, message: str) -> Rule:
    return Rule("equal", target, right, message)


def when_at_most(limit: float, right: bool, message: str) -> Rule:
    return Rule("at_most", float(limit), right, message)


def when_same_sizes(target: tuple, right: bool, message: str) -> Rule:
    return Rule("same_sizes", tuple(int(d) for d in target), right, message)


def when_contains(word: str, right: bool, message: str) -> Rule:
    return Rule("contains", word, right, message)


def otherwise(right: bool, message: str) -> Rule:
    return Rule("always", None, right, message)


@dataclass(frozen=True)
class Exercise:
    """One question of a notebook; ``grade(answer) -> (correct, why)`` computes the truth."""

    name: str
    notebook: str  # the notebook's file stem, e.g. "03_residual_scaling"
    question: str
    expects: str  # what kind of answer, in words: "a number", "a shape tuple", ...
    example: str  # an answer that has the right type (not the right value), for the cell
    grade: Callable[[object], tuple[bool, str]] = field(repr=False, compare=False)
    solve: Callable[[], str] = field(repr=False, compare=False)
    reader: str = "number"  # a key of READERS
    rules: Rules = field(default=lambda: [], repr=False, compare=False)
    options: tuple[str, ...] = ()  # the choices of a "choice" reader

    def read(self, answer: object) -> object:
        """The answer as a value of the exercise's kind, or an :class:`AnswerError`."""
        return READERS[self.reader](answer, self)


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


def exercise(name: str, notebook: str, question: str, expects: str, example: str,
             solve: Callable[[], str], reader: str = "number",
             options: tuple[str, ...] = ()) -> Callable[[Rules], Rules]:
    """Register the decorated function, which computes the exercise's :class:`Rule` list by
    running the package, as exercise ``name`` of ``notebook``; ``reader`` (a key of
    :data:`READERS`) says what kind of answer it takes."""
    if reader not in READERS:
        raise ValueError(f"reader: got {reader!r}; expected one of {sorted(READERS)}")

    def register(rules: Rules) -> Rules:
        if name in REGISTRY:
            raise RuntimeError(f"exercise {name!r} is registered twice")
        computed = functools.lru_cache(maxsize=1)(rules)  # the package runs once per process

        def graded(answer: object) -> tuple[bool, str]:
            return evaluate(REGISTRY[name], answer)

        REGISTRY[name] = Exercise(name, notebook, question, expects, example, graded, solve,
                                  reader, computed, options)
        return computed

    return register


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


def malformed(answer: object, noun: str, ex: Exercise) -> AnswerError:
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


def read_number(answer: object, ex: Exercise) -> Number:
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


def read_int(answer: object, ex: Exercise) -> int:
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


def read_bool(answer: object, ex: Exercise) -> bool:
    """True or False (numpy bools, and the text "True" / "False" / "yes" / "no" too)."""
    if isinstance(answer, (bool, np.bool_)):
        return bool(answer)
    if isinstance(answer, str) and answer.strip(SPACES).lower() in _TRUE + _FALSE:
        return answer.strip(SPACES).lower() in _TRUE
    raise malformed(answer, "True or False", ex)


def read_text(answer: object, ex: Exercise) -> str:
    """A word: non-empty text, stripped of white space and then of quotes."""
    if not isinstance(answer, str):
        raise malformed(answer, "a word (text)", ex)
    text = answer.strip(SPACES).strip("'\"")
    if not text:
        raise malformed("", "a word (text)", ex)
    return text


def read_choice(answer: object, ex: Exercise) -> str:
    """One of the exercise's options, as text: "b", "(b)" or "B"."""
    choice = read_text(answer, ex).lower().strip("() ")
    if choice not in ex.options:
        raise malformed(answer, "one of " + ", ".join(f"'{o}'" for o in ex.options), ex)
    return choice


def read_shape(answer: object, ex: Exercise) -> tuple[int, ...]:
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


READERS: dict[str, Callable[[object, Exercise], object]] = {
    "number": read_number, "whole": read_int, "bool": read_bool, "text": read_text,
    "choice": read_choice, "shape": read_shape}


def shown(value: object) -> str:
    """An answer as a rule's message shows it: a number as ``:g`` formats it, a shape as a
    tuple, a word as written."""
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        return echo(value)
    return str(value)


def meets(rule: Rule, value: object) -> bool:
    """Whether the answer (as read) meets ``rule``'s test."""
    if rule.test == "always":
        return True
    if rule.test == "close":
        return close(value, rule.target, rule.figures)
    if rule.test == "at_most":
        return float(value) <= rule.target
    if rule.test == "same_sizes":
        return sorted(value) == sorted(rule.target)
    if rule.test == "contains":
        return rule.target.lower() in value.lower()
    if rule.test == "equal":
        if isinstance(value, str):
            return value.lower() == str(rule.target).lower()
        if isinstance(value, float):
            return float(value) == float(rule.target)
        return value == rule.target
    raise ValueError(f"rule: got test {rule.test!r}; expected one of always, close, at_most, "
                     "same_sizes, contains, equal, per_sample")


def evaluate(ex: Exercise, answer: object) -> tuple[bool, str]:
    """(right?, why) for ``answer``: read it, then the first of the exercise's rules it meets."""
    value = ex.read(answer)
    for rule in ex.rules():
        if rule.test == "per_sample":
            return rule.judge(value)
        if meets(rule, value):
            return rule.right, rule.message.replace(ANSWER, shown(value))
    raise RuntimeError(f"exercise {ex.name!r}: no rule met {value!r}; its last rule must be "
                       "otherwise(...)")
