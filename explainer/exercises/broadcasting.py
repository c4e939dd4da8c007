"""Exercises of ``04_broadcasting``: a per-channel scale, a per-sample scale, a silent mistake."""

from __future__ import annotations

import numpy as np

from ..broadcasting.shapes import NUMPY_BROADCAST_RANK, broadcast_shapes
from .core import exercise, read_bool, read_shape

NOTEBOOK = "04_broadcasting"
UP_SHAPE = (2, 35, 35, 256)
PER_CHANNEL = (256,)
BIG_BATCH = (256, 35, 35, 256)  # N happens to equal C


def _result_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...] | None, str]:
    """The broadcast shape by numpy and by TensorFlow (they must agree), or the error text."""
    import tensorflow as tf

    try:
        by_numpy = (tuple(int(d) for d in np.broadcast_shapes(a, b))
                    if max(len(a), len(b)) <= NUMPY_BROADCAST_RANK
                    else broadcast_shapes(a, b))  # numpy's function stops at 32 dimensions
    except ValueError as err:
        return None, str(err)
    by_tf = tuple(tf.broadcast_static_shape(tf.TensorShape(a), tf.TensorShape(b)).as_list())
    if by_tf != by_numpy:
        raise RuntimeError(f"numpy says {by_numpy} and TensorFlow {by_tf} for {a} and {b}")
    return by_numpy, ""


@exercise("broadcast_per_channel", NOTEBOOK,
          f"`up` has shape {UP_SHAPE}. What is the shape of `scale * up` when scale is a "
          f"per-channel vector of shape {PER_CHANNEL} (LayerScale)?",
          "a shape tuple", "(2, 35, 35)",
          solve=lambda: str(_result_shape(UP_SHAPE, PER_CHANNEL)[0]))
def broadcast_per_channel(answer: object) -> tuple[bool, str]:
    value = read_shape(answer)
    truth, _ = _result_shape(UP_SHAPE, PER_CHANNEL)
    if value == truth:
        return True, (f"numpy and TensorFlow agree on {truth}: shapes are aligned from the "
                      "right, so (256,) meets the channel axis and is stretched over N, H, W.")
    return False, (f"{value} is not it. Write both shapes right-aligned, one axis under the "
                   "other, and apply the rule axis by axis (explainer.explain_broadcast).")


@exercise("broadcast_per_sample", NOTEBOOK,
          f"Give the shape of a per-sample scale (one number per image, as drop-path uses) that "
          f"multiplies `up` of shape {UP_SHAPE}.", "a shape tuple", "(2,)",
          solve=lambda: str((UP_SHAPE[0],) + (1,) * (len(UP_SHAPE) - 1)))
def broadcast_per_sample(answer: object) -> tuple[bool, str]:
    value = read_shape(answer)
    result, error = _result_shape(UP_SHAPE, value)
    if result is None:
        return False, f"numpy refuses it: {error}"
    if result != UP_SHAPE:
        return False, (f"it broadcasts, but to {result}, not {UP_SHAPE}: the product would not "
                       "have up's shape any more.")
    scale = np.arange(1, int(np.prod(value)) + 1, dtype=np.float32).reshape(value)
    product = scale * np.ones(UP_SHAPE, np.float32)
    per_image = [np.unique(product[i]).size == 1 for i in range(UP_SHAPE[0])]
    differ = np.unique(product[:, 0, 0, 0]).size == UP_SHAPE[0]
    if all(per_image) and differ:
        return True, (f"{value} gives {result}: each image gets its own number, the same for "
                      "all its positions and channels.")
    if not differ:
        return False, (f"{value} broadcasts to {result}, but every image gets the same numbers: "
                       "the scale does not vary along the batch axis N.")
    return False, (f"{value} broadcasts to {result}, but the scale varies inside an image (over "
                   "H, W or C), so it is not one number per image.")


@exercise("broadcast_silent_mistake", NOTEBOOK,
          f"With a batch of {BIG_BATCH[0]} images, `up` has shape {BIG_BATCH}. Does a per-sample "
          f"scale wrongly shaped (N,) = ({BIG_BATCH[0]},) raise an error?",
          "True or False", "True",
          solve=lambda: str(_result_shape(BIG_BATCH, (BIG_BATCH[0],))[0] is None))
def broadcast_silent_mistake(answer: object) -> tuple[bool, str]:
    value = read_bool(answer)
    result, error = _result_shape(BIG_BATCH, (BIG_BATCH[0],))
    raises = result is None
    if value == raises:
        if raises:
            return True, f"numpy and TensorFlow refuse it: {error}"
        return True, (f"it broadcasts to {result} without complaint: ({BIG_BATCH[0]},) is "
                      f"right-aligned with C, which is also {BIG_BATCH[-1]}, so it scales "
                      "channels, not images. Only (N, 1, 1, 1) puts the scale on N.")
    return False, ("measured otherwise. Right-align the two shapes: which axis of up does "
                   f"({BIG_BATCH[0]},) meet, and what size does that axis have?")
