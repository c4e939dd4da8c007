"""Every notebook in notebooks/ is stored without outputs and executes headless."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from test_lessons import TF_WARNING, output_texts  # the same scan as the lessons test

NOTEBOOKS = sorted((Path(__file__).parent.parent / "notebooks").glob("*.ipynb"))
# How long a notebook takes a learner is measured alone, in benchmarks/bench_notebooks.py:
# here it runs beside the rest of the suite, and a time would say more about the load.


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_stored_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: cells {dirty} carry outputs; store notebooks clean"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path, notebook_runs):
    run = notebook_runs.get(path.name)  # executed once for the session (notebook_runs.py)
    assert run.error is None, run.error
    nb = run.stored_cells()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    # a learner sees no red stderr boxes (TensorFlow's start-up lines, warnings)
    stderr = [o.text for o in outputs if o.get("name") == "stderr"]
    assert not stderr, stderr
    # ... and no TensorFlow warning anywhere, stdout included (TF logs retracing to stdout)
    warnings = [m.group(0) for t in output_texts(nb) for m in [TF_WARNING.search(t)] if m]
    assert not warnings, f"{path.name}: {warnings}"


def test_no_figure_is_shown_twice_across_the_lessons(notebook_runs):
    """Each figure is drawn once and linked from elsewhere (no two outputs carry the same
    image, within a notebook or across notebooks)."""
    seen: dict[str, str] = {}
    for path in NOTEBOOKS:
        nb = notebook_runs.get(path.name).stored_cells()
        for i, cell in enumerate(nb.cells):
            for out in cell.get("outputs", []):
                png = out.get("data", {}).get("image/png")
                if png:
                    where = f"{path.name} cell {i}"
                    assert png not in seen, f"{where} repeats {seen.get(png)}"
                    seen[png] = where
    assert len(seen) >= 10
