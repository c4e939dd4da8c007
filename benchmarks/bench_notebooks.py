"""How long each lesson notebook takes a learner: each executed alone, in a fresh kernel, as
JupyterLab runs it (goal: 06_why_scale, with its live training run, within 30 s).

The test suite executes every notebook too, but two at a time beside the other tests, so its
times say nothing about a learner's wait; this is where that wait is measured. Prints one row
a notebook: seconds (median of ``--repeat`` runs) and, where there is one, the goal.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
GOALS = {"06_why_scale.ipynb": 30.0}  # seconds a learner is promised (issue 18)


def run_once(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    start = time.perf_counter()
    client.execute(env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="notebook files (default: all)")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    paths = [NOTEBOOKS / n for n in args.names] or sorted(NOTEBOOKS.glob("*.ipynb"))
    print(f"{'notebook':<32}{'seconds':>9}  goal")
    for path in paths:
        seconds = statistics.median(run_once(path) for _ in range(args.repeat))
        goal = GOALS.get(path.name)
        verdict = "" if goal is None else f"<= {goal:g} s: {'met' if seconds <= goal else 'MISSED'}"
        print(f"{path.name:<32}{seconds:>9.1f}  {verdict}")


if __name__ == "__main__":
    main()
