"""Each notebook executed once per test session, in the background, for every test that reads
an executed notebook: test_notebooks (it runs, no stderr, no warning), test_lessons (each
exercise answerable from the notebook's own names) and the static site (tests/browser).

A notebook runs in a fresh ``python3`` kernel, as a learner's JupyterLab runs it: widget state
stored (the static pages freeze it), no inherited ``MPLBACKEND``. After its stored cells come
the lesson checks of :data:`lesson_answers.FROM_NOTEBOOK`; they run last, so the stored cells'
outputs are those of a plain run, and :attr:`Executed.stored` says where they end.

Runs start as soon as collection ends (``conftest.py``), two kernels at a time in worker
subprocesses, while the session goes on with the tests that need no notebook; the tests that do
are moved to the end of the session.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
JOBS = 2  # kernels at once: the 2 cores also run the rest of the suite meanwhile
CELL_TIMEOUT = 300  # seconds per cell (notebook 06 trains a trunk live)


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
        copy = nbformat.from_dict(self.nb)
        copy.cells = copy.cells[:self.stored]
        return copy


class NotebookRuns:
    """The session's notebook runs, started once; :meth:`get` waits for one."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._pool: ThreadPoolExecutor | None = None
        self._futures: dict[str, Future] = {}
        self._lock = threading.Lock()

    def start(self, names: list[str] | None = None) -> None:
        """Queue the notebooks (default: all), in the order given; already queued ones stay."""
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(JOBS, thread_name_prefix="notebook")
            for path in NOTEBOOKS:
                if (names is None or path.name in names) and path.name not in self._futures:
                    self._futures[path.name] = self._pool.submit(self._run, path)

    def get(self, name: str) -> Executed:
        self.start([name])
        return self._futures[name].result()

    def _run(self, path: Path) -> Executed:
        out = self.folder / path.name
        report = self.folder / f"{path.stem}.json"
        cmd = [sys.executable, str(Path(__file__).with_name("execute_notebook.py")),
               str(path), str(out), str(report)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if not report.exists():
            raise RuntimeError(f"{path.name}: the runner failed\n{done.stderr[-3000:]}")
        meta = json.loads(report.read_text())
        return Executed(path.name, nbformat.read(out, as_version=4), meta["stored"],
                        meta["seconds"], meta["error"])

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
