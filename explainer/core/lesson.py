"""The lesson's block and input: what every notebook, exercise and test means by "the block".

One place says it: block35 v1 (facenet), the real scale (:data:`~.schedule.BLOCK35_SCALE`),
ReLU, weights seeded with 0, and one 35x35 input (block35's real spatial size) seeded with 0.
The input and the weights are numpy (no TensorFlow), so a classroom app can use them as they
are; :meth:`LessonSetup.block` builds the Keras block when it is asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from .block_tables import IN_CHANNELS_BY_BLOCK, check_block_kind
from .budget import check_memory, tensor_bytes
from .quiet import import_quietly
from .schedule import BLOCK35_SCALE
from .validate import check_activation, check_positive_int, check_scale, check_variant
from .weight_tables import seeded_weights

LESSON_VARIANT = "v1"
LESSON_SEED = 0
LESSON_BATCH, LESSON_SIZE = 1, 35  # one image at block35's real spatial size


def sample_input(variant: str = "v1", batch: int = 1, size: int = 35, seed: int = 0,
                 block: str = "block35") -> np.ndarray:
    """A reproducible block input: ReLU of standard normal noise, shape (batch, size, size, C).

    In the real nets block35 reads the output of a ReLU (the stem or the previous block), so
    its input is non-negative; half the units are exactly zero here. ``block="block17"`` or
    ``"block8"`` gives that block's width (C = 896 / 1088, 1792 / 2080).
    """
    variant = check_variant(variant)
    batch = check_positive_int("batch", batch)
    size = check_positive_int("size", size)
    seed = check_positive_int("seed", seed, minimum=0)
    block = check_block_kind(block)
    channels = IN_CHANNELS_BY_BLOCK[block][variant]
    check_memory(tensor_bytes(batch, size, size, channels, copies=2),
                 f"batch={batch}, size={size}", "making the input")
    return _sample_input(variant, batch, size, seed, block)


def _sample_input(variant: str, batch: int, size: int, seed: int, block: str) -> np.ndarray:
    """:func:`sample_input` of checked arguments: it trusts its caller. Its memory is the
    caller's to budget: ``check_block_run`` of the same batch and size (as explain_block and
    the CLI's scale check first) counts this input among the traced tensors, more than its two
    copies here; the fold step's one lesson-sized image is a fixed cost, as weights are."""
    rng = np.random.default_rng([seed, int(block[len("block"):])])  # 35, 17 or 8
    x = rng.standard_normal((batch, size, size, IN_CHANNELS_BY_BLOCK[block][variant]),
                            dtype=np.float32)
    return np.maximum(x, 0.0)


@dataclass(frozen=True)
class LessonSetup:
    """The lesson's block and input. ``x`` and ``weights`` are numpy; ``block`` is Keras."""

    variant: str = LESSON_VARIANT
    scale: float = BLOCK35_SCALE
    activation: str | None = "relu"
    seed: int = LESSON_SEED
    batch: int = LESSON_BATCH
    size: int = LESSON_SIZE

    @cached_property
    def x(self) -> np.ndarray:
        """The input ``net``: (batch, size, size, C) float32."""
        return sample_input(self.variant, self.batch, self.size, self.seed)

    @cached_property
    def weights(self) -> dict[str, np.ndarray]:
        """The block's weights by slim name (the same ones the Keras block is built with)."""
        return seeded_weights(self.variant, self.seed)

    @cached_property
    def block(self):
        """The Keras block (TensorFlow loads here, on first use), on the CPU."""
        # TensorFlow's native start-up lines would show as a red box in a notebook
        blocks = import_quietly(".blocks", __package__)
        return blocks.build_block35(self.variant, scale=self.scale, activation=self.activation,
                                    seed=self.seed, device="cpu")

    @cached_property
    def traced(self):
        """The trace of :attr:`block` on :attr:`x`, made once and shared by its users."""
        tracing = import_quietly(".tracing", __package__)
        return tracing.trace(self.block, self.x)


def lesson_setup(variant: str = LESSON_VARIANT, scale: float = BLOCK35_SCALE,
                 activation: str | None = "relu") -> LessonSetup:
    """The lesson's block and input; ``variant``, ``scale`` and ``activation`` may differ.

    >>> setup = lesson_setup()
    >>> setup.variant, setup.scale, setup.x.shape
    ('v1', 0.17, (1, 35, 35, 256))
    """
    return _setup(check_variant(variant), check_scale(scale), check_activation(activation))


@lru_cache(maxsize=16)  # a block costs ~0.5 s to build: one per setting per process
def _setup(variant: str, scale: float, activation: str | None) -> LessonSetup:
    return LessonSetup(variant, scale, activation)
