"""The measurements the exercises are graded against, computed on demand and cached.

They use the lesson's block and input (:func:`explainer.core.lesson.lesson_setup`), the same
ones the notebooks use. TensorFlow loads only when an exercise is checked, so
``list_exercises()`` stays instant.
"""

from __future__ import annotations

from ..core.lesson import lesson_setup
from ..core.schedule import BLOCK35_SCALE, SCHEDULE


def block(variant: str = "v1", scale: float = BLOCK35_SCALE, activation: str | None = "relu"):
    """The lesson's block: seed 0, so every scale has the same weights."""
    return lesson_setup(variant, scale, activation).block


def block_input(variant: str = "v1"):
    """The lesson's input: ReLU'd noise of shape (1, 35, 35, C), seed 0."""
    return lesson_setup(variant).x


def traced(variant: str = "v1", scale: float = BLOCK35_SCALE, activation: str | None = "relu"):
    """The trace of the lesson's block on the lesson's input (made once per setting)."""
    return lesson_setup(variant, scale, activation).traced


def residual_ratio(scale: float, variant: str = "v1") -> float:
    """||scale * up|| / ||net|| measured by running a block built with that scale."""
    return traced(variant, float(scale)).residual_ratio


def facenet_block35_scale() -> float:
    """The scale facenet's Inception-ResNet-v1 passes to its block35 stage, read from the
    original ``slim.repeat(net, 5, block35, scale=...)`` line (:mod:`explainer.core.schedule`)."""
    return next(s.scale for s in SCHEDULE["v1"] if s.block == "block35")
