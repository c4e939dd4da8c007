"""Read the "why scale" results file and compute the findings from it (nothing is typed in).

    results = load_why_scale_results()       # results/why_scale.json
    results.edges()                          # stability edge per depth x width x scale x seed
    results.edge_summary()                   # ... median and range over the seeds
    results.verdicts()                       # "trained", "trained (last block >=90% zeros)", ...
    results.death_steps()                    # the steps at which runs died
    results.accuracy_at(lr)                  # test accuracy, mean and spread over seeds
    results.step0("growth")                  # ||net_L|| / ||net_0|| at step 0
    results.arm_values()                     # the s of the decomposition arms stored, if any
    results.arm_edges(s)                     # scale 1 / scale s / a small start / a slow step
    print(results.conclusion())              # the findings, in words, from the numbers

The constant-scale grid (every depth x width x scale x lr x seed) is what ``_cube`` and the
arrays above cover. The decomposition arms are runs at scale 1 whose ``up`` conv starts ``s``
times smaller (``up_init=s``: "a small start") or learns at ``s**2`` times the rate
(``up_lr=s**2``: "a slow step"), run at the grid's ``arm_depths`` only; together the two are
exactly scale ``s`` under SGD. A file without arms (an older grid) has none: the arm accessors
return nothing, and the conclusion says the file has no arms. Runs a document keeps outside
its grid (``other_runs``) are not read.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np

from ...core.validate import given, shorten
from .decomposition import ARM_KINDS, DecompositionArms, g  # noqa: F401 (ARM_KINDS)
from .experiment import RESULTS_PATH, GridConfig
from .findings import conclusion, final_dead, verdict
from .read import read_results_document  # noqa: F401 (re-exported)
from .training import TrunkRun
from .trunk_args import check_trunk_scale, scale_label

FATES = ("trained", "died", "diverged")


def _multipliers(run, record: dict | None = None) -> tuple[float, float]:
    """(up_init, up_lr) of a run: its own fields, else its stored record's, else 1.0 (a run
    stored before the arms existed)."""
    record = record or {}
    return (float(getattr(run, "up_init", record.get("up_init", 1.0))),
            float(getattr(run, "up_lr", record.get("up_lr", 1.0))))


@dataclass(frozen=True, eq=False)
class WhyScaleResults(DecompositionArms):
    """A results document: its grid config, provenance and runs (as :class:`TrunkRun`).

    ``multipliers`` holds each run's (up_init, up_lr), in the order of ``runs`` (read from the
    runs themselves when not given); ``arms`` and ``arm_depths`` are the grid's decomposition
    arms ((up_init, up_lr) pairs) and the depths they ran at (empty for an older grid).
    """

    config: GridConfig
    config_hash: str
    meta: dict = field(repr=False)
    runs: tuple = field(repr=False)
    multipliers: tuple = field(default=(), repr=False)
    arms: tuple = ()
    arm_depths: tuple = ()

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
        if len(self.multipliers) != len(self.runs):
            object.__setattr__(self, "multipliers", tuple(_multipliers(r) for r in self.runs))
        index = {(r.depth, r.width, scale_label(r.scale), g(r.lr), r.seed, g(m[0]), g(m[1])): r
                 for r, m in zip(self.runs, self.multipliers, strict=True)}
        object.__setattr__(self, "_index", index)

    @property
    def grid_runs(self) -> tuple:
        """The runs of the constant-scale grid (up_init = up_lr = 1), without the arms."""
        return tuple(r for r, m in zip(self.runs, self.multipliers, strict=True)
                     if m == (1.0, 1.0))

    @property
    def arm_runs(self) -> tuple:
        """The decomposition arms' runs (up_init or up_lr not 1)."""
        return tuple(r for r, m in zip(self.runs, self.multipliers, strict=True)
                     if m != (1.0, 1.0))

    def get(self, depth: int, width: int, scale, lr: float, seed: int,
            up_init: float = 1.0, up_lr: float = 1.0) -> TrunkRun:
        """The run of one setting (a KeyError that lists the grid otherwise)."""
        scale = check_trunk_scale(scale)
        run = self._index.get((depth, width, scale_label(scale), g(lr), seed, g(up_init),
                               g(up_lr)))
        if run is not None:
            return run
        arms = "" if (up_init, up_lr) == (1.0, 1.0) else (
            f", up_init {up_init:g}, up_lr {up_lr:g}; the arms (up_init, up_lr) are "
            f"{list(self.arms) or 'none'} at depths {list(self.arm_depths) or 'none'}")
        raise KeyError(f"no run with depth {depth}, width {width}, scale {scale_label(scale)}, "
                       f"lr {lr:g}, seed {seed}{arms}; the grid has depths {self.depths}, "
                       f"widths {self.widths}, scales {[scale_label(s) for s in self.scales]}, "
                       f"lrs {self.lrs}, seeds {self.seeds}")

    def _cube(self, value, dtype=float) -> np.ndarray:
        """value(run) over (depth, width, scale, lr, seed) of the constant-scale grid."""
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

    def verdicts(self) -> np.ndarray:
        """The fate, with a "trained" run whose last block ends >= 90 % zeros called so
        ("trained (last block >=90% zeros)"), over (depth, width, scale, lr, seed)."""
        return self._cube(verdict, dtype=object)

    def dead_at_end(self) -> np.ndarray:
        """The last block's dead fraction at the last measured step, over (depth, width,
        scale, lr, seed)."""
        return self._cube(final_dead)

    def test_accuracy(self) -> np.ndarray:
        """Test accuracy over (depth, width, scale, lr, seed); NaN where a run diverged."""
        return self._cube(lambda run: run.test_accuracy)

    def _edges_of(self, fates: np.ndarray) -> np.ndarray:
        """Edges from fates whose second-last axis is the learning rate (the grid's order)."""
        out = np.zeros(fates.shape[:-2] + fates.shape[-1:])
        for index in np.ndindex(out.shape):
            *head, e = index
            for k, lr in enumerate(self.lrs):
                if fates[(*head, k, e)] != "trained":
                    break
                out[index] = lr
        return out

    def edges(self) -> np.ndarray:
        """The stability edge over (depth, width, scale, seed): the largest learning rate of
        the grid at which the run trained, and every smaller one too; 0 where even the
        smallest failed (the edge lies below the grid)."""
        return self._edges_of(self.fates())

    def edge_summary(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(median, lowest, highest) edge over the seeds, each (depth, width, scale)."""
        edges = self.edges()
        return np.median(edges, axis=-1), edges.min(axis=-1), edges.max(axis=-1)

    def death_steps(self, depth: int | None = None, width: int | None = None) -> dict:
        """Scale label -> the steps at which runs of the constant-scale grid died (every lr
        and seed; optionally one depth and width)."""
        out = {}
        for scale in self.scales:
            out[scale_label(scale)] = sorted(
                run.died_step for run in self.grid_runs
                if scale_label(run.scale) == scale_label(scale) and run.died
                and not run.diverged and depth in (None, run.depth) and width in (None, run.width))
        return out

    def accuracy_at(self, lr: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Test accuracy at ``lr`` over the seeds: (mean, lowest, highest), each (depth,
        width, scale). A run that diverged has no accuracy (its weights are not numbers):
        NaN there, so such a setting's mean is undefined rather than a number."""
        k = [i for i, x in enumerate(self.lrs) if math.isclose(x, lr)]
        if not k:
            raise ValueError(f"lr: got {given(lr)}; expected one of the grid's {self.lrs}")
        acc = self.test_accuracy()[:, :, :, k[0], :]
        return acc.mean(axis=-1), acc.min(axis=-1), acc.max(axis=-1)

    def best_accuracy(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Each setting at its own best learning rate: the grid's lr with the highest mean test
        accuracy over the seeds (a rate at which a seed diverged has no mean). (mean, lowest,
        highest, lr), each (depth, width, scale); NaN where every rate had a divergence."""
        acc = self.test_accuracy()
        mean = acc.mean(axis=-1)  # (depth, width, scale, lr), NaN where a seed diverged
        shape = mean.shape[:3]
        out = [np.full(shape, np.nan) for _ in range(4)]
        for index in np.ndindex(shape):
            if np.isnan(mean[index]).all():
                continue
            k = int(np.nanargmax(mean[index]))
            out[0][index], out[1][index] = mean[index][k], acc[index][k].min()
            out[2][index], out[3][index] = acc[index][k].max(), self.lrs[k]
        return tuple(out)

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


def _tuples(value):
    """JSON lists back to (nested) tuples, as the config holds them."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def results_from_dict(document: dict) -> WhyScaleResults:
    """A results document (the parsed JSON) as :class:`WhyScaleResults`. Runs stored beside
    the grid (``other_runs``) are not read."""
    if not isinstance(document, dict) or "runs" not in document or "config" not in document:
        raise ValueError(f"document: got {given(document)}; expected a why_scale results "
                         "document with 'config' and 'runs'")
    if not isinstance(document["config"], dict) or not isinstance(document["runs"], list):
        raise ValueError("document: its 'config' is not an object or its 'runs' not a list")
    cfg = {k: _tuples(v) for k, v in document["config"].items() if k != "protocol_version"}
    known = {f.name for f in fields(GridConfig)}
    arms = tuple(tuple(float(x) for x in arm) for arm in cfg.get("arms", ()))
    arm_depths = tuple(cfg.get("arm_depths", ())) if arms else ()
    try:
        config = GridConfig(**{k: v for k, v in cfg.items()
                               if k in known or k not in ("arms", "arm_depths")})
    except TypeError as err:
        raise ValueError(f"document: its config does not describe a grid ({err})") from None
    records = [r for r in document["runs"]]
    runs = tuple(TrunkRun.from_dict(r) for r in records)
    multipliers = tuple(_multipliers(run, record) for run, record in
                        zip(runs, records, strict=True))
    meta = {k: v for k, v in document.items()
            if k not in ("runs", "config", "config_hash", "other_runs")}
    return WhyScaleResults(config=config, config_hash=document["config_hash"], meta=meta,
                           runs=runs, multipliers=multipliers, arms=arms,
                           arm_depths=arm_depths)


def load_why_scale_results(path: Path | str = RESULTS_PATH) -> WhyScaleResults:
    """Read a results file written by ``python -m explainer why-scale`` (``make experiment``);
    see :func:`read_results_document` for what is refused before reading."""
    document = read_results_document(path)
    try:
        return results_from_dict(document)
    except (KeyError, TypeError) as err:
        raise ValueError(f"path: {shorten(str(path))} does not hold a results document "
                         f"({shorten(str(err), 80)})") from None
