"""Quotes equal their sources: every code line shown as what facenet, tf-models, Keras or timm
writes is checked against the stored original text (``ports.legacy_sources``) or the installed
library's own source (``inspect.getsource``).

Two kinds of quote are found and checked: an inline one, ``<source> ... writes `code```, in the
lesson notebooks, the README and every module of the package; and each fenced or ``::`` code
block whose lead-in attributes it to a source ("as facenet writes it", "ends every block35 like
this"). Each quoted line, whitespace collapsed, must occur in that source's text (``...`` stands
for omitted text). A quote in an older spelling must say its era ("TF 0.12") in its lead-in.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import re
from functools import cache
from pathlib import Path

import pytest

from explainer.ports import legacy_sources

ROOT = Path(__file__).resolve().parent.parent
LESSONS = [ROOT / "notebooks" / f for f in (
    "00_start_here.ipynb", "01_what_does_star_do.ipynb", "02_block35_walkthrough.ipynb",
    "03_residual_scaling.ipynb", "04_broadcasting.ipynb", "05_porting.ipynb")]
WHO = {"facenet": "facenet", "tf-models": "tf-models", "tf-slim": "tf-models",
       "keras.applications": "keras", "Keras applications": "keras", "CustomScaleLayer": "keras",
       "timm": "timm"}
_WHO = "|".join(re.escape(w) for w in WHO)
INLINE = re.compile(rf"({_WHO})(?:'s)?[^.;:\n]{{0,60}}?\bwrites?\b\s*`{{1,2}}([^`]+)`{{1,2}}")
LEAD_IN = re.compile(rf"({_WHO}).{{0,160}}?(\bwrites?\b|like this|as follows|\bends\b)",
                     re.I | re.S)
ERA = re.compile(r"TF 0\.12|TF1 spelling|before TF 1\.0")


def _collapse(text: str) -> str:
    return " ".join(text.split())


@cache
def source_text(who: str) -> str:
    """The text a quote attributed to ``who`` must come from."""
    if who == "facenet":
        return "\n".join(legacy_sources.facenet_today(b) for b in ("block35", "block17", "block8"))
    if who == "facenet-tf012":  # the stored text, its concat in the TF 0.12 spelling
        return "\n".join(legacy_sources.ORIGINALS_BY_BLOCK[b]["v1"]
                         for b in ("block35", "block17", "block8"))
    if who == "tf-models":
        return "\n".join(legacy_sources.ORIGINALS_BY_BLOCK[b]["v2"]
                         for b in ("block35", "block17", "block8"))
    if who == "keras":
        return inspect.getsource(importlib.import_module(
            "keras.src.applications.inception_resnet_v2"))
    from explainer.ports.timm_port import import_timm

    import_timm()  # `timm.models.inception_resnet_v2` is also a function's name: the module
    return inspect.getsource(importlib.import_module("timm.models.inception_resnet_v2"))


def quoted_in(code: str, who: str) -> bool:
    """``code`` (``...`` for omitted text) occurs in ``who``'s text, whitespace collapsed."""
    text = _collapse(source_text(who))
    at = 0
    for piece in (p.strip() for p in _collapse(code).split("...")):
        if not piece:
            continue
        at = text.find(piece, at)
        if at < 0:
            return False
        at += len(piece)
    return True


def _texts() -> list[tuple[str, str]]:
    """(where, text) for the lesson notebooks' markdown, the README and every module."""
    out = []
    for path in LESSONS:
        for i, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                out.append((f"{path.name} cell {i}", "".join(cell["source"])))
    out.append(("README.md", (ROOT / "README.md").read_text()))
    for path in sorted((ROOT / "explainer").rglob("*.py")):
        out.append((str(path.relative_to(ROOT)), path.read_text()))
    return out


def inline_quotes(text: str) -> list[tuple[str, str]]:
    """(source, code) for each ``<source> ... writes `code``` in ``text`` (not an f-string's
    ``{placeholder}``, which is filled in from the source when it runs)."""
    return [(WHO[m.group(1)], m.group(2)) for m in INLINE.finditer(text)
            if not re.search(r"\{[\w.\[\]]+\}", m.group(2))]


def block_quotes(text: str) -> list[tuple[str, list[str], str]]:
    """(source, lines, lead-in) for each fenced ```python block or ``::`` block of ``text``
    whose lead-in (the paragraph before it) attributes it to a source."""
    found = []
    for m in re.finditer(r"```python\n(.*?)```", text, re.S):
        lead = text[:m.start()].rstrip().rsplit("\n\n", 1)[-1]
        found.append((lead, m.group(1).splitlines()))
    for m in re.finditer(r"::\n\n((?:[ ]{4,}.*\n|\n)+)", text):
        lead = text[:m.start()].rsplit("\n\n", 1)[-1]
        found.append((lead, m.group(1).splitlines()))
    out = []
    for lead, lines in found:
        who = LEAD_IN.search(lead)
        if who:
            out.append((WHO[next(w for w in WHO if w.lower() == who.group(1).lower())],
                        [line for line in lines if line.strip()], lead))
    return out


def mismatches(where: str, text: str) -> list[str]:
    """Every quote of ``text`` that is not its source's text, described."""
    bad = [f"{where}: {who} does not write `{code}`" for who, code in inline_quotes(text)
           if not quoted_in(code, who)]
    for who, lines, lead in block_quotes(text):
        era = ERA.search(lead)
        for line in lines:
            if not quoted_in(line, who) and not (era and quoted_in(line, "facenet-tf012")):
                bad.append(f"{where}: {who} does not write the line {line.strip()!r}")
    return bad


def test_every_quote_is_its_sources_text():
    checked, bad = 0, []
    for where, text in _texts():
        checked += len(inline_quotes(text)) + sum(len(q[1]) for q in block_quotes(text))
        bad += mismatches(where, text)
    assert not bad, "\n".join(bad)
    assert checked >= 25, checked  # the scanner found the quotes it is meant to check


def test_the_scanner_finds_the_known_quotes():
    texts = dict(_texts())
    lesson_01 = [q for where, text in texts.items() if where.startswith("01_what")
                 for q in inline_quotes(text)]
    assert ("timm", "out = out * self.scale + x") in lesson_01
    blocks = block_quotes(texts["explainer/core/blocks.py"])
    assert [who for who, _, _ in blocks] == ["facenet", "tf-models"]
    assert "net += scale * up" in [line.strip() for line in blocks[0][1]]
    snippet = [q for where, text in texts.items() if where.startswith("02_block35")
               for q in block_quotes(text)]
    assert snippet and snippet[0][0] == "facenet" and len(snippet[0][1]) >= 15


@pytest.mark.parametrize(("text", "found"), [
    # the TF 0.12 spelling shown as what facenet writes today
    ("This is `block35` as facenet writes it:\n\n```python\n"
     "mixed = tf.concat(3, [tower_conv, tower_conv1_1, tower_conv2_2])\n```\n",
     "facenet does not write the line 'mixed = tf.concat(3, [tower_conv, tower_conv1_1, "
     "tower_conv2_2])'"),
    # v2's line as the question's
    ("tf-models' v2 writes `net += scale * up` today.", "tf-models does not write "
     "`net += scale * up`"),
    ("keras.applications writes ``inputs[0] + self.scale * inputs[1]``.",
     "keras does not write `inputs[0] + self.scale * inputs[1]`"),
    ("timm writes `out = x + self.scale * out`.", "timm does not write"),
])
def test_a_planted_mismatch_fails(text, found):
    bad = mismatches("planted", text)
    assert len(bad) == 1 and found in bad[0], bad


def test_an_older_spelling_passes_only_with_its_era():
    code = "```python\nmixed = tf.concat(3, [tower_conv, tower_conv1_1, tower_conv2_2])\n```\n"
    assert not mismatches("era", "facenet's block in the TF 0.12 spelling writes it:\n\n" + code)
    assert mismatches("no era", "facenet writes it like this:\n\n" + code)
    assert quoted_in("tf.concat(axis=3, values=[...])", "facenet")
    assert not quoted_in("tf.concat(3, [...])", "facenet")


def test_docstring_blocks_parse():
    """The quoted blocks in blocks.py are Python (so a reader can paste them)."""
    doc = ast.get_docstring(ast.parse((ROOT / "explainer/core/blocks.py").read_text()))
    assert "tf.concat(axis=3, values=[tower_conv, tower_conv1_1, tower_conv2_2])" in doc
