"""The verdict of a "why scale" run and the small pieces of wording every finding shares.

A run's *verdict* is its stored fate ("trained", "died", "diverged"), except that a run which
trained but whose last block ends at least :data:`MOSTLY_DEAD` zeros is called
:data:`MOSTLY_DEAD_VERDICT`: it passed the 99 % test of "died", yet most of its last block is
off, and its accuracy usually shows it. The stored ``fate`` stays as it is.
"""

from __future__ import annotations

import math

import numpy as np

from .trunk_args import scale_label

CONSTANT_SMALLER = (0.3, 0.17, 0.1)
MOSTLY_DEAD = 0.9
MOSTLY_DEAD_VERDICT = f"trained (last block >={MOSTLY_DEAD:.0%} zeros)"
VERDICTS = ("trained", MOSTLY_DEAD_VERDICT, "died", "diverged")
SHORT = {"trained": "T", MOSTLY_DEAD_VERDICT: "T90", "died": "D", "diverged": "X"}
PAPER_WIDTH = 1000  # Szegedy et al. 2016, §3.3: trouble when the filters exceeded 1000
NO_ARMS = ("Decomposition (a small start, a slow step): not in this results file (its grid "
           "has no arms); `make experiment` runs them.")


def final_dead(run) -> float:
    """The last block's dead fraction at the run's last measured step (NaN if none)."""
    dead = np.asarray(run.dead_fraction, dtype=np.float64)
    dead = dead[np.isfinite(dead)]
    return float(dead[-1]) if dead.size else math.nan


def verdict(run) -> str:
    """The run's fate, with "trained" qualified when the last block ends mostly zeros."""
    if run.fate == "trained" and final_dead(run) >= MOSTLY_DEAD:
        return MOSTLY_DEAD_VERDICT
    return run.fate


def edge_text(value: float, lrs: tuple) -> str:
    """An edge as written: "0.1"; "<0.03" when even the smallest rate failed; ">=0.3" when
    the largest trained (the edge lies at or beyond the grid)."""
    return f"<{lrs[0]:g}" if value == 0 else f">={value:g}" if value == lrs[-1] else f"{value:g}"


def edge_range(low: float, high: float, lrs: tuple) -> str:
    if low == high:
        return edge_text(low, lrs)
    return f"{edge_text(low, lrs)} to {edge_text(high, lrs)}"


def edge_with_range(values: np.ndarray, lrs: tuple) -> str:
    """Median edge over seeds, and the seeds' range where they differ."""
    median, low, high = float(np.median(values)), float(values.min()), float(values.max())
    return edge_text(median, lrs) + ("" if low == high else f" ({edge_range(low, high, lrs)})")


def counts_line(verdicts: np.ndarray) -> str:
    return ", ".join(f"{int((verdicts == v).sum())} {v}" for v in VERDICTS)


def join(items: list[str]) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" and {items[-1]}"


def scale_indices(results) -> tuple[list[str], int | None, list[int]]:
    """Scale labels, the index of scale 1 (None if absent), those of the smaller constants."""
    labels = [scale_label(s) for s in results.scales]
    small = [labels.index(scale_label(s)) for s in CONSTANT_SMALLER if scale_label(s) in labels]
    return labels, (labels.index("1") if "1" in labels else None), small


def verdict_key() -> str:
    """The verdicts' short forms, as the tables write them."""
    return ", ".join(f"{short} {name}" for name, short in SHORT.items())
