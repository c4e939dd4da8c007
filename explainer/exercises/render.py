"""The exercise section of each notebook, rendered from the registry (the one place a question
is written): one markdown cell with the questions, one code cell per exercise.

``python -m explainer.exercises.render notebooks/03_residual_scaling.ipynb`` rewrites that
notebook's section (everything from its "## Exercises" cell on); ``tests/test_lessons.py``
checks that every notebook holds exactly what :func:`exercise_cells` renders.
"""

from __future__ import annotations

import sys
from pathlib import Path

from .core import PLACEHOLDER, REGISTRY, Exercise

HEADING = "## Exercises"
INTRO = ("Each cell below holds `...` where your answer goes: replace it and run the cell. "
         "`explainer.exercises.check(name, answer)` computes the true answer by running the "
         "package and says whether yours is right, and why; an answer may also be typed as "
         "text, such as `\"(1, 35, 35, 256)\"`. Stuck? `explainer.exercises.solution(name)` "
         "shows the computed answer.")


def notebook_exercises(notebook: str) -> list[Exercise]:
    """The exercises of ``notebook`` (its file stem), in the order they were registered."""
    return [e for e in REGISTRY.values() if e.notebook == notebook]


def markdown_cell(notebook: str) -> str:
    """The heading, the instructions and the numbered questions."""
    items = [f"{i}. **`{e.name}`** ({e.expects}): {e.question}"
             for i, e in enumerate(notebook_exercises(notebook), 1)]
    return "\n".join([HEADING, "", INTRO, "", *items])


def code_cell(exercise: Exercise, number: int, first: bool) -> str:
    """``check(name, ...)`` with a one-line reminder of what kind of answer goes there."""
    lines = ["import explainer", ""] if first else []
    lines += [f"# {number}. {exercise.name}: replace {PLACEHOLDER} with {exercise.expects}, "
              f"e.g. {exercise.example}",
              f'explainer.exercises.check("{exercise.name}", {PLACEHOLDER})']
    return "\n".join(lines)


def exercise_cells(notebook: str) -> list[tuple[str, str]]:
    """``[(cell_type, source)]`` of the notebook's exercise section."""
    found = notebook_exercises(notebook)
    if not found:
        raise ValueError(f"notebook: got {notebook!r}, which has no exercises; expected one of "
                         f"{sorted({e.notebook for e in REGISTRY.values()})}")
    return [("markdown", markdown_cell(notebook))] + [
        ("code", code_cell(e, i, i == 1)) for i, e in enumerate(found, 1)]


def section_start(cells: list) -> int:
    """Index of the notebook's first cell that starts with the "## Exercises" heading."""
    for i, cell in enumerate(cells):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith(HEADING):
            return i
    return len(cells)


def write(path: str | Path) -> None:
    """Replace the exercise section of the notebook at ``path`` with the rendered one."""
    import nbformat

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    start = section_start(nb.cells)
    new = [nbformat.v4.new_markdown_cell(src) if kind == "markdown"
           else nbformat.v4.new_code_cell(src) for kind, src in exercise_cells(path.stem)]
    nb.cells = nb.cells[:start] + new
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        write(arg)
        print(f"rendered the exercises of {arg}")
