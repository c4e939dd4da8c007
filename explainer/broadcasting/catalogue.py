"""The shapes a residual scale can have next to ``up`` of shape (N, H, W, C), right and wrong.

Each entry is explained by :func:`explainer.broadcasting.explain_broadcast` (so numpy and
TensorFlow really run it), and the axes of ``up`` that the scale's sizes line up with are read
off that alignment: a mistake either fails loudly or, when sizes happen to coincide, silently
scales the wrong axis.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.validate import check_items, check_positive_int
from .rule import BroadcastExplanation, explain_broadcast

AXES = ("N", "H", "W", "C")

# label, scale shape in axis names ("1" = size 1), what it is for, the axes it is meant to vary
_ENTRIES = (
    ("Python scalar", (), "scale * up with scale = 0.17: one number for every element "
                          "(block35)", ()),
    ("0-d tensor", (), "tf.constant(0.17): broadcasts exactly like a Python scalar", ()),
    ("per-channel (C,)", ("C",), "LayerScale (CaiT): one learned scale per channel", ("C",)),
    ("(1, 1, 1, C)", ("1", "1", "1", "C"), "per-channel, written out at full rank", ("C",)),
    ("per-sample (N, 1, 1, 1)", ("N", "1", "1", "1"),
     "drop-path / stochastic depth: keep or drop each sample's whole residual", ("N",)),
    ("mistake: (N,)", ("N",), "meant per-sample, but a 1-D array lines up with the last axis",
     ("N",)),
    ("mistake: (H,)", ("H",), "meant per-row, but it lines up with the last axis", ("H",)),
    ("mistake: (C, 1)", ("C", "1"), "meant per-channel as a column vector; it lines up with "
                                    "(W, C)", ("C",)),
)


@dataclass(frozen=True)
class CatalogueEntry:
    """One scale shape, its purpose, and what broadcasting really does with it."""

    label: str
    scale_shape: tuple[int, ...]
    meaning: str
    intended_axes: tuple[str, ...]  # the axes of up the scale is meant to vary along
    lines_up_with: tuple[str, ...]  # the axes of up its sizes > 1 actually align with
    explanation: BroadcastExplanation

    @property
    def correct(self) -> bool:
        """Broadcasts, keeps ``up``'s shape, and varies along the intended axes."""
        e = self.explanation
        return (e.compatible and e.result_shape == e.a
                and self.lines_up_with == self.intended_axes)

    @property
    def verdict(self) -> str:
        e = self.explanation
        if not e.compatible:
            ax = e.axes[e.failing_axis]
            return f"fails loudly: {AXES[ax.axis]} is {ax.a}, the scale has {ax.b}"
        if e.result_shape != e.a:
            return f"broadcasts but changes the shape to {e.result_shape}"
        if self.lines_up_with != self.intended_axes:
            return (f"silently scales along {', '.join(self.lines_up_with)} instead of "
                    f"{', '.join(self.intended_axes)}")
        return "correct"


def catalogue_shapes(N: int = 2, H: int = 35, W: int = 35,  # noqa: N803 - axis names
                     C: int = 256) -> list[tuple[str, tuple[int, ...]]]:
    """(label, scale shape) for each catalogue entry, at these sizes, without running anything."""
    size = {"N": N, "H": H, "W": W, "C": C, "1": 1}
    return [(label, tuple(size[n] for n in names)) for label, names, _, _ in _ENTRIES]


def scale_shape_catalogue(N: int = 2, H: int = 35, W: int = 35,  # noqa: N803 - axis names
                          C: int = 256) -> list[CatalogueEntry]:
    """Every catalogued scale shape against ``up`` of shape (N, H, W, C), explained by running
    numpy and TensorFlow. Make two sizes equal (e.g. N == C) to see a mistake go silent."""
    size = {"N": check_positive_int("N", N), "H": check_positive_int("H", H),
            "W": check_positive_int("W", W), "C": check_positive_int("C", C), "1": 1}
    up = tuple(size[a] for a in AXES)
    entries = []
    for label, names, meaning, intended in _ENTRIES:
        shape = tuple(size[n] for n in names)
        e = explain_broadcast(up, shape)
        lines = tuple(AXES[len(AXES) - len(shape) + i]  # right-aligned against (N, H, W, C)
                      for i, d in enumerate(shape) if d != 1)
        entries.append(CatalogueEntry(label, shape, meaning, tuple(intended), lines, e))
    return entries


def format_catalogue(entries: list[CatalogueEntry]) -> str:
    """The catalogue as aligned text: label, shape, result and verdict."""
    entries = check_items("entries", entries, CatalogueEntry, "scale_shape_catalogue()")
    lines = [f"{'scale shape':<26}{'shape':<18}{'result':<22}verdict"]
    for en in entries:
        result = en.explanation.result_shape
        lines.append(f"{en.label:<26}{str(en.scale_shape):<18}"
                     f"{'no result' if result is None else str(result):<22}{en.verdict}")
    return "\n".join(lines)
