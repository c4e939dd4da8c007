"""The measurements the exercises are graded against, computed on demand and cached.

They use the same block and input as the notebooks: ``build_block35(variant, scale, seed=0)``
on ``sample_input(variant, batch=1, size=35, seed=0)``. TensorFlow loads only when an
exercise is checked, so ``list_exercises()`` stays instant.
"""

from __future__ import annotations

from functools import lru_cache

SEED = 0
BATCH, SIZE = 1, 35


@lru_cache(maxsize=8)
def block(variant: str = "v1", scale: float = 0.17, activation: str | None = "relu"):
    """The notebooks' block: seed 0, so every scale has the same weights."""
    from ..blocks import build_block35

    return build_block35(variant, scale=scale, activation=activation, seed=SEED, device="cpu")


@lru_cache(maxsize=2)
def block_input(variant: str = "v1"):
    """The notebooks' input: ReLU'd noise of shape (1, 35, 35, C), seed 0."""
    from ..blocks import sample_input

    return sample_input(variant, batch=BATCH, size=SIZE, seed=SEED)


@lru_cache(maxsize=8)
def traced(variant: str = "v1", scale: float = 0.17, activation: str | None = "relu"):
    """The trace of the notebooks' block on the notebooks' input."""
    from ..tracing import trace

    return trace(block(variant, scale, activation), block_input(variant))


def residual_ratio(scale: float, variant: str = "v1") -> float:
    """||scale * up|| / ||net|| measured by running a block built with that scale."""
    return traced(variant, float(scale)).residual_ratio


def default_scale() -> float:
    """The scale ``build_block35`` gives a block when none is named (facenet's v1 value)."""
    import inspect

    from ..blocks import build_block35

    return float(inspect.signature(build_block35).parameters["scale"].default)
