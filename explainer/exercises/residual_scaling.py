"""Exercises of ``03_residual_scaling``: the ratio on the slider, its linearity, scale 0."""

from __future__ import annotations

import numpy as np

from ..core.schedule import BLOCK35_SCALE
from . import facts
from .core import ANSWER, NUMBER, exercise, otherwise, when_close, when_equal

NOTEBOOK = "03_residual_scaling"
SLIDER_SCALE = 0.30  # the slider position the first question asks about
DOUBLED = 2 * BLOCK35_SCALE  # the block's scale, doubled


@exercise("scale_ratio", NOTEBOOK,
          f"Move the slider to scale {SLIDER_SCALE:.2f}. What is the residual ratio "
          "||scale*up|| / ||net|| there?",
          NUMBER, "0.5", solve=lambda: f"{facts.residual_ratio(SLIDER_SCALE):.4f}")
def scale_ratio():
    truth = facts.residual_ratio(SLIDER_SCALE)
    default = facts.residual_ratio(BLOCK35_SCALE)
    tr = facts.traced()
    unscaled = tr["up"].l2 / tr["net"].l2
    return [
        when_close(truth, True, f"a block built with scale {SLIDER_SCALE:.2f} gives "
                   f"{truth:.4f} (and {default:.4f} at {BLOCK35_SCALE:g}): the residual grows "
                   "in proportion to scale."),
        when_close(default, False, f"{ANSWER} is the ratio at {BLOCK35_SCALE:g}, where the "
                   "slider starts; move it first."),
        when_close(unscaled, False, f"{ANSWER} is the ratio at scale 1 (||up|| / ||net||)."),
        otherwise(False, f"{ANSWER} is not it. Read the ratio under the slider at "
                  f"{SLIDER_SCALE:.2f}, or compute explainer.scale_sweep(block, x, "
                  f"[{SLIDER_SCALE}]).residual_ratio."),
    ]


def _doubling() -> tuple[float, float, float]:
    """The residual ratio at the block's scale, at twice it, and their quotient."""
    low, high = facts.residual_ratio(BLOCK35_SCALE), facts.residual_ratio(DOUBLED)
    return low, high, high / low


@exercise("scale_ratio_double", NOTEBOOK,
          f"If you double the scale from {BLOCK35_SCALE:g} to {DOUBLED:g}, by what factor does "
          "the residual ratio ||scale*up|| / ||net|| grow?", NUMBER, "1.5",
          solve=lambda: f"{_doubling()[2]:.4f}")
def scale_ratio_double():
    low, high, truth = _doubling()
    return [
        when_close(truth, True, f"two real forwards give {high:.4f} / {low:.4f} = {truth:.4f}: "
                   "`up` does not depend on scale, and a norm is linear in a positive factor."),
        when_close(truth ** 2, False, f"{ANSWER} would be the growth of the squared norm (the "
                   "energy). The ratio of norms is linear in scale."),
        otherwise(False, f"{ANSWER} is not it. Does `up` change when scale changes? Then what "
                  "does ||2 * scale * up|| equal?"),
    ]


def _scale_zero() -> tuple[bool, float, float]:
    """(net_out == net exactly at scale 0?, min of net, max |net_out - net| at the block's
    own scale)."""
    zero = facts.traced("v1", 0.0)
    net, out = zero["net"].value, zero["net_out"].value
    at_own = facts.traced()["net_out"].value
    return bool(np.array_equal(out, net)), float(net.min()), float(np.abs(at_own - net).max())


@exercise("scale_zero_identity", NOTEBOOK,
          "At scale 0 (ReLU block, the notebook's input), is the block's output exactly equal "
          "to its input?", "True or False", "False", reader="bool",
          solve=lambda: str(_scale_zero()[0]))
def scale_zero_identity():
    equal, net_min, change = _scale_zero()
    reason = (f"at scale 0 the block adds 0 * up, and relu(net) = net because net >= 0 here "
              f"(min {net_min:g}: it is itself a ReLU output). At {BLOCK35_SCALE:g} the output "
              f"moves by up to {change:.3f}.")
    return [
        when_equal(equal, True, f"measured: equal = {equal}; {reason}"),
        otherwise(False, "measured otherwise. What is 0 * up, and what does ReLU do to a "
                  "non-negative input?"),
    ]
