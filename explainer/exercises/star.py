"""Exercises of ``01_what_does_star_do``: the graph op, the gradient, and what `+=` does."""

from __future__ import annotations

from functools import cache

import numpy as np

from . import facts
from .core import ANSWER, NUMBER, exercise, otherwise, when_close, when_contains, when_equal

NOTEBOOK = "01_what_does_star_do"
PLUMBING = {"Placeholder", "Identity", "NoOp", "Const", "ReadVariableOp"}


@cache  # measured once per process, when first asked
def _graph_ops() -> list[str]:
    """The computing ops of a traced ``scale * up`` (float scale, float32 up)."""
    import tensorflow as tf

    fn = tf.function(lambda up: 0.17 * up)
    graph = fn.get_concrete_function(tf.TensorSpec([1, 35, 35, 256], tf.float32)).graph
    return [op.type for op in graph.get_operations() if op.type not in PLUMBING]


@cache  # measured once per process, when first asked
def _gradient_values() -> np.ndarray:
    """The distinct values of d(sum(net_out)) / d(up) for the real v1 block, via GradientTape."""
    import tensorflow as tf

    from ..core.blocks import residual_tail

    tr = facts.traced()
    net, up = tf.constant(tr["net"].value), tf.constant(tr["up"].value)
    with tf.GradientTape() as tape:
        tape.watch(up)
        _, net_out = residual_tail(net, up, tr.spec.scale, "relu")  # the block's own tail
        total = tf.reduce_sum(net_out)
    return np.unique(tape.gradient(total, up).numpy())


@cache  # measured once per process, when first asked
def _alias_after_plus_equals() -> tuple[bool, bool, bool]:
    """Run ``alias = net; net += scale * up`` with TF tensors and numpy arrays.

    Returns (TF alias changed, numpy alias changed, tf.Tensor defines __iadd__).
    """
    import tensorflow as tf

    tr = facts.traced()
    start, up = tr["net"].value[:, :4, :4, :8], tr["up"].value[:, :4, :4, :8]
    net = tf.constant(start)
    alias = net
    net += 0.17 * tf.constant(up)
    tf_changed = not np.array_equal(alias.numpy(), start)
    arr = start.copy()
    np_alias = arr
    arr += np.float32(0.17) * up
    np_changed = not np.array_equal(np_alias, start)
    return tf_changed, np_changed, hasattr(type(net), "__iadd__")


@exercise("star_graph_op", NOTEBOOK,
          "Which TensorFlow graph op does `scale * up` add to a tf.function graph? "
          "(its op type, a string such as 'MatMul')",
          "an op type (string)", "'MatMul'", reader="text", solve=lambda: ", ".join(_graph_ops()))
def star_graph_op():
    ops = _graph_ops()
    right = [when_equal(ops[0], True, f"tracing `0.17 * up` gives exactly one computing op, "
                        f"{ops[0]!r}: element-wise multiplication with the scalar broadcast.")]
    return (right if len(ops) == 1 else []) + [
        when_contains("multiply", False, f"{ANSWER} is the Python function that runs; the "
                      "graph records an op with a shorter type name. List them with "
                      "explainer.graph_ops."),
        otherwise(False, f"'{ANSWER}' is not in the traced graph. Trace `lambda up: 0.17 * up` "
                  "with tf.function and list graph.get_operations() (or explainer.graph_ops)."),
    ]


@exercise("star_gradient", NOTEBOOK,
          "In `net_out = relu(net + scale * up)`, what is d(sum of net_out) / d(up) at a unit "
          "whose ReLU is on?", NUMBER, "1.0",
          solve=lambda: f"{max(_gradient_values()):g}")
def star_gradient():
    grads = _gradient_values()
    on = float(grads.max())
    return [
        when_close(on, True, f"GradientTape gives {on:g} where the ReLU is on and 0 where it "
                   f"is off (the only values: {sorted(float(g) for g in grads)}): the gradient "
                   "reaching `up` is scaled by the same constant as the forward pass."),
        when_close(1.0, False, "1 is the gradient through the shortcut, d/d(net). `up` is "
                   "multiplied by scale on the way in, so its gradient is multiplied too."),
        when_equal(0.0, False, "0 is right only where the ReLU is off; the question asks where "
                   "it is on."),
        otherwise(False, f"{ANSWER} is not it. Apply the chain rule to net + scale * up, or ask "
                  "tf.GradientTape (explainer.scale_gradient)."),
    ]


@exercise("star_inplace", NOTEBOOK,
          "With TensorFlow tensors, after `alias = net` and then `net += scale * up`, has the "
          "tensor that `alias` names changed?",
          "True or False", "True", reader="bool", solve=lambda: str(_alias_after_plus_equals()[0]))
def star_inplace():
    tf_changed, np_changed, has_iadd = _alias_after_plus_equals()
    iadd = "defines __iadd__" if has_iadd else "has no __iadd__"
    wrong = ("not what TensorFlow does.{numpy_like} tf.Tensor " + iadd + ": what does Python "
             "do with `+=` then? Try it: alias = net; net += 0.17 * up; alias is net")
    numpy_like = f" Your answer is numpy's behaviour (alias changed = {np_changed})."
    return [
        when_equal(tf_changed, True, f"measured: alias changed = {tf_changed}. tf.Tensor "
                   f"{iadd}, so Python computes net + scale * up as a new tensor and rebinds "
                   "the name `net`. (With numpy arrays `+=` works in place: alias changed = "
                   f"{np_changed}.)"),
        when_equal(np_changed, False, wrong.replace("{numpy_like}", numpy_like)),
        otherwise(False, wrong.replace("{numpy_like}", "")),
    ]
