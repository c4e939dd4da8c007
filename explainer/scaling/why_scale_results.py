"""Read the "why scale" results file and compute the findings from it (nothing is typed in).

    results = load_why_scale_results()       # results/why_scale.json
    results.edges()                          # stability edge per depth x width x scale x seed
    results.edge_summary()                   # ... median and range over the seeds
    results.death_steps()                    # the steps at which runs died
    results.accuracy_at(lr)                  # test accuracy, mean and spread over seeds
    results.growth()                         # ||net_L|| / ||net_0|| at step 0
    print(results.conclusion())              # the findings, in words, from the numbers
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.validate import given, shorten
from .experiment import RESULTS_PATH, GridConfig
from .training import TrunkRun
from .trunk_args import check_trunk_scale, scale_label
from .why_scale_findings import conclusion

FATES = ("trained", "died", "diverged")


@dataclass(frozen=True, eq=False)
class WhyScaleResults:
    """A results document: its grid config, provenance and runs (as :class:`TrunkRun`)."""

    config: GridConfig
    config_hash: str
    meta: dict = field(repr=False)
    runs: tuple = field(repr=False)

    @property
    def depths(self) -> tuple:
        return tuple(sorted(self.config.depths))

    @property
    def widths(self) -> tuple:
        return tuple(sorted(self.config.widths))

    @property
    def scales(self) -> tuple:
        return self.config.scales

    @property
    def lrs(self) -> tuple:
        return tuple(sorted(self.config.lrs))

    @property
    def seeds(self) -> tuple:
        return tuple(self.config.seeds)

    def __post_init__(self):
        index = {(r.depth, r.width, scale_label(r.scale), f"{r.lr:g}", r.seed): r
                 for r in self.runs}
        object.__setattr__(self, "_index", index)

    def get(self, depth: int, width: int, scale, lr: float, seed: int) -> TrunkRun:
        """The run of one setting (a KeyError that lists the grid otherwise)."""
        scale = check_trunk_scale(scale)
        run = self._index.get((depth, width, scale_label(scale), f"{lr:g}", seed))
        if run is not None:
            return run
        raise KeyError(f"no run with depth {depth}, width {width}, scale {scale_label(scale)}, "
                       f"lr {lr:g}, seed {seed}; the grid has depths {self.depths}, widths "
                       f"{self.widths}, scales {[scale_label(s) for s in self.scales]}, lrs "
                       f"{self.lrs}, seeds {self.seeds}")

    def _cube(self, value, dtype=float) -> np.ndarray:
        """value(run) over (depth, width, scale, lr, seed)."""
        out = np.empty((len(self.depths), len(self.widths), len(self.scales), len(self.lrs),
                        len(self.seeds)), dtype=dtype)
        for index in np.ndindex(out.shape):
            d, w, s, k, e = index
            out[index] = value(self.get(self.depths[d], self.widths[w], self.scales[s],
                                        self.lrs[k], self.seeds[e]))
        return out

    def fates(self) -> np.ndarray:
        """"trained", "died" or "diverged" over (depth, width, scale, lr, seed)."""
        return self._cube(lambda run: run.fate, dtype=object)

    def edges(self) -> np.ndarray:
        """The stability edge over (depth, width, scale, seed): the largest learning rate of
        the grid at which the run trained, and every smaller one too; 0 where even the
        smallest failed (the edge lies below the grid)."""
        fates = self.fates()
        out = np.zeros((fates.shape[0], fates.shape[1], fates.shape[2], fates.shape[4]))
        for d, w, s, e in np.ndindex(out.shape):
            for k, lr in enumerate(self.lrs):
                if fates[d, w, s, k, e] != "trained":
                    break
                out[d, w, s, e] = lr
        return out

    def edge_summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median, lowest, highest) edge over the seeds, each (depth, width, scale)."""
        edges = self.edges()
        return np.median(edges, axis=-1), edges.min(axis=-1), edges.max(axis=-1)

    def death_steps(self, depth: int | None = None, width: int | None = None) -> dict:
        """Scale label -> the steps at which runs died (every lr and seed; optionally one
        depth and width)."""
        out = {}
        for scale in self.scales:
            out[scale_label(scale)] = sorted(
                run.died_step for run in self.runs
                if run.scale == scale and run.died and not run.diverged
                and depth in (None, run.depth) and width in (None, run.width))
        return out

    def accuracy_at(self, lr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Test accuracy at ``lr`` over the seeds: (mean, lowest, highest), each (depth,
        width, scale). A run that diverged has no accuracy (its weights are not numbers):
        NaN there, so such a setting's mean is undefined rather than a number."""
        k = [i for i, x in enumerate(self.lrs) if math.isclose(x, lr)]
        if not k:
            raise ValueError(f"lr: got {given(lr)}; expected one of the grid's {self.lrs}")
        acc = self._cube(lambda run: run.test_accuracy)[:, :, :, k[0], :]
        return acc.mean(axis=-1), acc.min(axis=-1), acc.max(axis=-1)

    def shared_lr(self) -> float:
        """The learning rate accuracies compare at: the largest of the grid at which every
        setting of the shallowest depth trained (so the comparison is not one of deaths)."""
        fates = self.fates()
        ok = [lr for k, lr in enumerate(self.lrs) if (fates[0, :, :, k, :] == "trained").all()]
        return ok[-1] if ok else self.lrs[0]

    def step0(self, name: str) -> np.ndarray:
        """A step-0 number over (depth, width, scale, seed), from the smallest learning rate's
        run (step 0 is measured before the first update, so it does not depend on the rate):
        "growth" (||net_L|| / ||net_0||), "grad_norm" (all blocks), "loss"."""
        read = {"growth": lambda r: r.growth, "grad_norm": lambda r: r.grad_norm[0],
                "loss": lambda r: r.loss[0]}
        if name not in read:
            raise ValueError(f"name: got {shorten(name)}; expected one of {sorted(read)}")
        return self._cube(read[name])[:, :, :, 0, :]

    def conclusion(self) -> str:
        """What the grid shows, in sentences computed from the runs."""
        return conclusion(self)


def results_from_dict(document: dict) -> WhyScaleResults:
    """A results document (the parsed JSON) as :class:`WhyScaleResults`."""
    if not isinstance(document, dict) or "runs" not in document or "config" not in document:
        raise ValueError(f"document: got {given(document)}; expected a why_scale results "
                         "document with 'config' and 'runs'")
    cfg = {k: v for k, v in document["config"].items() if k != "protocol_version"}
    try:
        config = GridConfig(**{k: tuple(v) if isinstance(v, list) else v
                               for k, v in cfg.items()})
    except TypeError as err:
        raise ValueError(f"document: its config does not describe a grid ({err})") from None
    runs = tuple(TrunkRun.from_dict(r) for r in document["runs"])
    meta = {k: v for k, v in document.items() if k not in ("runs", "config", "config_hash")}
    return WhyScaleResults(config=config, config_hash=document["config_hash"], meta=meta,
                           runs=runs)


def load_why_scale_results(path: Path | str = RESULTS_PATH) -> WhyScaleResults:
    """Read a results file written by ``python -m explainer why-scale`` (``make experiment``)."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"path: got {str(path)!r}, which does not exist; expected a results "
                         "file: run `make experiment` (or python -m explainer why-scale)")
    return results_from_dict(json.loads(path.read_text()))
