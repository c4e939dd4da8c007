"""why-scale on Dask workers (``--workers N``): the same numbers as in this process, and a
worker killed mid-grid costs nothing (its run is retried; nothing in the file is lost or
doubled). One LocalCluster of two single-threaded worker processes for the whole module."""

from __future__ import annotations

import json
import os
import signal
import threading

import psutil
import pytest

from explainer.scaling.why_scale.experiment import GridConfig, partial_path, run_grid, run_key

pytest.importorskip("distributed")

# Runs of about a second each: long enough that a worker is killed while it trains one.
GRID = GridConfig(depths=(2,), widths=(16,), scales=(0.3,), lrs=(0.1, 0.2), steps=12,
                  seeds=(0, 1), batch=8, arms=((0.3, 1.0),), arm_depths=(2,))


def _numbers(document: dict) -> list[dict]:
    return [{k: v for k, v in run.items() if k != "seconds"} for run in document["runs"]]


def _dask_workers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children(recursive=True)
            if "spawn_main" in " ".join(p.cmdline())]


@pytest.mark.slow
def test_workers_give_the_serial_numbers_and_survive_a_killed_worker(tmp_path):
    serial = run_grid(GRID, tmp_path / "serial.json")
    killed = []

    def kill_a_busy_worker(key, run):
        if run is not None and not killed:
            workers = _dask_workers()
            if workers:
                victim = max(workers, key=lambda p: p.cpu_percent(interval=0.05))
                killed.append(victim.pid)
                os.kill(victim.pid, signal.SIGKILL)

    notes = []
    out = tmp_path / "workers.json"
    document = run_grid(GRID, out, workers=2, on_run=kill_a_busy_worker, note=notes.append)
    assert killed, "no worker was found to kill"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == "zombie"
    planned = [run_key(kwargs) for kwargs in GRID.runs()]
    assert [run["key"] for run in document["runs"]] == planned  # none lost, none doubled
    assert _numbers(document) == _numbers(serial)  # bit for bit, as in this process
    assert json.loads(out.read_text())["runs"] == document["runs"]
    assert not partial_path(out).exists()
    assert f"reused 0 of {len(planned)} runs" in notes
    assert not _dask_workers()  # the cluster is closed with the grid
    assert threading.active_count() < 20
