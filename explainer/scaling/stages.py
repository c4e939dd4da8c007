"""The real nets' residual stages, run with their own scales and with every scale at 1.0.

Inception-ResNet stacks three kinds of residual block, each kind repeated at its own scale
(:data:`explainer.core.schedule.SCHEDULE`, read from the original code): facenet's v1 runs
5 x block35 at 0.17, 10 x block17 at 0.10, 5 x block8 at 0.20 and a final block8 at 1.0
without activation; tf-models' v2 runs 10 / 20 / 9 + the final one. :func:`stage_profile`
runs every stage at its real width (256 / 896 / 1792 channels for v1, 320 / 1088 / 2080 for
v2: above 1000 channels is where the paper saw instabilities without the scale) twice: with
that schedule, and with every scale at 1.0, and measures each block and each stage.

Each stage starts from its own seeded input at its real width (the reduction blocks between
the stages are not part of this), on a small spatial size so it stays quick: the statistics
are per channel and per position, so the trend does not need 35 x 35.

Every block is a real Keras block (seeded ``seed * 1000 + its position in the trunk``, the
same weights for both schedules); its branches and ``up`` run once per input, and the last
line of the block, ``net = act(net + scale * up)``, runs in TensorFlow at the schedule's scale.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..core.block_tables import IN_CHANNELS_BY_BLOCK
from ..core.budget import check_block_run
from ..core.lesson import sample_input
from ..core.schedule import SCHEDULE, Stage
from ..core.spec import UP_SCOPE, BlockSpec, keras_name
from ..core.validate import check_positive_int, check_variant
from ..core.weight_tables import _seeded_weights
from ..core.weights import _set_block_weights

SCHEDULE_NAMES = ("real", "all 1.0")


@dataclass(frozen=True, eq=False)
class StageProfile:
    """Per block and per stage numbers of the residual trunk, for each schedule.

    ``scales[name]`` is the scale of each block (in trunk order) under schedule ``name``
    ("real" or "all 1.0"); ``residual_ratio[name]`` ||scale * up|| / ||net|| of each block;
    ``std_out[name]`` the standard deviation of each block's output. Per stage (aligned with
    ``stages``): ``std_in`` (the stage input's), ``growth[name]`` = ||stage output|| / ||stage
    input||, ``grad_norm[name]`` the L2 norm of d(sum of the stage's output) / d(its input).
    """

    variant: str
    stages: tuple[Stage, ...]  # as run (``max_repeats`` may have shortened them)
    widths: tuple[int, ...]  # channels of each stage
    input_shapes: tuple[tuple[int, ...], ...]
    seed: int
    block_stage: np.ndarray = field(repr=False)  # stage index of each block
    scales: dict = field(repr=False)
    residual_ratio: dict = field(repr=False)
    std_out: dict = field(repr=False)
    std_in: np.ndarray = field(repr=False)
    growth: dict = field(repr=False)
    grad_norm: dict = field(repr=False)

    def to_dict(self) -> dict:
        def plain(d):
            return {k: v.tolist() for k, v in d.items()}
        return {"variant": self.variant, "seed": self.seed,
                "stages": [vars(s) for s in self.stages], "widths": list(self.widths),
                "input_shapes": [list(s) for s in self.input_shapes],
                "block_stage": self.block_stage.tolist(), "scales": plain(self.scales),
                "residual_ratio": plain(self.residual_ratio), "std_out": plain(self.std_out),
                "std_in": self.std_in.tolist(), "growth": plain(self.growth),
                "grad_norm": plain(self.grad_norm)}

    def __str__(self) -> str:
        head = (f"{'stage':<31}{'width':>6}{'schedule':>10}{'std in':>9}{'std out':>9}"
                f"{'growth':>9}{'max ratio':>11}{'|grad|':>11}")
        lines = [f"Inception-ResNet-{self.variant} residual stages, each from its own input "
                 f"{self.input_shapes[0][:3]} x width, seed {self.seed}", head, "-" * len(head)]
        for j, stage in enumerate(self.stages):
            act = "" if stage.activation else ", no activation"
            label = f"{stage.repeats} x {stage.block} @ {stage.scale:g}{act}"
            in_stage = self.block_stage == j
            for name in SCHEDULE_NAMES:
                last = np.flatnonzero(in_stage)[-1]
                lines.append(f"{label:<31}{self.widths[j]:>6}{name:>10}{self.std_in[j]:>9.3f}"
                             f"{self.std_out[name][last]:>9.3f}{self.growth[name][j]:>9.3f}"
                             f"{self.residual_ratio[name][in_stage].max():>11.4f}"
                             f"{self.grad_norm[name][j]:>#11.4g}")
                label = ""
        return "\n".join(lines)


@lru_cache(maxsize=8)
def _block_and_up(kind: str, variant: str):
    """One real block of this kind and a model of it returning ``up`` (the scale does not
    enter); :func:`_up` loads each position's seeded weights into it. Building a block costs
    about 0.5 s, loading weights a few ms: one build per kind, not per block of the trunk.
    Its arguments come checked by :func:`stage_profile`."""
    import keras

    from ..core.blocks import build_from_spec, resolve_device

    spec = BlockSpec(variant=variant, scale=1.0, activation="relu", seed=0,
                     device=resolve_device("auto"), block=kind)
    block = build_from_spec(spec)
    return block, keras.Model(block.inputs, block.get_layer(keras_name(UP_SCOPE)).output)


def _up(kind: str, variant: str, seed: int, net):
    """``up`` of the real block of this kind with the weights seeded ``seed``, on ``net``."""
    block, up_model = _block_and_up(kind, variant)
    _set_block_weights(block, _seeded_weights(variant, seed, kind), block.residual_spec)
    return up_model(net, training=False)


def stage_profile(variant: str = "v1", size: int = 3, batch: int = 1, seed: int = 0,
                  max_repeats: int | None = None) -> StageProfile:
    """Run the real residual stages of ``variant`` with their schedule and with all scales 1.0.

    Args:
        variant: "v1" (facenet: 5 / 10 / 5 + 1 blocks) or "v2" (tf-models: 10 / 20 / 9 + 1).
        size: height = width of every stage's input (small keeps it quick; default 3).
        batch: inputs per stage.
        seed: seeds the blocks' weights and the stages' inputs.
        max_repeats: run at most this many blocks per stage (None: the real counts).
    """
    import tensorflow as tf

    from ..core.blocks import residual_tail

    variant = check_variant(variant)
    size = check_positive_int("size", size)
    batch = check_positive_int("batch", batch)
    seed = check_positive_int("seed", seed, minimum=0)
    if max_repeats is not None:
        max_repeats = check_positive_int("max_repeats", max_repeats)
    stages = tuple(Stage(s.block, min(s.repeats, max_repeats or s.repeats), s.scale,
                         s.activation) for s in SCHEDULE[variant])
    for stage in stages:  # from the shapes, before any input is made
        check_block_run(variant, batch, size, size, block=stage.block,
                        what=f"profiling the {stage.block} stage of {variant}")
    kinds = [(j, s) for j, s in enumerate(stages) for _ in range(s.repeats)]
    schedules = {"real": np.array([s.scale for _, s in kinds]),
                 "all 1.0": np.ones(len(kinds))}
    ratio = {n: np.zeros(len(kinds)) for n in SCHEDULE_NAMES}
    std_out = {n: np.zeros(len(kinds)) for n in SCHEDULE_NAMES}
    growth = {n: np.zeros(len(stages)) for n in SCHEDULE_NAMES}
    grad = {n: np.zeros(len(stages)) for n in SCHEDULE_NAMES}
    std_in, shapes = np.zeros(len(stages)), []
    for j, stage in enumerate(stages):
        x = sample_input(variant, batch, size, seed=seed + j, block=stage.block)
        shapes.append(tuple(x.shape))
        std_in[j] = float(x.std())
        first = next(i for i, (k, _) in enumerate(kinds) if k == j)
        for name in SCHEDULE_NAMES:
            x_t = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(x_t)
                h = x_t
                for i in range(first, first + stage.repeats):
                    up = _up(stage.block, variant, seed * 1000 + i, h)
                    scaled_up, out = residual_tail(h, up, float(schedules[name][i]),
                                                   stage.activation)
                    ratio[name][i] = float(tf.norm(scaled_up) / tf.maximum(tf.norm(h), 1e-30))
                    std_out[name][i] = float(tf.math.reduce_std(out))
                    h = out
                total = tf.reduce_sum(h)
            growth[name][j] = float(tf.norm(h) / tf.norm(x_t))
            grad[name][j] = float(tf.norm(tape.gradient(total, x_t)))
    return StageProfile(variant=variant, stages=stages,
                        widths=tuple(IN_CHANNELS_BY_BLOCK[s.block][variant] for s in stages),
                        input_shapes=tuple(shapes), seed=seed,
                        block_stage=np.array([j for j, _ in kinds]), scales=schedules,
                        residual_ratio=ratio, std_out=std_out, std_in=std_in, growth=growth,
                        grad_norm=grad)
