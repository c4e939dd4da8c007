"""The "why scale" grid: every width x scale x learning rate x seed, resumable, one results file.

:data:`FULL` is the grid ``make experiment`` runs; :data:`QUICK` a small one for a quick look.
Each finished run is appended at once to ``<results>.partial.jsonl`` (tagged with the grid's
config hash), so an interrupted grid resumes where it stopped; when the last run is done the
results file is written (config, hash, seeds, package versions, machine, command, per-run
metrics) and the partial file removed. :mod:`.why_scale_results` reads it back.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import __version__
from ..core.validate import given
from .training import TrunkRun, train_trunk
from .trunk import scale_label

# Bump when the trunk, the data or the training loop change what a run computes: the stored
# results then no longer match the code, and the provenance test says so.
PROTOCOL_VERSION = 1
RESULTS_PATH = Path(__file__).resolve().parents[2] / "results" / "why_scale.json"


@dataclass(frozen=True)
class GridConfig:
    """What one grid runs: every combination of widths, scales, learning rates and seeds."""

    widths: tuple
    depth: int
    scales: tuple  # numbers, "rezero", "layerscale"
    lrs: tuple
    steps: int
    seeds: tuple
    optimizer: str = "sgd"
    batch: int = 32
    stem_stride: int = 2

    def runs(self) -> list[dict]:
        """The grid's runs as train_trunk keyword arguments, cheapest width first."""
        return [dict(width=w, depth=self.depth, scale=s, lr=lr, steps=self.steps, seed=seed,
                     optimizer=self.optimizer, batch=self.batch, stem_stride=self.stem_stride)
                for seed in self.seeds for w in sorted(self.widths) for s in self.scales
                for lr in sorted(self.lrs)]

    def to_dict(self) -> dict:
        return {**asdict(self), "protocol_version": PROTOCOL_VERSION}

    def hash(self) -> str:
        """sha256 (first 16 hex digits) of the config and the protocol version."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


SCALES = (1.0, 0.3, 0.17, 0.1, "rezero", "layerscale")
# Sized for about 20 minutes on 2 shared CPU cores (see the notebook for the reasoning).
FULL = GridConfig(widths=(256, 1088, 2080), depth=3, scales=SCALES,
                  lrs=(0.025, 0.05, 0.1, 0.2, 0.4), steps=120, seeds=(0,))
QUICK = GridConfig(widths=(256,), depth=2, scales=(1.0, 0.1), lrs=(0.1, 0.4), steps=25,
                   seeds=(0,))
GRIDS = {"full": FULL, "quick": QUICK}


def run_key(run: dict) -> str:
    """A run's name in the results: "w256_s0.17_lr0.08_seed0"."""
    return (f"w{run['width']}_s{scale_label(run['scale'])}_lr{run['lr']:g}_seed{run['seed']}")


def partial_path(out: Path) -> Path:
    return out.with_name(out.stem + ".partial.jsonl")


def read_partial(out: Path, config_hash: str) -> dict[str, dict]:
    """Runs already finished for this config (key -> run dict); other configs' lines ignored,
    and a half-written last line (the interruption) skipped."""
    done = {}
    path = partial_path(out)
    if not path.exists():
        return done
    for line in path.read_text().splitlines():
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        if entry.get("config_hash") == config_hash:
            done[entry["key"]] = entry["run"]
    return done


def provenance(command: str) -> dict:
    """Package versions, machine and command, for the results file."""
    import keras
    import numpy
    import sklearn
    import tensorflow as tf

    return {"command": command,
            "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                         "keras": keras.__version__, "numpy": numpy.__version__,
                         "scikit-learn": sklearn.__version__, "explainer": __version__},
            "machine": {"platform": platform.platform(), "machine": platform.machine(),
                        "processor": platform.processor() or None,
                        "cpu_count": os.cpu_count()}}


def dump_results(document: dict) -> str:
    """The results document as JSON text: one line per key, one line per run (diffable)."""
    lines = [f" {json.dumps(k)}: {json.dumps(v)}" for k, v in document.items() if k != "runs"]
    runs = ",\n".join(f"  {json.dumps(run)}" for run in document["runs"])
    return "{\n" + ",\n".join(lines) + f',\n "runs": [\n{runs}\n ]\n}}\n'


def run_grid(config: GridConfig, out: Path | str = RESULTS_PATH, command: str | None = None,
             on_run: Callable[[str, TrunkRun | None], None] | None = None) -> dict:
    """Run every run of ``config`` not already in the partial file, then write ``out``.

    ``on_run(key, run)`` is called after each run (``run`` is None for one resumed from the
    partial file), e.g. to move a progress bar. Returns the results document.
    """
    if not isinstance(config, GridConfig):
        raise TypeError(f"config: got {given(config)}; expected a GridConfig such as FULL")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    digest = config.hash()
    done = read_partial(out, digest)
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
                **provenance(command or " ".join([Path(sys.executable).name, *sys.argv])),
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "seconds_this_session": round(time.time() - started, 1),
                "seconds_all_runs": round(sum(done[k]["seconds"] for k in keys), 1),
                "runs": [{"key": k, **done[k]} for k in keys]}
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(dump_results(document))
    tmp.replace(out)
    partial_path(out).unlink()
    return document
