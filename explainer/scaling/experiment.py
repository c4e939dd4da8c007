"""The "why scale" grid: every depth x width x scale x learning rate x seed, resumable, one file.

:data:`FULL` is the grid ``make experiment`` runs; :data:`QUICK` a smoke test of the machinery
(it proves nothing about the scale). Each finished run is appended at once to
``<results>.partial.jsonl`` (tagged with the grid's config hash), so an interrupted grid
resumes where it stopped; when the last run is done the results file is written all at once
(config, hash, seeds, versions, machine with its CPU and oneDNN setting, per-run records) and
the partial file removed. :mod:`.why_scale_results` reads it back.

The results file is protected: a file made by another grid, or one that is not a results
file, is not overwritten without ``force``; a partial file that does not read back is set
aside (renamed, with one line saying so), never a crash.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.validate import check_output_path, given, shorten, write_atomic
from .grid_workers import train_runs
from .machine import machine_record, versions_record
from .training import LATER_PARAMETERS, PARAMETERS, TrunkRun
from .trunk_args import scale_label

# Bump when the trunk, the data or the training loop change what a run computes: the stored
# results then no longer match the code, and the provenance test says so.
PROTOCOL_VERSION = 2
RESULTS_PATH = Path(__file__).resolve().parents[2] / "results" / "why_scale.json"


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


def run_key(run: dict) -> str:
    """A run's name in the results: "d20_w256_s0.17_lr0.03_seed0", with "_upinit0.1" /
    "_uplr0.01" for a decomposition arm."""
    arm = "".join(f"_{tag}{run[name]:g}" for name, tag in (("up_init", "upinit"),
                                                            ("up_lr", "uplr"))
                  if run.get(name, 1.0) != 1.0)
    return (f"d{run['depth']}_w{run['width']}_s{scale_label(run['scale'])}_lr{run['lr']:g}"
            f"_seed{run['seed']}" + arm + ("" if run.get("batchnorm", True) else "_nobn"))


def run_identity(run: dict) -> str:
    """What makes two runs the same computation: every train_trunk argument and the protocol
    (a stored run is reused for a grid only when this matches; the key alone omits steps,
    batch and the optimizer)."""
    values = {name: run.get(name, LATER_PARAMETERS.get(name)) for name in PARAMETERS}
    values["scale"] = scale_label(values["scale"])
    for name in ("lr", "up_init", "up_lr"):
        values[name] = float(values[name])
    return json.dumps({**values, "protocol_version": PROTOCOL_VERSION}, sort_keys=True)


def partial_path(out: Path) -> Path:
    return out.with_name(out.stem + ".partial.jsonl")


def lock_path(out: Path) -> Path:
    return out.with_name(out.stem + ".lock")


def set_aside(path: Path, why: str, note: Callable[[str], None]) -> None:
    """Rename a file that cannot be used (never delete it), and say so in one line."""
    target = path.with_name(f"{path.name}.set-aside-{time.strftime('%Y%m%dT%H%M%S')}")
    path.replace(target)
    note(f"{path.name}: {why}; set aside as {target.name}, starting afresh")


# The start of every line this module writes to a partial file: a last line that starts so
# and does not parse was cut by an interruption; any other unreadable line is someone else's.
PARTIAL_LINE_START = '{"protocol_version": '


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise ValueError(f"out: {shorten(str(path))} is a symbolic link; expected a regular "
                         "file (results are never written through a link)")


def read_partial(out: Path, config_hash: str | None = None,
                 note: Callable[[str], None] = lambda text: None) -> dict[str, dict]:
    """Runs already finished in ``<out>.partial.jsonl`` (run identity -> run dict), whatever
    grid wrote them (``config_hash`` is not needed any more: runs are keyed by their
    arguments).

    A last line that this module started and an interruption cut is cut off the file. A file
    with any other unreadable line, or a record that is not a run, is set aside (renamed,
    never deleted).
    """
    path = partial_path(out)
    _refuse_symlink(path)
    if not path.exists():
        return {}
    if not path.is_file():
        raise ValueError(f"out: {shorten(str(path))} is not a regular file; expected the "
                         "partial results of a grid, or no such file")
    text = path.read_text(errors="replace")
    lines = text.split("\n")
    done, good_chars = {}, 0
    for number, line in enumerate(lines):
        if not line:
            good_chars += 1
            continue
        try:
            entry = json.loads(line)
            if not isinstance(entry, dict) or entry.get("protocol_version") != PROTOCOL_VERSION:
                raise ValueError(f"line {number + 1} is not a run record of protocol "
                                 f"{PROTOCOL_VERSION}")
            run = {**LATER_PARAMETERS, **entry["run"]}
            TrunkRun.from_dict(run)
            if entry.get("machine") is not None:
                run["machine"] = str(entry["machine"])
            done[run_identity(run)] = run
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            if number == len(lines) - 1 and line.startswith(PARTIAL_LINE_START) and done:
                with path.open("r+") as f:  # the last line, cut by an interruption
                    f.truncate(good_chars)
                note(f"{path.name}: dropped a half-written last line (an interruption)")
                break
            why = err if isinstance(err, ValueError) else f"line {number + 1}: {err!r}"
            set_aside(path, f"does not read back ({shorten(str(why), 120)})", note)
            return {}
        good_chars += len(line) + 1
    return done


def _results_document(out: Path) -> dict | None:
    """The parsed results file at ``out``; None if there is none; a ValueError if the file is
    not a why-scale results file. Its size is checked before it is read."""
    _refuse_symlink(out)
    if not out.exists():
        return None
    size = out.stat().st_size
    if not out.is_file() or size > MAX_RESULTS_BYTES:
        raise ValueError(f"out: {shorten(str(out))} exists and is not a why-scale results "
                         f"file ({'not a regular file' if not out.is_file() else f'{size:,} bytes'}"
                         "); expected a new file name, or force=True (--force) to replace it")
    try:
        document = json.loads(out.read_text())
        document["config_hash"], document["runs"]  # noqa: B018 (a results file has both)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValueError(f"out: {shorten(str(out))} exists and is not a why-scale results "
                         "file; expected a new file name, or force=True (--force) to "
                         "replace it") from None
    return document


MAX_RESULTS_BYTES = 64 * 2**20  # the full grid's file is ~2.5 MB


def existing_results(out: Path, config_hash: str) -> dict | None:
    """The complete results of this config at ``out``; None if there is no file or it holds
    another grid's results (their runs are reused, see :func:`stored_runs`); a ValueError if
    the file is not a results file at all."""
    document = _results_document(out)
    if document is None or document["config_hash"] != config_hash:
        return None
    return document


def stored_runs(out: Path) -> dict[str, dict]:
    """Run identity -> run dict, for every run in the results file at ``out`` (its grid's runs
    and the ``other_runs`` it kept) made under this protocol, each with its ``machine`` id."""
    document = _results_document(out)
    if document is None or document.get("config", {}).get("protocol_version") != \
            PROTOCOL_VERSION:
        return {}
    fallback = machine_id(document.get("machine") or {})
    found = {}
    for run in [*document["runs"], *document.get("other_runs", [])]:
        run = {**LATER_PARAMETERS, **{k: v for k, v in run.items() if k != "key"}}
        run.setdefault("machine", fallback)
        found[run_identity(run)] = run
    return found


def machine_id(record: dict) -> str:
    """A short name for a machine record: what decides the float32 kernels (CPU model and
    flags, oneDNN in use) hashed, e.g. "cpu-1a2b3c4d"."""
    keep = {k: record.get(k) for k in ("cpu_model", "cpu_flags")}
    onednn = record.get("onednn")
    keep["onednn"] = onednn.get("in_use") if isinstance(onednn, dict) else onednn
    return "cpu-" + hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:8]


def dump_results(document: dict) -> str:
    """The results document as JSON text: one line per key, one line per run (diffable)."""
    lists = ("runs", "other_runs")
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in document.items() if k not in lists]
    for name in lists:
        if name in document:
            runs = ",\n".join(f"  {json.dumps(run)}" for run in document[name])
            lines.append(f' "{name}": [\n{runs}\n ]')
    return "{\n" + ",\n".join(lines) + "\n}\n"


_HELD_LOCKS: dict[str, int] = {}


def acquire_lock(out: Path) -> None:
    """Hold ``<out stem>.lock`` for this process (an exclusive flock; released at exit or by
    :func:`release_lock`): a second process on the same ``--out`` is refused at once with
    who holds it, before any training."""
    path = lock_path(Path(os.path.abspath(out)))
    if str(path) in _HELD_LOCKS:
        return
    _refuse_symlink(path)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        holder = os.pread(fd, 200, 0).decode(errors="replace").strip()
        holder = "".join(c for c in holder if c.isprintable())[:120] or "another process"
        os.close(fd)
        raise GridLocked(f"out: {shorten(str(out))} is in use by {holder} "
                         f"(lock {path.name}); expected one why-scale per results file: wait "
                         "for it, or choose another --out") from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"pid {os.getpid()} on {platform.node()} since "
                  f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode(), 0)
    _HELD_LOCKS[str(path)] = fd


def release_lock(out: Path) -> None:
    path = lock_path(Path(os.path.abspath(out)))
    fd = _HELD_LOCKS.pop(str(path), None)
    if fd is not None:
        with contextlib.suppress(OSError):
            path.unlink()
        os.close(fd)


class GridLocked(ValueError):
    """Another process holds the results file's lock."""


def _append_line(path: Path, line: str) -> None:
    """Append one line to the partial file, never through a symlink (O_NOFOLLOW)."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o666)
    with os.fdopen(fd, "a") as f:
        f.write(line + "\n")
        f.flush()


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
    if not force:
        document = existing_results(out, digest)
        if document is not None:
            note(f"{out.name} already holds this grid's results; nothing to run "
                 "(--force runs it again)")
            return document
    stored = stored_runs(out)  # before anything is written
    done = {} if force else {**stored, **read_partial(out, digest, note)}
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
        _append_line(partial_path(out), json.dumps(
            {"protocol_version": PROTOCOL_VERSION, "key": run_key(kwargs), "run": record,
             "machine": record["machine"]}))
        if on_run:
            on_run(run_key(kwargs), run)
    identities = [run_identity(kwargs) for kwargs in planned]
    grid_runs = [{"key": run_key(kwargs), **done[i]} for kwargs, i in zip(planned, identities,
                                                                         strict=True)]
    others = [{"key": run_key(run), **run} for i, run in stored.items()
              if i not in set(identities)]
    previous = _results_document(out) if not force else None
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
