"""Exercises of ``00_start_here``: the value of scale, what `*` does, how big the residual is."""

from __future__ import annotations

import re
from functools import cache

import numpy as np

from ..core.schedule import BLOCK35_SCALE
from ..core.weights import block_weights
from . import facts
from .core import ANSWER, NUMBER, exercise, otherwise, when_close, when_equal

NOTEBOOK = "00_start_here"

STAR_OPTIONS = {
    "a": "a matrix product of scale and up",
    "b": "every element of up is multiplied by the one number scale",
    "c": "the weights of Conv2d_1x1 are multiplied by scale, in place",
    "d": "scale copies of up are stacked together",
}


@cache  # measured once per process, when first asked
def _star_evidence() -> dict[str, tuple[bool, str]]:
    """Run each reading of `scale * up` on the real block and say whether it is what happens."""
    import tensorflow as tf

    from ..core.tracing import forward

    tr = facts.traced()
    scale, up, scaled_up = tr.spec.scale, tr["up"].value, tr["scaled_up"].value
    try:
        tf.linalg.matmul(tf.constant(scale), tf.constant(up))
        matmul = (False, "tf.linalg.matmul(scale, up) ran but is not what the block computes")
    except (tf.errors.InvalidArgumentError, ValueError) as err:
        text = re.sub(r"\{\{.*?\}\}\s*", "", str(err)).strip()  # drop TF's kernel tag
        first = text.splitlines()[0][:120] if text else type(err).__name__
        matmul = (False, f"a matrix product of a scalar and a tensor fails: {first}")
    same = bool(np.allclose(scale * up, scaled_up, rtol=1e-6, atol=1e-7))
    elementwise = (same, f"np.multiply({scale:g}, up) equals the block's scaled_up "
                         f"element for element ({up.size:,} elements)" if same else
                         "np.multiply(scale, up) does not equal the block's scaled_up")
    block = facts.block()
    before = block_weights(block)
    forward(block, facts.block_input("v1"))
    after = block_weights(block)
    unchanged = all(np.array_equal(before[k], after[k]) for k in before)
    weights = (not unchanged, "running the block leaves Conv2d_1x1/weights unchanged: `*` "
                              "makes a new tensor from the activations" if unchanged else
                              "running the block changed its weights")
    stacked = (scaled_up.shape != up.shape,
               f"scale * up has the same shape as up, {up.shape}: nothing is stacked")
    return {"a": matmul, "b": elementwise, "c": weights, "d": stacked}


def _solve_star() -> str:
    evidence = _star_evidence()
    right = [k for k, (holds, _) in evidence.items() if holds]
    if len(right) != 1:
        return f"the measurements single out {len(right)} options: {right}"
    return f"'{right[0]}': {STAR_OPTIONS[right[0]]}; {evidence[right[0]][1]}"


@exercise("start_scale", NOTEBOOK,
          "What number is `scale` in facenet's v1 block35 (the block the notebooks build)?",
          NUMBER, "0.5", solve=lambda: f"{facts.facenet_block35_scale():g}")
def start_scale():
    truth = facts.facenet_block35_scale()
    return [
        when_close(truth, True, f"scale = {truth:g}, a plain Python float passed to block35; "
                   "it is a constant of the block, not a trained weight."),
        when_close(1.0, False, "1.0 is the default of the snippet's `def block35(net, "
                   "scale=1.0, ...)`, but the network calls it with its own value; look at "
                   "explainer.build_block35().residual_spec.scale"),
        otherwise(False, f"{ANSWER} is not it. Build a block and read "
                  "explainer.build_block35().residual_spec.scale"),
    ]


@exercise("start_star", NOTEBOOK,
          "What does `*` do in `scale * up`? Answer 'a', 'b', 'c' or 'd': "
          + "; ".join(f"({k}) {v}" for k, v in STAR_OPTIONS.items()),
          "one of 'a', 'b', 'c', 'd'", "'a'", solve=_solve_star, reader="choice",
          options=tuple(STAR_OPTIONS))
def start_star():
    evidence = _star_evidence()
    return [when_equal(choice, holds, f"{STAR_OPTIONS[choice]}: {measured}." if holds else
                       f"({choice}) {STAR_OPTIONS[choice]}? Measured: {measured}.")
            for choice, (holds, measured) in evidence.items()]


@exercise("start_ratio", NOTEBOOK,
          "How big is the added residual next to the shortcut: ||scale*up|| / ||net|| for the "
          f"v1 block at scale {BLOCK35_SCALE:g} on the notebooks' input?",
          NUMBER, "0.5", solve=lambda: f"{facts.residual_ratio(BLOCK35_SCALE):.4f}")
def start_ratio():
    tr = facts.traced()
    truth = tr.residual_ratio
    unscaled = tr["up"].l2 / tr["net"].l2
    return [
        when_close(truth, True, f"||scale*up|| / ||net|| = {truth:.4f}: the residual adds "
                   f"about {100 * truth:.0f} % of the shortcut's size, where unscaled it would "
                   f"add {100 * unscaled:.0f} %."),
        when_close(unscaled, False, f"{ANSWER} is ||up|| / ||net||, the ratio at scale 1. The "
                   "block adds scale * up, so multiply by scale."),
        otherwise(False, f"{ANSWER} is not it. Trace the block (explainer.trace) and divide "
                  "trace['scaled_up'].l2 by trace['net'].l2, or read trace.residual_ratio."),
    ]
