"""Exercises of ``02_block35_walkthrough``: the shapes along the block and what is a weight."""

from __future__ import annotations

from ..core.weights import block_weights
from . import facts
from .core import exercise, read_bool, read_int, read_shape

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
          "a whole number", "64",
          solve=lambda: str(facts.traced()["mixed"].shape[-1]))
def walk_mixed_channels(answer: object) -> tuple[bool, str]:
    value = read_int(answer)
    tr = facts.traced()
    truth = tr["mixed"].shape[-1]
    widths = [tr[name].shape[-1] for name in BRANCH_ENDS]
    if value == truth:
        return True, (f"mixed concatenates the three branch outputs on the channel axis: "
                      f"{' + '.join(map(str, widths))} = {truth}.")
    if value == tr["net"].shape[-1]:
        return False, (f"{value} is the width of `net` (and of `up`); `mixed` is the "
                       "concatenation before the 1x1 projection. Add up the branch widths.")
    return False, (f"{value} is not it. `mixed = tf.concat([tower_conv, tower_conv1_1, "
                   "tower_conv2_2], 3)`: add up the last-axis sizes of the three branches.")


@exercise("walk_up_shape", NOTEBOOK,
          "For an input `net` of shape (1, 35, 35, 256), what is the shape of `up`?",
          "a shape tuple", "(1, 35, 35, 96)",
          solve=lambda: str(facts.traced()["up"].shape))
def walk_up_shape(answer: object) -> tuple[bool, str]:
    value = read_shape(answer)
    tr = facts.traced()
    truth, mixed = tr["up"].shape, tr["mixed"].shape
    if value == truth:
        return True, (f"up has shape {truth}, the same as net {tr['net'].shape}: the 1x1 conv "
                      f"projects the {mixed[-1]} channels of mixed back to {truth[-1]}, so "
                      "that `net + scale * up` lines up element for element.")
    if value == mixed:
        return False, (f"{value} is the shape of `mixed`. `up` is the 1x1 convolution of "
                       "mixed to `net.get_shape()[3]` channels.")
    return False, (f"{value} is not it. Look at `net.get_shape()[3]` in the line that makes "
                   "`up`, or at trace['up'].shape.")


@exercise("walk_scale_is_weight", NOTEBOOK,
          "Is `scale` one of the block's weights (would training change it)?",
          "True or False", "True", solve=lambda: str(_scale_in_weights()[0]))
def walk_scale_is_weight(answer: object) -> tuple[bool, str]:
    value = read_bool(answer)
    held, params, slim = _scale_in_weights()
    if value == held:
        return True, (f"no weight holds the scale: count_params() = {params:,}, exactly the "
                      f"{slim:,} numbers of the slim variables (conv weights, BatchNorm beta "
                      "and statistics, the projection's biases). scale is a Python constant."
                      if not held else "a weight of the block holds the scale.")
    return False, (f"count_params() = {params:,} and the slim variables hold {slim:,} numbers. "
                   "Is there room for scale among them? Look for it in block.weights.")
