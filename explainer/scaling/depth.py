"""What the scale does to a stack of blocks: activation size per block and the input gradient.

The real nets stack block35 several times at one scale: facenet's Inception-ResNet-v1 five
times at 0.17, tf-slim's Inception-ResNet-v2 ten times at 0.17. :func:`depth_profile` builds
such a stack (block ``i`` seeded with ``seed * 1000 + i``, so every scale sees the same
weights), runs it, and reports the numbers as they come out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..core.budget import COPIES, check_memory, tensor_bytes, traced_channels
from ..core.inputs import check_block_input
from ..core.lesson import sample_input
from ..core.schedule import SCHEDULE
from ..core.spec import IN_CHANNELS, BlockSpec
from ..core.validate import check_activation, check_positive_int, check_scales, check_variant

MAX_DEPTH = 40
# (number of block35, scale) in the real nets, read from their original code
REAL_STACKS = {variant: next((s.repeats, s.scale) for s in stages if s.block == "block35")
               for variant, stages in SCHEDULE.items()}


@dataclass(frozen=True, eq=False)
class DepthProfile:
    """Per-block numbers of a stack of ``depth`` blocks, one row per scale in ``scales``.

    ``std`` and ``norm`` have shape (len(scales), depth + 1): column 0 is the stack's input,
    column ``i`` the output of block ``i``. ``residual_ratio`` (len(scales), depth) is
    ||scale * up|| / ||net|| inside each block. ``grad_norm`` (len(scales),) is the L2 norm of
    d(sum of the stack's output) / d(input), taken with ``tf.GradientTape``.
    """

    variant: str
    depth: int
    scales: np.ndarray
    activation: str | None
    seed: int
    input_shape: tuple
    std: np.ndarray = field(repr=False)
    norm: np.ndarray = field(repr=False)
    residual_ratio: np.ndarray = field(repr=False)
    grad_norm: np.ndarray = field(repr=False)

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in ("std", "norm", "residual_ratio", "grad_norm"):
            raise KeyError(f"depth profile has no {name!r}; it has std, norm, residual_ratio, "
                           "grad_norm")
        return getattr(self, name)

    def to_dict(self) -> dict:
        return {"variant": self.variant, "depth": self.depth, "scales": self.scales.tolist(),
                "activation": self.activation, "seed": self.seed,
                "input_shape": list(self.input_shape), "std": self.std.tolist(),
                "norm": self.norm.tolist(), "residual_ratio": self.residual_ratio.tolist(),
                "grad_norm": self.grad_norm.tolist()}

    def __str__(self) -> str:
        lines = [f"stack of {self.depth} x block35 {self.variant}, input {self.input_shape}",
                 f"{'scale':>8}{'std in':>10}{'std out':>10}{'norm in':>11}{'norm out':>11}"
                 f"{'ratio b1':>10}{'ratio last':>11}{'|grad|':>11}"]
        for i, s in enumerate(self.scales):
            lines.append(f"{s:>8.3f}{self.std[i, 0]:>10.4f}{self.std[i, -1]:>10.4f}"
                         f"{self.norm[i, 0]:>11.2f}{self.norm[i, -1]:>11.2f}"
                         f"{self.residual_ratio[i, 0]:>10.4f}{self.residual_ratio[i, -1]:>11.4f}"
                         f"{self.grad_norm[i]:>#11.4g}")  # '#': 118.0, not 118
        return "\n".join(lines)


@lru_cache(maxsize=256)
def _block_parts(variant: str, scale: float, activation: str | None, seed: int):
    """A real block35 with this scale, as a model returning (scaled_up, net_out). Its
    arguments come checked by :func:`depth_profile` (built from the spec, not checked again)."""
    import keras

    from ..core.blocks import build_from_spec, resolve_device

    block = build_from_spec(BlockSpec(variant=variant, scale=scale, activation=activation,
                                      seed=seed, device=resolve_device("auto")))
    return keras.Model(block.inputs, [block.get_layer("scaled_up").output, block.output])


def stack_blocks(variant: str, depth: int, scale: float, activation: str | None = "relu",
                 seed: int = 0) -> list:
    """The ``depth`` models of a stack at ``scale`` (cached; same weights for every scale).
    Trusts its caller (:func:`depth_profile` checks the arguments once)."""
    return [_block_parts(variant, float(scale), activation, seed * 1000 + i)
            for i in range(depth)]


def depth_profile(variant: str, depth: int, scales=(1.0, 0.17, 0.0), x=None, seed: int = 0,
                  activation: str | None = "relu") -> DepthProfile:
    """Run a stack of ``depth`` block35 at each scale and measure it block by block.

    Args:
        variant: "v1" or "v2".
        depth: 1 to 40 blocks (the real nets: v1 5, v2 10; see ``REAL_STACKS``).
        scales: the scales to compare, e.g. (1.0, 0.17, 0.0).
        x: the stack's input (N, H, W, C_in); default ``sample_input(variant, seed=seed)``
            (1 x 35 x 35). A small input (e.g. size 9) is enough to see the trend and quick.
        seed: seeds the blocks' weights and the default input.
        activation: the blocks' activation ("relu", "relu6" or None).
    """
    variant = check_variant(variant)
    depth = check_positive_int("depth", depth)
    if depth > MAX_DEPTH:
        raise ValueError(f"depth: got {depth}; expected at most {MAX_DEPTH} blocks")
    values = check_scales(scales)
    seed = check_positive_int("seed", seed, minimum=0)
    activation = check_activation(activation)
    # the default input is made right; a given one is checked
    x = (sample_input(variant, seed=seed) if x is None
         else check_block_input(x, IN_CHANNELS[variant]))
    check_memory(tensor_bytes(*x.shape[:3], traced_channels(variant), COPIES) * depth,
                 f"depth={depth}, batch={x.shape[0]}, size={x.shape[1]}",
                 f"a stack of {depth} blocks with its gradient")
    import tensorflow as tf

    shape = (len(values), depth + 1)
    std, norm = np.zeros(shape), np.zeros(shape)
    ratio, grad = np.zeros((len(values), depth)), np.zeros(len(values))
    x_t = tf.constant(x)
    for i, s in enumerate(values):
        with tf.GradientTape() as tape:
            tape.watch(x_t)
            h = x_t
            for j, model in enumerate(stack_blocks(variant, depth, s, activation, seed)):
                arr = h.numpy().astype(np.float64)
                std[i, j], norm[i, j] = arr.std(), np.sqrt(np.sum(arr * arr))
                scaled_up, h = model(h, training=False)
                ratio[i, j] = float(tf.norm(scaled_up)) / max(norm[i, j], 1e-300)
            total = tf.reduce_sum(h)
        arr = h.numpy().astype(np.float64)
        std[i, depth], norm[i, depth] = arr.std(), np.sqrt(np.sum(arr * arr))
        grad[i] = float(tf.norm(tape.gradient(total, x_t)))
    return DepthProfile(variant=variant, depth=depth, scales=values, activation=activation,
                        seed=seed, input_shape=tuple(x.shape), std=std, norm=norm,
                        residual_ratio=ratio, grad_norm=grad)
