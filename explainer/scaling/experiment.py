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

import hashlib
import json
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from ..core.validate import check_output_path, given, shorten, write_atomic
from .machine import machine_record, versions_record
from .training import TrunkRun, train_trunk
from .trunk_args import scale_label

# Bump when the trunk, the data or the training loop change what a run computes: the stored
# results then no longer match the code, and the provenance test says so.
PROTOCOL_VERSION = 2
RESULTS_PATH = Path(__file__).resolve().parents[2] / "results" / "why_scale.json"


@dataclass(frozen=True)
class GridConfig:
    """What one grid runs: every combination of its depths, widths, scales, rates and seeds."""

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

    def runs(self) -> list[dict]:
        """The grid's runs as train_trunk keyword arguments, one trunk shape after another
        (each shape is built once), shallow and narrow first."""
        return [dict(width=w, depth=d, scale=s, lr=lr, steps=self.steps, seed=seed,
                     optimizer=self.optimizer, batch=self.batch, stem_stride=self.stem_stride,
                     batchnorm=self.batchnorm, stop_when_dead=self.stop_when_dead)
                for d in sorted(self.depths) for w in sorted(self.widths) for seed in self.seeds
                for s in self.scales for lr in sorted(self.lrs)]

    def to_dict(self) -> dict:
        return {**asdict(self), "protocol_version": PROTOCOL_VERSION}

    def hash(self) -> str:
        """sha256 (first 16 hex digits) of the config and the protocol version."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


SCALES = (1.0, 0.3, 0.17, 0.1, "rezero", "layerscale")
# The nets stack 20 (v1) and 39 (v2) residual blocks; the paper's trouble came past 1000
# filters. Learning rates a factor ~3 apart, from 0.03, where every setting of a depth-20,
# width-256 probe trained (seeds 0, 1), to 0.3; in that probe scale 1 died at 0.1 (steps 9
# and 12) while 0.3 and 0.1 trained. 60 steps: the probe's deaths came by step 12, so 60
# leaves five times that; a run whose last block is wholly zero for 20 steps stops there.
# 324 runs, sized for under 60 minutes on 2 quiet cores (the measured time is in the file).
FULL = GridConfig(depths=(3, 10, 20), widths=(256, 1088), scales=SCALES,
                  lrs=(0.03, 0.1, 0.3), steps=60, seeds=(0, 1, 2))
# A smoke test of the whole pipeline in well under a minute: too small to show anything.
QUICK = GridConfig(depths=(2,), widths=(32,), scales=(1.0, 0.1), lrs=(0.1,), steps=10,
                   seeds=(0,))
GRIDS = {"full": FULL, "quick": QUICK}


def run_key(run: dict) -> str:
    """A run's name in the results: "d20_w256_s0.17_lr0.03_seed0"."""
    return (f"d{run['depth']}_w{run['width']}_s{scale_label(run['scale'])}_lr{run['lr']:g}"
            f"_seed{run['seed']}" + ("" if run.get("batchnorm", True) else "_nobn"))


def partial_path(out: Path) -> Path:
    return out.with_name(out.stem + ".partial.jsonl")


def set_aside(path: Path, why: str, note: Callable[[str], None]) -> None:
    """Rename a file that cannot be used, and say so in one line."""
    target = path.with_name(f"{path.name}.set-aside-{time.strftime('%Y%m%dT%H%M%S')}")
    path.replace(target)
    note(f"{path.name}: {why}; set aside as {target.name}, starting afresh")


def read_partial(out: Path, config_hash: str,
                 note: Callable[[str], None] = lambda text: None) -> dict[str, dict]:
    """Runs already finished for this config (key -> run dict).

    A half-written last line (the interruption) is cut off the file. A file with any other
    unreadable line, another grid's runs, or a record that is not a run is set aside.
    """
    path = partial_path(out)
    if not path.exists():
        return {}
    text = path.read_text(errors="replace")
    lines = text.split("\n")
    done, good_chars = {}, 0
    for number, line in enumerate(lines):
        if not line:
            good_chars += 1
            continue
        try:
            entry = json.loads(line)
            if entry.get("config_hash") != config_hash:
                raise ValueError(f"line {number + 1} belongs to the grid "
                                 f"{shorten(entry.get('config_hash'), 20)}, not {config_hash}")
            TrunkRun.from_dict(entry["run"])
            done[str(entry["key"])] = entry["run"]
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            if number == len(lines) - 1:  # the last line, cut by an interruption
                with path.open("r+") as f:
                    f.truncate(good_chars)
                note(f"{path.name}: dropped a half-written last line (an interruption)")
                break
            why = err if isinstance(err, ValueError) else f"line {number + 1}: {err!r}"
            set_aside(path, f"does not read back ({shorten(str(why), 120)})", note)
            return {}
        good_chars += len(line) + 1
    return done


def existing_results(out: Path, config_hash: str) -> dict | None:
    """The complete results of this config at ``out``, None if there is no file; a
    ValueError if the file holds something else (another grid, or not results at all)."""
    if not out.exists():
        return None
    try:
        document = json.loads(out.read_text())
        found = document["config_hash"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise ValueError(f"out: {shorten(str(out))} exists and is not a why-scale results "
                         "file; expected a new file name, or force=True (--force) to "
                         "replace it") from None
    if found != config_hash:
        raise ValueError(f"out: {shorten(str(out))} holds another grid's results (config "
                         f"{shorten(found, 20)}, this grid is {config_hash}); expected a new "
                         "file name, or force=True (--force) to replace it")
    return document


def dump_results(document: dict) -> str:
    """The results document as JSON text: one line per key, one line per run (diffable)."""
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in document.items() if k != "runs"]
    runs = ",\n".join(f"  {json.dumps(run)}" for run in document["runs"])
    return "{\n" + ",\n".join(lines) + f',\n "runs": [\n{runs}\n ]\n}}\n'


def run_grid(config: GridConfig, out: Path | str = RESULTS_PATH, command: str | None = None,
             on_run: Callable[[str, TrunkRun | None], None] | None = None,
             force: bool = False, note: Callable[[str], None] | None = None) -> dict:
    """Run every run of ``config`` not already in the partial file, then write ``out``.

    ``out`` is checked before any training (a .json regular file in a writable folder), and
    is never replaced when it holds another grid's results or no results, unless ``force``.
    When it already holds this grid's complete results, they are returned without training.
    ``on_run(key, run)`` is called after each run (``run`` is None for one resumed from the
    partial file), e.g. to move a progress bar; ``note(text)`` gets one-line notices (default:
    stderr). Returns the results document.
    """
    if not isinstance(config, GridConfig):
        raise TypeError(f"config: got {given(config)}; expected a GridConfig such as FULL")
    note = note or (lambda text: print(text, file=sys.stderr))
    out = check_output_path("out", out, suffix=".json")
    check_output_path("out", partial_path(out), suffix=".jsonl")
    digest = config.hash()
    if not force:
        document = existing_results(out, digest)
        if document is not None:
            note(f"{out.name} already holds this grid's results; nothing to run "
                 "(--force runs it again)")
            return document
    done = read_partial(out, digest, note)
    started = time.time()
    with partial_path(out).open("a") as log:
        for kwargs in config.runs():
            key = run_key(kwargs)
            if key in done:
                if on_run:
                    on_run(key, None)
                continue
            run = train_trunk(**kwargs)
            done[key] = run.to_dict()
            log.write(json.dumps({"config_hash": digest, "key": key, "run": done[key]}) + "\n")
            log.flush()
            if on_run:
                on_run(key, run)
    keys = [run_key(kwargs) for kwargs in config.runs()]
    document = {"experiment": "why_scale", "config": config.to_dict(), "config_hash": digest,
                "seeds": list(config.seeds),
                "command": command or " ".join([Path(sys.executable).name, *sys.argv]),
                "versions": versions_record(), "machine": machine_record(),
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds_this_session": round(time.time() - started, 1),
                "seconds_all_runs": round(sum(done[k]["seconds"] for k in keys), 1),
                "runs": [{"key": k, **done[k]} for k in keys]}
    write_atomic("out", out, dump_results(document), suffix=".json")
    partial_path(out).unlink()
    return document
