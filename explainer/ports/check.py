"""A port's measured result: two implementations' outputs, compared tensor by tensor."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class PortCheck:
    """Outputs of two implementations on the same input, compared tensor by tensor."""

    source: str
    target: str
    max_abs_diff: dict[str, float]  # tensor name -> max |a - b|
    notes: list[str] = field(default_factory=list)

    @property
    def net_out(self) -> float:
        """The max abs difference of the block output."""
        return self.max_abs_diff["net_out"]

    def __str__(self) -> str:
        lines = [f"{self.source} vs {self.target}: max |difference| per tensor"]
        lines += [f"  {name:<14}{diff:.3e}" for name, diff in self.max_abs_diff.items()]
        return "\n".join(lines + [f"  note: {n}" for n in self.notes])


def max_abs(a, b) -> float:
    """max |a - b| over all elements, computed in float64. Equal infinities (both outputs
    overflowed alike, e.g. at scale 3.4e38) are 0 apart; NaN gives NaN; no RuntimeWarning."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    with np.errstate(invalid="ignore"):  # inf - inf: counted as 0 below
        return float(np.max(np.where(a == b, 0.0, np.abs(a - b))))
