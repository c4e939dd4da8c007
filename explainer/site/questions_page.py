"""The questions a learner brings, each answered in two lines computed by the package, with a
link to the lesson section that shows it (``questions.html``; notebook 00 prints the same
index with :func:`format_questions`).

Each :class:`Question` names its lesson and a heading of that notebook; the link is
``LESSON.html#ANCHOR`` with the anchor nbconvert gives that heading (the tests check that
every anchor is an ``id`` of the built page). The answers run the block, the exercises'
measurements, the stored why-scale runs, the spellings of the line, numpy and PyTorch when the
index is made: nothing is typed in. Where a number comes from the lessons' setting, the
answer says so (seeded random weights, a synthetic input of ReLU'd noise), not a trained net.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..core.backend import missing_extra
from ..core.quiet import load_tensorflow_quietly
from ..core.schedule import BLOCK35_SCALE, SCHEDULE
from ..exercises import facts
from ..exercises.broadcasting import PER_CHANNEL, UP_SHAPE, _result_shape
from ..exercises.core import REGISTRY
from ..exercises.star import _alias_after_plus_equals, _gradient_values, _graph_ops
from ..exercises.start import _star_evidence
from ..exercises.walkthrough import _scale_in_weights
from ..exercises.why_scale import DEEPEST, _failures, _results
from .lessons import default_notebooks
from .page_style import STATIC_CSS


@dataclass(frozen=True)
class Question:
    """One question, the lesson section that shows the answer, and the answer's maker."""

    ask: str
    notebook: str  # the lesson's file stem
    heading: str  # text of one of its headings (without "#", with its backticks)
    answer: Callable[[], tuple[str, str]]  # two lines, computed when called


def _star() -> tuple[str, str]:
    from ..ports.spellings import spelling

    facenet = spelling("facenet")
    holds, words = _star_evidence()["b"]
    return (f"It multiplies every element of `up` by the one number `scale` (a graph op "
            f"{', '.join(_graph_ops())}): `{facenet.product}` runs {facenet.dispatch}.",
            f"Measured: {words}." if holds else f"Measured otherwise: {words}.")


def _weights_or_activations() -> tuple[str, str]:
    held, params, slim = _scale_in_weights()
    _, unchanged = _star_evidence()["c"]
    return (("Activations: `scale * up` multiplies the output of the 1x1 conv; no weight holds "
             "the scale." if not held else "A weight of the block holds the scale."),
            f"count_params() = {params:,}, exactly the {slim:,} numbers of the slim variables; "
            f"{unchanged}.")


def _same_shape() -> tuple[str, str]:
    tr = facts.traced()
    return (f"Yes: `scale * up` has up's shape, and `net + scale * up` net's: "
            f"{tuple(tr['scaled_up'].shape)}.",
            f"In the v1 block's trace: net {tuple(tr['net'].shape)}, up {tuple(tr['up'].shape)}"
            f", mixed {tuple(tr['mixed'].shape)} (the 1x1 conv projects it back).")


def _in_place() -> tuple[str, str]:
    tf_changed, np_changed, has_iadd = _alias_after_plus_equals()
    return ((f"{'Yes' if tf_changed else 'No'} with TensorFlow: tf.Tensor "
             f"{'defines' if has_iadd else 'has no'} __iadd__, so `+=` computes a new tensor "
             "and rebinds the name `net`."),
            f"Run on the block's tensors: an alias of net changed = {tf_changed} with tf "
            f"tensors, = {np_changed} with numpy arrays (numpy's `+=` is in place).")


def _nets_scales() -> tuple[str, str]:
    def stages(variant: str) -> str:
        return ", ".join(f"{s.repeats} x {s.block} at {s.scale:g}" for s in SCHEDULE[variant])

    return (f"Inception-ResNet-v1 (facenet): {stages('v1')}.",
            f"Inception-ResNet-v2 (tf-models): {stages('v2')} (parsed from the original "
            "slim.repeat lines).")


def _why_scale() -> tuple[str, str]:
    results = _results()
    failed, died, diverged = _failures(1.0)
    runs = len(results.widths) * len(results.lrs) * len(results.seeds)
    smaller = [s for s in results.scales if isinstance(s, float) and s < 1]
    others = ", ".join(f"{s:g}: {_failures(s)[0]}" for s in smaller)
    return (f"To keep a deep stack trainable: of the stored depth-{DEEPEST} runs at scale 1, "
            f"{failed} of {runs} failed ({died} died, {diverged} diverged).",
            f"Failed at the smaller scales, of {runs} each: {others} (results/why_scale.json, "
            "SGD on the digits data, CPU).")


def _how_big() -> tuple[str, str]:
    tr = facts.traced()
    unscaled = tr["up"].l2 / tr["net"].l2
    return (f"||scale*up|| / ||net|| = {tr.residual_ratio:.4f} for the v1 block at scale "
            f"{BLOCK35_SCALE:g}: the residual adds about {100 * tr.residual_ratio:.0f} % of the "
            "shortcut's size.",
            f"Unscaled it would be {unscaled:.3f}. Measured with seeded random weights on a "
            "synthetic input (ReLU'd noise); a trained net's ratio differs.")


def _save() -> tuple[str, str]:
    config = facts.block().get_layer("scaled_up").get_config()
    keras_line = (f"Keras: the scale is in the layer's config (get_config()['scale'] = "
                  f"{config['scale']:g}), so a .keras file keeps it; no weight holds it.")
    skipped = missing_extra("torch")
    if skipped:  # a [lab] or [classroom] install without PyTorch
        return keras_line, f"PyTorch: {skipped}"
    from ..torch_blocks import TORCH_BLOCKS  # PyTorch: seconds to import, only here

    torch_block = TORCH_BLOCKS["block35"]("v1", config["scale"], "relu")
    state = torch_block.state_dict()
    return (keras_line,
            f"PyTorch: the port's scale is a buffer, in its state_dict as 'scale' = "
            f"{float(state['scale']):g} (float32), so torch.save of the state_dict keeps it.")


def _vector() -> tuple[str, str]:
    per_channel, _ = _result_shape(UP_SHAPE, PER_CHANNEL)
    per_image = (UP_SHAPE[0],) + (1,) * (len(UP_SHAPE) - 1)
    per_sample, _ = _result_shape(UP_SHAPE, per_image)
    return (f"Yes, by broadcasting: a per-channel scale of shape {PER_CHANNEL} (LayerScale) "
            f"times up {UP_SHAPE} gives {per_channel}.",
            f"One number per image needs shape {per_image}: it gives {per_sample}; shape "
            f"({UP_SHAPE[0]},) would meet the channel axis instead.")


def _dtype() -> tuple[str, str]:
    from ..semantics.dtypes import dtype_table

    rows = {r.scale: r for r in dtype_table()}
    py, f64 = rows["Python float"], rows["numpy float64"]
    return (f"With a float32 up, a Python float scale gives {py.tf_result} in TensorFlow "
            f"({py.numpy_result} in numpy).",
            f"A numpy float64 scalar: TensorFlow {f64.tf_result if f64.tf_ok else 'refuses it'},"
            f" numpy {f64.numpy_result} (NEP 50 promotes).")


def _frameworks() -> tuple[str, str]:
    from ..ports.spellings import spelling

    tfm, keras = spelling("tf-models"), spelling("keras")
    return (f"tf-models' v2 writes `{tfm.product}` and Keras applications "
            f"`{keras.product}`: {tfm.dispatch}.",
            f"Run on the block's own net and up, both equal net + scale * up bit for bit: "
            f"{tfm.equals_block and keras.equals_block}.")


def _class() -> tuple[str, str]:
    lessons = len({e.notebook for e in REGISTRY.values()})
    return ("For a class of any size: `make classroom-static` serves these pages (each lesson "
            "checks its exercises in the page); `make classroom` serves the live apps.",
            f"{len(REGISTRY)} exercises in {lessons} lessons, each graded by the page with the "
            "words of explainer.exercises.check; a worksheet prints one lesson per page.")


def _gradient() -> tuple[str, str]:
    grads = _gradient_values()
    return (f"d(sum of net_out) / d(up) = {float(grads.max()):g} where the ReLU is on: the "
            "gradient reaching `up` is scaled by the same constant.",
            "GradientTape on the v1 block's tail; the only values: "
            + ", ".join(f"{float(g):g}" for g in sorted(grads)) + ".")


QUESTIONS = (
    Question("What does `*` do in `net += scale * up`?", "01_what_does_star_do",
             "1. Python's operator protocol, step by step", _star),
    Question("Does it scale the weights or the activations?", "01_what_does_star_do",
             "4. It scales activations, not layers", _weights_or_activations),
    Question("Do `up`, `scale * up` and `net` have the same shape?", "02_block35_walkthrough",
             "The line itself, read off the trace", _same_shape),
    Question("Does `+=` change `net` in place?", "01_what_does_star_do", "5. What `+=` does",
             _in_place),
    Question("What scale do the real nets use?", "03_residual_scaling",
             "The real nets' schedule", _nets_scales),
    Question("Why scale at all?", "06_why_scale", "6. The conclusion, from the numbers",
             _why_scale),
    Question("How big is the residual next to the shortcut?", "00_start_here",
             "One picture: how big is the residual?", _how_big),
    Question("How is the scale saved, in Keras and in PyTorch?", "05_porting",
             "Why a custom layer, not a `Lambda`", _save),
    Question("Can the scale be a vector?", "04_broadcasting", "The scale shapes that matter",
             _vector),
    Question("Which dtype comes out?", "04_broadcasting", "Which dtype comes out?", _dtype),
    Question("How do other code bases write the line?", "01_what_does_star_do",
             "1. Python's operator protocol, step by step", _frameworks),
    Question("What gradient reaches `up`?", "01_what_does_star_do", "3. The gradient",
             _gradient),
    Question("How do I teach it to a class?", "00_start_here",
             "Three ways to open the notebooks", _class),
)


def _plain(heading: str) -> str:
    """A Markdown heading's text as rendered (no marks, no backticks)."""
    return re.sub(r"\*\*([^*]+)\*\*", r"\1", heading.lstrip("#").strip().replace("`", ""))


def anchor(heading: str) -> str:
    """The ``id`` nbconvert gives the heading on the exported page."""
    from nbconvert.filters.strings import add_anchor

    tagged = add_anchor(f"<h2>{html.escape(_plain(heading), quote=False)}</h2>")
    return html.unescape(re.search(r'id="([^"]*)"', tagged).group(1))


def headings(notebook: Path) -> list[str]:
    """The Markdown headings of the notebook at ``notebook``, without their ``#`` marks."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    return [line.lstrip("#").strip() for cell in nb.cells if cell.cell_type == "markdown"
            for line in cell.source.splitlines() if line.startswith("#")]


def link(question: Question, notebooks: Path | None = None) -> str:
    """``LESSON.html#ANCHOR`` of the question's section; a ValueError when the notebook no
    longer has the heading (a renamed section must be named here again)."""

    folder = Path(notebooks) if notebooks is not None else default_notebooks()
    path = folder / f"{question.notebook}.ipynb"
    if path.is_file() and question.heading not in headings(path):
        raise ValueError(f"question {question.ask!r}: {path.name} has no heading "
                         f"{question.heading!r}; its headings: {headings(path)}")
    return f"{question.notebook}.html#{anchor(question.heading)}"


def answers() -> list[tuple[Question, str, str]]:
    """Every question with its two lines, computed now (TensorFlow, PyTorch load)."""

    load_tensorflow_quietly()
    return [(q, *q.answer()) for q in QUESTIONS]


def format_questions() -> str:
    """The index as text, for notebook 00 and a terminal."""
    return "\n\n".join(f"{i}. {q.ask}\n   {first}\n   {second}\n   -> {q.notebook}, "
                       f"section \"{_plain(q.heading)}\""
                       for i, (q, first, second) in enumerate(answers(), 1))


def _inline(text: str) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(text, quote=False))


def questions_page(notebooks: Path | None = None) -> str:
    """The whole page (HTML text)."""
    items = "".join(
        f'<li id="q{i}"><h2>{_inline(q.ask)}</h2><p class="answer">{_inline(first)}<br>'
        f"{_inline(second)}</p><p>Shown in: <a href=\"{html.escape(link(q, notebooks))}\">"
        f"{html.escape(q.notebook)}, &ldquo;{_inline(_plain(q.heading))}&rdquo;</a></p></li>"
        for i, (q, first, second) in enumerate(answers(), 1))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Questions a learner brings, answered by running the block</title>
<style>{STATIC_CSS}
ol.questions > li {{ margin: 0.8em 0 1.2em; }} ol.questions h2 {{ font-size: 21px;
margin: 0 0 0.2em; }} .answer {{ margin: 0.2em 0; }}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<main>
<h1>Questions a learner brings</h1>
<p>Each answer is two lines computed by the package when these pages were built (the lessons'
block with seeded random weights on a synthetic input, the stored why-scale runs, numpy,
TensorFlow and PyTorch), with a link to the lesson section that shows it.</p>
<ol class="questions">{items}</ol>
</main>
</body></html>
"""
