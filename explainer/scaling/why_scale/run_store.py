"""How the why-scale grid's runs are named, kept and shared between processes: a run's key and
identity, the partial file an interrupted grid resumes from, the results document's text, the
lock that keeps one process per results file, and the machine each run records.

Nothing here trains: :mod:`.experiment` runs the grid and uses these.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

from ...core.validate import shorten
from .training import LATER_PARAMETERS, PARAMETERS, TrunkRun
from .trunk_args import scale_label

# Bump when the trunk, the data or the training loop change what a run computes: the stored
# results then no longer match the code, and the provenance test says so.
PROTOCOL_VERSION = 2


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


# The start of every line :func:`append_run` writes to a partial file: a last line that starts
# so and does not parse was cut by an interruption; any other unreadable line is someone else's.
PARTIAL_LINE_START = '{"protocol_version": '


def _refuse_symlink(path: Path) -> None:
    if path.is_symlink():
        raise ValueError(f"out: {shorten(str(path))} is a symbolic link; expected a regular "
                         "file (results are never written through a link)")


def read_partial(out: Path, note: Callable[[str], None] = lambda text: None) \
        -> dict[str, dict]:
    """Runs already finished in ``<out>.partial.jsonl`` (run identity -> run dict), whatever
    grid wrote them: runs are keyed by their arguments.

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
            run = {**LATER_PARAMETERS, **entry["run"]}  # with its "machine" id
            TrunkRun.from_dict(run)
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


def results_document(out: Path) -> dict | None:
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
    document = results_document(out)
    if document is None or document["config_hash"] != config_hash:
        return None
    return document


def stored_runs(out: Path) -> dict[str, dict]:
    """Run identity -> run dict, for every run in the results file at ``out`` (its grid's runs
    and the ``other_runs`` it kept) made under this protocol, each with its ``machine`` id."""
    return runs_of(results_document(out))


def runs_of(document: dict | None) -> dict[str, dict]:
    """:func:`stored_runs` of a results document already read (None: no file)."""
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


def append_run(out: Path, kwargs: dict, record: dict) -> None:
    """Append one finished run to ``<out>.partial.jsonl`` as a line :func:`read_partial` reads
    (it starts with :data:`PARTIAL_LINE_START`), never through a symlink (O_NOFOLLOW)."""
    line = json.dumps({"protocol_version": PROTOCOL_VERSION, "key": run_key(kwargs),
                       "run": record})
    fd = os.open(partial_path(out), os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW,
                 0o666)
    with os.fdopen(fd, "a") as f:
        f.write(line + "\n")
        f.flush()
