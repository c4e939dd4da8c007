"""The lessons as the static site sees them: where the notebooks are, a notebook's title and
"You will learn" bullets, and :class:`Page`, one exported notebook."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

PACKAGE_NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"  # the checkout's


@dataclass(frozen=True)
class Page:
    """One exported notebook: where it came from, where it went, what it holds."""

    notebook: Path
    html: Path
    title: str
    seconds: float  # execution time of the notebook
    figures: int  # images the executed notebook shows (plots, Image widgets)
    learn: tuple[str, ...] = ()  # the "You will learn" bullets of its first cell


def default_notebooks() -> Path:
    """``./notebooks`` when run from a checkout, else the one next to the package."""
    here = Path.cwd() / "notebooks"
    return here if here.is_dir() else PACKAGE_NOTEBOOKS


def title_of(nb, fallback: str) -> str:
    """The first Markdown heading of the notebook, without its ``#`` marks."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip().replace("`", "")
    return fallback


def learning_goals(nb) -> tuple[str, ...]:
    """The bullet points under "You will learn" in the notebook's first Markdown cell."""
    cells = [c for c in nb.cells if c.cell_type == "markdown"][:1]
    lines = cells[0].source.splitlines() if cells else []
    start = next((i for i, ln in enumerate(lines) if "you will learn" in ln.lower()), None)
    if start is None:
        return ()
    goals: list[str] = []
    for line in lines[start + 1:]:
        stripped = line.strip()
        if stripped.startswith(("- ", "* ")):
            goals.append(stripped[2:].strip())
        elif goals and stripped and line.startswith(" "):  # a bullet wrapped onto this line
            goals[-1] += " " + stripped
        elif goals:  # the list has ended
            break
    return tuple(goals)


def _inline(text: str) -> str:
    """Markdown `code` and **bold** as HTML, everything else escaped."""
    out = html.escape(text)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", out)
