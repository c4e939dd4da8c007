"""Exercises of ``02_block35_walkthrough``: the shapes along the block and what is a weight."""

from __future__ import annotations

from ..core.weights import block_weights
from . import facts
from .core import ANSWER, exercise, otherwise, when_equal

NOTEBOOK = "02_block35_walkthrough"
BRANCH_ENDS = ("tower_conv", "tower_conv1_1", "tower_conv2_2")


def _scale_in_weights() -> tuple[bool, int, int]:
    """(is scale held by a weight?, count_params(), parameters of the slim variables)."""
    block = facts.block()
    params = int(block.count_params())
    slim = int(sum(v.size for v in block_weights(block).values()))
    held = bool(block.get_layer("scaled_up").weights) or params != slim
    return held, params, slim


@exercise("walk_mixed_channels", NOTEBOOK,
          "How many channels does `mixed` have in the v1 block (input of 256 channels)?",
          "a whole number", "64", reader="whole",
          solve=lambda: str(facts.traced()["mixed"].shape[-1]))
def walk_mixed_channels():
    tr = facts.traced()
    truth = tr["mixed"].shape[-1]
    widths = [tr[name].shape[-1] for name in BRANCH_ENDS]
    return [
        when_equal(truth, True, "mixed concatenates the three branch outputs on the channel "
                   f"axis: {' + '.join(map(str, widths))} = {truth}."),
        when_equal(tr["net"].shape[-1], False, f"{ANSWER} is the width of `net` (and of `up`); "
                   "`mixed` is the concatenation before the 1x1 projection. Add up the branch "
                   "widths."),
        otherwise(False, f"{ANSWER} is not it. `mixed = tf.concat([tower_conv, tower_conv1_1, "
                  "tower_conv2_2], 3)`: add up the last-axis sizes of the three branches."),
    ]


@exercise("walk_up_shape", NOTEBOOK,
          "For an input `net` of shape (1, 35, 35, 256), what is the shape of `up`?",
          "a shape tuple", "(1, 35, 35, 96)", reader="shape",
          solve=lambda: str(facts.traced()["up"].shape))
def walk_up_shape():
    tr = facts.traced()
    truth, mixed = tuple(tr["up"].shape), tuple(tr["mixed"].shape)
    return [
        when_equal(truth, True, f"up has shape {truth}, the same as net {tr['net'].shape}: the "
                   f"1x1 conv projects the {mixed[-1]} channels of mixed back to {truth[-1]}, "
                   "so that `net + scale * up` lines up element for element."),
        when_equal(mixed, False, f"{ANSWER} is the shape of `mixed`. `up` is the 1x1 "
                   "convolution of mixed to `net.get_shape()[3]` channels."),
        otherwise(False, f"{ANSWER} is not it. Look at `net.get_shape()[3]` in the line that "
                  "makes `up`, or at trace['up'].shape."),
    ]


@exercise("walk_scale_is_weight", NOTEBOOK,
          "Is `scale` one of the block's weights (would training change it)?",
          "True or False", "True", reader="bool", solve=lambda: str(_scale_in_weights()[0]))
def walk_scale_is_weight():
    held, params, slim = _scale_in_weights()
    return [
        when_equal(held, True, f"no weight holds the scale: count_params() = {params:,}, "
                   f"exactly the {slim:,} numbers of the slim variables (conv weights, "
                   "BatchNorm beta and statistics, the projection's biases). scale is a Python "
                   "constant." if not held else "a weight of the block holds the scale."),
        otherwise(False, f"count_params() = {params:,} and the slim variables hold {slim:,} "
                  "numbers. Is there room for scale among them? Look for it in block.weights."),
    ]
