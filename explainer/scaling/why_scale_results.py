"""Read the "why scale" results file and compute the findings from it (nothing is typed in).

    results = load_why_scale_results()               # results/why_scale.json
    results.stability_map()                  # largest stable learning rate, width x scale
    results.shared_lr()                      # the learning rate the curves are drawn at
    print(results.conclusion())              # the finding, in words, from the numbers
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.validate import given
from .experiment import RESULTS_PATH, GridConfig
from .training import TrunkRun
from .trunk import check_trunk_scale, scale_label

FATES = ("trained", "died", "diverged")


@dataclass(frozen=True, eq=False)
class WhyScaleResults:
    """A results document: its grid config, provenance and runs (as :class:`TrunkRun`)."""

    config: GridConfig
    config_hash: str
    meta: dict = field(repr=False)
    runs: tuple = field(repr=False)

    @property
    def widths(self) -> tuple:
        return tuple(sorted(self.config.widths))

    @property
    def scales(self) -> tuple:
        return self.config.scales

    @property
    def lrs(self) -> tuple:
        return tuple(sorted(self.config.lrs))

    def get(self, width: int, scale, lr: float, seed: int = 0) -> TrunkRun:
        """The run of one configuration (a KeyError that lists the grid otherwise)."""
        scale = check_trunk_scale(scale)
        for run in self.runs:
            if (run.width, run.scale, run.seed) == (width, scale, seed) and \
                    math.isclose(run.lr, lr, rel_tol=1e-9):
                return run
        raise KeyError(f"no run with width {width}, scale {scale_label(scale)}, lr {lr:g}, "
                       f"seed {seed}; the grid has widths {self.widths}, scales "
                       f"{[scale_label(s) for s in self.scales]}, lrs {self.lrs}, seeds "
                       f"{self.config.seeds}")

    def fate(self, seed: int = 0) -> np.ndarray:
        """Strings (width, scale, lr): "trained", "died" or "diverged"."""
        out = np.empty((len(self.widths), len(self.scales), len(self.lrs)), dtype=object)
        for i, w in enumerate(self.widths):
            for j, s in enumerate(self.scales):
                for k, lr in enumerate(self.lrs):
                    run = self.get(w, s, lr, seed)
                    out[i, j, k] = ("diverged" if run.diverged else "died" if run.died
                                    else "trained")
        return out

    def stability_map(self, seed: int = 0) -> np.ndarray:
        """(width, scale): the largest learning rate of the grid at which the run neither died
        nor diverged, and every smaller one too; NaN where even the smallest failed."""
        fate = self.fate(seed)
        out = np.full(fate.shape[:2], np.nan)
        for i in range(fate.shape[0]):
            for j in range(fate.shape[1]):
                for k, lr in enumerate(self.lrs):
                    if fate[i, j, k] != "trained":
                        break
                    out[i, j] = lr
        return out

    def shared_lr(self, seed: int = 0) -> float:
        """The learning rate the curves compare at: the smallest of the grid at which some
        configuration failed (died or diverged), or the largest if none failed."""
        fate = self.fate(seed)
        for k, lr in enumerate(self.lrs):
            if (fate[:, :, k] != "trained").any():
                return lr
        return self.lrs[-1]

    def test_accuracy(self, lr: float | None = None, seed: int = 0) -> np.ndarray:
        """(width, scale) test accuracy at ``lr``; with ``lr=None`` the best over the learning
        rates at which the run trained (NaN where none did)."""
        out = np.full((len(self.widths), len(self.scales)), np.nan)
        for i, w in enumerate(self.widths):
            for j, s in enumerate(self.scales):
                runs = [self.get(w, s, lr, seed)] if lr is not None else \
                    [r for r in (self.get(w, s, x, seed) for x in self.lrs) if r.stable]
                values = [r.test_accuracy for r in runs if not math.isnan(r.test_accuracy)]
                out[i, j] = max(values) if values else np.nan
        return out

    def step0_grad_norm(self, width: int, seed: int = 0) -> np.ndarray:
        """(scale, block): the gradient norm per block at step 0 (the trunk as initialised),
        at the grid's smallest learning rate (step 0 does not depend on the learning rate)."""
        return np.stack([self.get(width, s, self.lrs[0], seed).grad_norm[0]
                         for s in self.scales])

    def conclusion(self, seed: int = 0) -> str:
        """What the grid shows, in sentences computed from the runs."""
        fate = self.fate(seed)
        stable = self.stability_map(seed)
        cfg = self.config
        lines = [f"Grid: widths {list(self.widths)}, depth {cfg.depth}, scales "
                 f"{[scale_label(s) for s in self.scales]}, {cfg.optimizer} learning rates "
                 f"{list(self.lrs)}, {cfg.steps} steps of batch {cfg.batch}, seeds "
                 f"{list(cfg.seeds)}."]
        counts = {f: int((fate == f).sum()) for f in FATES}
        lines.append(f"Of {fate.size} runs (seed {seed}): {counts['trained']} trained, "
                     f"{counts['died']} died (last block >= 99 % zeros to the end), "
                     f"{counts['diverged']} diverged (non-finite loss).")
        j1 = _index(self.scales, 1.0)
        if j1 is not None:
            died1 = [f"width {w} at lr {lr:g}" for i, w in enumerate(self.widths)
                     for k, lr in enumerate(self.lrs) if fate[i, j1, k] == "died"]
            lines.append("Scale 1 died: " + "; ".join(died1) + "." if died1 else
                         "Scale 1 never died in this grid: the paper's symptom (the last layer "
                         "before pooling producing only zeros) did not appear at these sizes "
                         "and step counts.")
        died = [r for r in self.runs if r.seed == seed and r.died and not r.diverged]
        alive = [r for r in died if r.test_accuracy > 2 / 10]  # twice chance (10 digits)
        if died:
            lines.append(f"Of the {len(died)} runs that died, {len(alive)} still reached a test "
                         "accuracy above 0.2 (chance is 0.1): a few live units can carry the "
                         "classifier.")
        for i, w in enumerate(self.widths):
            parts = [f"{scale_label(s)}: {_lr_text(stable[i, j])}"
                     for j, s in enumerate(self.scales)]
            lines.append(f"Largest stable learning rate at width {w}: " + ", ".join(parts) + ".")
        lines.extend(self._scale_one_vs_smaller(stable, seed))
        acc = self.test_accuracy(seed=seed)
        for i, w in enumerate(self.widths):
            best = np.nanmax(acc[i]) if np.isfinite(acc[i]).any() else np.nan
            parts = [f"{scale_label(s)} {acc[i, j]:.3f}" for j, s in enumerate(self.scales)
                     if np.isfinite(acc[i, j])]
            lines.append(f"Best test accuracy at width {w} (over stable learning rates): "
                         + ", ".join(parts) + f"; the best is {best:.3f}.")
        return "\n".join(lines)


    def _scale_one_vs_smaller(self, stable: np.ndarray, seed: int) -> list[str]:
        """Scale 1 against the smaller constant scales: stability edge and best accuracy."""
        j1 = _index(self.scales, 1.0)
        smaller = [j for j, s in enumerate(self.scales) if not isinstance(s, str) and s < 1]
        if j1 is None or not smaller:
            return []
        edge = np.nan_to_num(stable, nan=0.0)
        lower = [w for i, w in enumerate(self.widths) if edge[i, j1] < edge[i, smaller].max()]
        higher = [w for i, w in enumerate(self.widths) if edge[i, j1] > edge[i, smaller].max()]
        if not lower and not higher:
            edge_text = ("The scale did not move the stability edge in this grid: at every "
                         "width, scale 1 trained up to the same learning rate as the best of "
                         "the smaller constant scales.")
        else:
            edge_text = (f"Scale 1's stability edge is lower than the smaller scales' at widths "
                         f"{lower or 'none'} and higher at widths {higher or 'none'}.")
        acc = self.test_accuracy(seed=seed)
        gaps = [f"{w}: {acc[i, j1] - np.nanmax(acc[i, smaller]):+.3f}"
                for i, w in enumerate(self.widths)
                if np.isfinite(acc[i, j1]) and np.isfinite(acc[i, smaller]).any()]
        return [edge_text, "Best test accuracy of scale 1 minus the best smaller constant scale, "
                           "by width: " + ", ".join(gaps) + "."]


def _index(scales: tuple, scale) -> int | None:
    for j, s in enumerate(scales):
        if not isinstance(s, str) and not isinstance(scale, str) and math.isclose(s, scale):
            return j
    return None


def _lr_text(lr: float) -> str:
    return "none" if math.isnan(lr) else f"{lr:g}"


def results_from_dict(document: dict) -> WhyScaleResults:
    """A results document (the parsed JSON) as :class:`WhyScaleResults`."""
    if not isinstance(document, dict) or "runs" not in document or "config" not in document:
        raise ValueError(f"document: got {given(document)}; expected a why_scale results "
                         "document with 'config' and 'runs'")
    cfg = {k: v for k, v in document["config"].items() if k != "protocol_version"}
    config = GridConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
    fields = TrunkRun.__dataclass_fields__
    runs = tuple(TrunkRun.from_dict({k: v for k, v in r.items() if k in fields})
                 for r in document["runs"])
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
