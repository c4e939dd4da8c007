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
expected form (:class:`AnswerError`), never a traceback (:mod:`explainer.exercises.readers`).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from dataclasses import dataclass, field

from .readers import (  # noqa: F401 - the readers' names, as the graders and tests know them
    ECHO,
    FIGURES,
    PLACEHOLDER,
    READERS,
    SPACES,
    AnswerError,
    Number,
    close,
    echo,
    is_placeholder,
    read_bool,
    read_choice,
    read_int,
    read_number,
    read_shape,
    read_text,
    significant_figures,
)

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
