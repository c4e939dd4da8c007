"""Run one notebook for the test session (tests/notebook_runs.py) and write it, executed, with a
small report; ``python tests/execute_notebook.py IN.ipynb OUT.ipynb REPORT.json`` runs one
alone.

The stored cells run first, then the lesson checks of ``lesson_answers.check_cells``. A cell
that fails stops the run: the notebook is written as far as it ran and the report holds the
error, so the test that reads it fails with the notebook's own traceback.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import nbformat
from lesson_answers import check_cells
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from explainer.core.validate import write_atomic


def main(source: str, target: str, report: str) -> None:
    path = Path(source)
    nb = nbformat.read(path, as_version=4)
    stored = len(nb.cells)
    nb.cells += [nbformat.v4.new_code_cell(code) for code in check_cells(path.stem)]
    client = NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(path.parent)}})
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # as a learner's kernel
    start, error = time.perf_counter(), None
    # the kernel process's own stderr (jupyter's start-up notices) goes to a file beside the
    # report, not to the test session's terminal; cells' stderr is in the notebook's outputs
    with open(f"{report}.kernel-stderr.txt", "w") as kernel_stderr:
        try:
            client.execute(env=env, stderr=kernel_stderr)
        except CellExecutionError as err:
            error = str(err)
    seconds = time.perf_counter() - start
    nbformat.write(nb, target)
    # the report appears whole, after the notebook: waiters read the notebook once it exists
    write_atomic("report", report, json.dumps({"stored": stored, "seconds": round(seconds, 2),
                                               "error": error}))


if __name__ == "__main__":
    main(*sys.argv[1:4])
