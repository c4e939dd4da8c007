"""The "why scale" grid: every depth x width x scale x learning rate x seed, resumable, one file.

:data:`FULL` is the grid ``make experiment`` runs; :data:`QUICK` a smoke test of the machinery
(it proves nothing about the scale). Runs are keyed by their own arguments and the protocol
(:func:`.run_store.run_identity`), so a grid reuses every run it finds stored (in its results
file, in the project's stored grid, in the partial file an interruption left) and trains the
rest. Each finished run is appended at once to ``<results>.partial.jsonl``; when the last run
is done the results file is written all at once (config, hash, seeds, versions, the machines
with their CPU and oneDNN setting, per-run records naming their machine, and the file's
earlier runs that this grid does not hold as ``other_runs``) and the partial file removed.
:mod:`.results` reads it back.

The results file is protected: a file that is not a results file is not overwritten without
``force``, no file is written through a symlink, one process at a time holds it (a lock), and
a partial file that does not read back is set aside (renamed, with one line saying so), never
a crash or a deletion. The file formats and the lock are :mod:`.run_store`'s.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ...core.validate import check_output_path, given, write_atomic
from .grid_workers import train_runs
from .machine import machine_record, versions_record
from .run_store import (  # noqa: F401 (the grid's file API, imported from here by its users)
    PROTOCOL_VERSION,
    GridLocked,
    acquire_lock,
    append_run,
    dump_results,
    existing_results,
    lock_path,
    machine_id,
    partial_path,
    read_partial,
    release_lock,
    results_document,
    run_identity,
    run_key,
    runs_of,
    set_aside,
    stored_runs,
)
from .training import TrunkRun

# The stored grid: package data in a wheel (setup.py copies it there), results/ in a checkout.
_PACKAGED = Path(__file__).resolve().parents[1] / "results" / "why_scale.json"  # scaling/results
RESULTS_PATH = _PACKAGED if _PACKAGED.exists() else \
    Path(__file__).resolve().parents[3] / "results" / "why_scale.json"


@dataclass(frozen=True)
class GridConfig:
    """What one grid runs: every combination of its depths, widths, scales, rates and seeds,
    and, at ``arm_depths`` only, the decomposition ``arms`` at scale 1: each arm an
    ``(up_init, up_lr)`` pair of multipliers on every block's `up` conv (see train_trunk)."""

    depths: tuple
    widths: tuple
    scales: tuple  # numbers, "rezero", "layerscale"
    lrs: tuple
    steps: int
    seeds: tuple
    optimizer: str = "sgd"
    batch: int = 16
    stem_stride: int = 2
    batchnorm: bool = True
    stop_when_dead: bool = True
    arms: tuple = ()  # (up_init, up_lr) pairs, run at scale 1
    arm_depths: tuple = ()

    def settings(self, depth: int) -> list[tuple]:
        """(scale, up_init, up_lr) of every run at ``depth``: the scales, then the arms."""
        out = [(s, 1.0, 1.0) for s in self.scales]
        if depth in self.arm_depths:
            out += [(1.0, float(up_init), float(up_lr)) for up_init, up_lr in self.arms]
        return out

    def runs(self) -> list[dict]:
        """The grid's runs as train_trunk keyword arguments, one trunk shape after another
        (each shape is built once), shallow and narrow first."""
        return [dict(width=w, depth=d, scale=s, lr=lr, steps=self.steps, seed=seed,
                     optimizer=self.optimizer, batch=self.batch, stem_stride=self.stem_stride,
                     batchnorm=self.batchnorm, stop_when_dead=self.stop_when_dead,
                     up_init=up_init, up_lr=up_lr)
                for d in sorted(self.depths) for w in sorted(self.widths) for seed in self.seeds
                for s, up_init, up_lr in self.settings(d) for lr in sorted(self.lrs)]

    def to_dict(self) -> dict:
        out = {**asdict(self), "protocol_version": PROTOCOL_VERSION}
        if not self.arms:  # a grid without arms keeps the hash it had before arms existed
            del out["arms"], out["arm_depths"]
        return out

    def hash(self) -> str:
        """sha256 (first 16 hex digits) of the config and the protocol version."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


SCALES = (1.0, 0.3, 0.17, 0.1, "rezero", "layerscale")
# The nets stack 20 (v1) and 39 (v2) residual blocks; the paper's trouble came past 1000
# filters. Learning rates no two neighbours more than 2x apart, from 0.03, where every setting
# of the first grid trained at depth 20, to 0.6, twice the rate (0.3) at which every constant
# scale died at depth 20, width 1088 in that grid (at width 256, 0.1 and 0.17 still trained at
# 0.3). 60 steps: the first grid's deaths came by step 12 in a depth-20 probe, so 60 leaves five
# times that; a run whose last block is wholly zero for 20 steps stops there.
# The arms split a constant scale s into its two effects under SGD (scale=s is the same run as
# scale=1, up_init=s, up_lr=s**2): a small start (up_init=s) and a slow step (up_lr=s**2), for
# s = 0.1 and 0.3, at depth 20 (the nets' depth), both widths, every rate and seed.
ARMS = ((0.1, 1.0), (1.0, 0.01), (0.3, 1.0), (1.0, 0.09))
FULL = GridConfig(depths=(3, 10, 20), widths=(256, 1088), scales=SCALES,
                  lrs=(0.03, 0.05, 0.1, 0.2, 0.3, 0.6), steps=60, seeds=(0, 1, 2), arms=ARMS,
                  arm_depths=(20,))
# A smoke test of the whole pipeline in well under a minute: too small to show anything.
QUICK = GridConfig(depths=(2,), widths=(32,), scales=(1.0, 0.1), lrs=(0.1,), steps=10,
                   seeds=(0,))
GRIDS = {"full": FULL, "quick": QUICK}


def _stored_grid_runs(out: Path) -> dict[str, dict]:
    """The runs of the project's stored grid (:data:`RESULTS_PATH`), to reuse for another
    ``out``: a grid run anywhere, e.g. from an installed wheel, trains only what is not stored."""
    if not RESULTS_PATH.is_file() or RESULTS_PATH.resolve() == out.resolve():
        return {}
    try:
        return stored_runs(RESULTS_PATH)
    except ValueError:
        return {}


def run_grid(config: GridConfig, out: Path | str = RESULTS_PATH, command: str | None = None,
             on_run: Callable[[str, TrunkRun | None], None] | None = None,
             force: bool = False, note: Callable[[str], None] | None = None,
             workers: int = 1, scheduler: str | None = None) -> dict:
    """Run every run of ``config`` not already stored, then write ``out``.

    Runs are keyed by their own arguments and the protocol (:func:`run_identity`): every run
    of ``config`` found in ``out`` (whatever grid wrote it, ``other_runs`` included) or in
    ``<out>.partial.jsonl`` is reused, and ``note`` gets "reused N of M runs"; ``force``
    retrains every run. The runs of the file that ``config`` does not hold are kept in it as
    ``other_runs`` (so removing a setting loses nothing). ``out`` is checked before any
    training (a .json regular file in a writable folder, no symlink, locked for this process).
    ``workers`` >= 2 trains on a Dask LocalCluster of that many single-threaded worker
    processes, ``scheduler`` on an existing Dask cluster (see :mod:`.grid_workers`); only this
    process writes the files. ``on_run(key, run)`` is called after each run (``run`` is None
    for a reused one); ``note(text)`` gets one-line notices (default: stderr). Returns the
    results document.
    """
    if not isinstance(config, GridConfig):
        raise TypeError(f"config: got {given(config)}; expected a GridConfig such as FULL")
    note = note or (lambda text: print(text, file=sys.stderr))
    out = check_output_path("out", out, suffix=".json")
    check_output_path("out", partial_path(out), suffix=".jsonl")
    acquire_lock(out)
    try:
        return _run_grid_locked(config, out, command, on_run, force, note, workers, scheduler)
    finally:
        release_lock(out)


def _run_grid_locked(config, out, command, on_run, force, note, workers, scheduler) -> dict:
    digest = config.hash()
    previous = results_document(out)  # read once, before anything is written
    if not force and previous is not None and previous["config_hash"] == digest:
        note(f"{out.name} already holds this grid's results; nothing to run "
             "(--force runs it again)")
        return previous
    stored = runs_of(previous)
    done = {} if force else {**_stored_grid_runs(out), **stored, **read_partial(out, note)}
    if force and partial_path(out).exists():
        set_aside(partial_path(out), "--force trains every run again", note)
    planned = config.runs()
    todo = [kwargs for kwargs in planned if run_identity(kwargs) not in done]
    note(f"reused {len(planned) - len(todo)} of {len(planned)} runs")
    for kwargs in planned:
        if run_identity(kwargs) in done and on_run:
            on_run(run_key(kwargs), None)
    here = machine_record()
    machines_seen: dict[str, dict] = {}
    started = time.time()
    for kwargs, run, machine in train_runs(todo, workers, scheduler):
        record = {**run.to_dict(), "machine": machine_id(machine)}
        machines_seen[record["machine"]] = machine
        done[run_identity(kwargs)] = record
        append_run(out, kwargs, record)
        if on_run:
            on_run(run_key(kwargs), run)
    identities = [run_identity(kwargs) for kwargs in planned]
    grid_runs = [{"key": run_key(kwargs), **done[i]} for kwargs, i in zip(planned, identities,
                                                                         strict=True)]
    others = [{"key": run_key(run), **run} for i, run in stored.items()
              if i not in set(identities)]
    machines = dict((previous or {}).get("machines", {}))
    if previous and previous.get("machine"):
        machines.setdefault(machine_id(previous["machine"]), previous["machine"])
    machines.update(machines_seen)
    machines.setdefault(machine_id(here), here)
    used = {run["machine"] for run in grid_runs + others}
    document = {"experiment": "why_scale", "config": config.to_dict(), "config_hash": digest,
                "seeds": list(config.seeds),
                "command": command or " ".join([Path(sys.executable).name, *sys.argv]),
                "versions": versions_record(), "machine": here,
                "machines": {k: v for k, v in machines.items() if k in used},
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds_this_session": round(time.time() - started, 1),
                "seconds_all_runs": round(sum(run["seconds"] for run in grid_runs), 1),
                "runs": grid_runs}
    if others:
        document["other_runs"] = others
    write_atomic("out", out, dump_results(document), suffix=".json")
    with contextlib.suppress(FileNotFoundError):
        partial_path(out).unlink()
    return document
