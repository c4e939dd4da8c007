"""Each notebook executed once per test session, in the background, for every test that reads
an executed notebook: test_notebooks (it runs, no stderr, no warning), test_lessons (each
exercise answerable from the notebook's own names) and the static site (tests/browser).

A notebook runs in a fresh ``python3`` kernel, as a learner's JupyterLab runs it: widget state
stored (the static pages freeze it), no inherited ``MPLBACKEND``. After its stored cells come
the lesson checks of :data:`lesson_answers.FROM_NOTEBOOK`; they run last, so the stored cells'
outputs are those of a plain run, and :attr:`Executed.stored` says where they end. A cell that
fails stops the run: the notebook is written as far as it ran and the report holds the error,
so the test that reads it fails with the notebook's own traceback.
``python tests/notebook_runs.py IN.ipynb OUT.ipynb REPORT.json`` runs one alone.

Runs start as soon as collection ends (``conftest.py``), in threads of the test process (the
kernels are processes of their own), slowest notebook first, while the session goes on with
the tests that need no notebook (those that do run last). Under
pytest-xdist the workers share one folder (``RUNS_ENV``): a worker claims a notebook by
creating its claim file (which holds its process id), and whoever needs its result waits for
the report the runner writes last, or fails at once if the claimer ended without one; so each
notebook runs once for the whole session, not once per worker.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from explainer.core.validate import write_atomic

# nbformat and nbclient load in ~2 s (jsonschema's format checkers); the xdist controller
# imports this module before it starts the workers, for RUNS_ENV and all_reported only
if TYPE_CHECKING:
    import nbformat

ROOT = Path(__file__).resolve().parent.parent
# The costliest first (kernel CPU seconds measured in a full run: 05 40, 06 29, 03 27, 01 18,
# the others 12 or less), so that the last run to finish is a short one.
SLOWEST_FIRST = ("05_porting", "06_why_scale", "03_residual_scaling", "01_what_does_star_do")
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"),
                   key=lambda p: (SLOWEST_FIRST + (p.stem,)).index(p.stem))
RUNS_ENV = "EXPLAINER_TEST_NOTEBOOK_RUNS"  # the session's shared folder of runs
# A notebook read by a test must be reported within this many seconds: the test's own limit
# (the slowest lesson takes about 40 s of kernel time here). A run whose process ended without
# a report fails its readers at once (see _claimer_ended).
WAIT_LIMIT = 600.0


def report_path(folder: str | Path, notebook: str | Path) -> Path:
    """Where a notebook's run writes its report (last, once the executed notebook is there)."""
    return Path(folder) / f"{Path(notebook).stem}.json"


def all_reported(folder: str | Path) -> bool:
    """Whether every notebook's run has written its report in ``folder`` (passed or not)."""
    return all(report_path(folder, path).exists() for path in NOTEBOOKS)


@dataclass(frozen=True)
class Executed:
    """One notebook after its run: the executed notebook (stored cells, then the appended
    checks), how many cells it stores, the run's seconds, and the error that stopped it."""

    name: str
    nb: nbformat.NotebookNode
    stored: int
    seconds: float
    error: str | None

    def stored_cells(self) -> nbformat.NotebookNode:
        """The notebook as stored, with its outputs: the appended checks left out."""
        import nbformat

        copy = nbformat.from_dict(self.nb)
        copy.cells = copy.cells[:self.stored]
        return copy


class NotebookRuns:
    """The session's notebook runs in ``folder``; :meth:`get` waits for one."""

    def __init__(self, folder: Path, jobs: int):
        self.folder = Path(folder)
        self._pool = ThreadPoolExecutor(jobs, thread_name_prefix="notebook")
        self._queued: set[str] = set()

    def start(self, names: list[str] | None = None) -> None:
        """Queue the notebooks (default: all) that no process has claimed yet."""
        for path in NOTEBOOKS:
            if (names is None or path.name in names) and path.name not in self._queued:
                self._queued.add(path.name)
                self._pool.submit(self._claim_and_run, path)

    def get(self, name: str) -> Executed:
        self.start([name])
        report = report_path(self.folder, name)
        deadline = time.monotonic() + WAIT_LIMIT
        while not report.exists():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name}: no report in {self.folder} after {WAIT_LIMIT} s")
            ended = self._claimer_ended(name)
            if ended and not report.exists():
                raise RuntimeError(f"{name}: process {ended} claimed the run and ended "
                                   "without a report")
            time.sleep(0.2)
        meta = json.loads(report.read_text())
        if meta.get("runner_error"):
            raise RuntimeError(f"{name}: the runner failed\n{meta['runner_error']}")
        import nbformat

        return Executed(name, nbformat.read(self.folder / name, as_version=4), meta["stored"],
                        meta["seconds"], meta["error"])

    def _claimer_ended(self, name: str) -> int | None:
        """The process id in the notebook's claim when that process has ended, else None."""
        try:
            pid = int((self.folder / f"{Path(name).stem}.claim").read_text() or 0)
            if pid:
                os.kill(pid, 0)  # signal 0: only asks whether the process exists
        except (FileNotFoundError, ValueError):
            return None  # not claimed yet, or the claim is being written
        except ProcessLookupError:
            return pid
        return None

    def _claim_and_run(self, path: Path) -> None:
        try:  # the first process to create the claim runs the notebook
            claim = os.open(self.folder / f"{path.stem}.claim",
                            os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return
        os.write(claim, str(os.getpid()).encode())
        os.close(claim)
        report = report_path(self.folder, path)
        try:
            execute(path, self.folder / path.name, report)
        except Exception:  # noqa: BLE001 - reported to the test that waits
            write_atomic("report", report,
                         json.dumps({"runner_error": traceback.format_exc()[-3000:]}))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def execute(source: Path, target: Path, report: Path) -> None:
    """Run notebook ``source``, then its lesson checks; write it, executed, to ``target`` and
    then (last, whole: waiters read the notebook once the report exists) its report."""
    import nbformat
    from lesson_answers import check_cells
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(source, as_version=4)
    stored = len(nb.cells)
    nb.cells += [nbformat.v4.new_code_cell(code) for code in check_cells(source.stem)]
    client = NotebookClient(nb, timeout=300, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(source.parent)}})
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
    write_atomic("report", report, json.dumps({"stored": stored, "seconds": round(seconds, 2),
                                               "error": error}))


if __name__ == "__main__":
    execute(*map(Path, sys.argv[1:4]))
