"""Exercises of ``04_broadcasting``: a per-channel scale, a per-sample scale, a silent mistake."""

from __future__ import annotations

import numpy as np

from ..broadcasting.shapes import NUMPY_BROADCAST_RANK, broadcast_shapes
from .core import ANSWER, Rule, exercise, otherwise, when_equal

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
          "a shape tuple", "(2, 35, 35)", reader="shape",
          solve=lambda: str(_result_shape(UP_SHAPE, PER_CHANNEL)[0]))
def broadcast_per_channel():
    truth, _ = _result_shape(UP_SHAPE, PER_CHANNEL)
    return [
        when_equal(truth, True, f"numpy and TensorFlow agree on {truth}: shapes are aligned "
                   "from the right, so (256,) meets the channel axis and is stretched over N, "
                   "H, W."),
        otherwise(False, f"{ANSWER} is not it. Write both shapes right-aligned, one axis under "
                  "the other, and apply the rule axis by axis (explainer.explain_broadcast)."),
    ]


# The per-sample question's cases: which one an answer meets is computed from its shape (by
# numpy and TensorFlow here, by the same rule in the page); {answer}, {result} and {error}
# are the answer, the shape it broadcasts to and numpy's refusal.
PER_SAMPLE_WORDS = {
    "refused": "numpy refuses it: {error}",
    "elsewhere": ("it broadcasts, but to {result}, not " + str(UP_SHAPE) + ": the product "
                  "would not have up's shape any more."),
    "right": ("{answer} gives {result}: each image gets its own number, the same for all its "
              "positions and channels."),
    "same": ("{answer} broadcasts to {result}, but every image gets the same numbers: the "
             "scale does not vary along the batch axis N."),
    "inside": ("{answer} broadcasts to {result}, but the scale varies inside an image (over H, "
               "W or C), so it is not one number per image."),
}


def _per_sample_case(value: tuple[int, ...]) -> tuple[bool, str]:
    """Grade a per-sample scale's shape by multiplying a scale of that shape into ones of
    up's shape (numpy), after numpy and TensorFlow agree on the broadcast shape."""
    result, error = _result_shape(UP_SHAPE, value)
    words = {k: v.replace(ANSWER, str(value)).replace("{result}", str(result))
             for k, v in PER_SAMPLE_WORDS.items()}
    if result is None:
        return False, PER_SAMPLE_WORDS["refused"].replace("{error}", error)
    if result != UP_SHAPE:
        return False, words["elsewhere"]
    scale = np.arange(1, int(np.prod(value)) + 1, dtype=np.float32).reshape(value)
    product = scale * np.ones(UP_SHAPE, np.float32)
    per_image = [np.unique(product[i]).size == 1 for i in range(UP_SHAPE[0])]
    differ = np.unique(product[:, 0, 0, 0]).size == UP_SHAPE[0]
    if all(per_image) and differ:
        return True, words["right"]
    if not differ:
        return False, words["same"]
    return False, words["inside"]


@exercise("broadcast_per_sample", NOTEBOOK,
          f"Give the shape of a per-sample scale (one number per image, as drop-path uses) that "
          f"multiplies `up` of shape {UP_SHAPE}.", "a shape tuple", "(2,)", reader="shape",
          solve=lambda: str((UP_SHAPE[0],) + (1,) * (len(UP_SHAPE) - 1)))
def broadcast_per_sample():
    return [Rule("per_sample", UP_SHAPE, False, messages=PER_SAMPLE_WORDS,
                 judge=_per_sample_case)]


@exercise("broadcast_silent_mistake", NOTEBOOK,
          f"With a batch of {BIG_BATCH[0]} images, `up` has shape {BIG_BATCH}. Does a per-sample "
          f"scale wrongly shaped (N,) = ({BIG_BATCH[0]},) raise an error?",
          "True or False", "True", reader="bool",
          solve=lambda: str(_result_shape(BIG_BATCH, (BIG_BATCH[0],))[0] is None))
def broadcast_silent_mistake():
    result, error = _result_shape(BIG_BATCH, (BIG_BATCH[0],))
    raises = result is None
    return [
        when_equal(raises, True, f"numpy and TensorFlow refuse it: {error}" if raises else
                   f"it broadcasts to {result} without complaint: ({BIG_BATCH[0]},) is "
                   f"right-aligned with C, which is also {BIG_BATCH[-1]}, so it scales "
                   "channels, not images. Only (N, 1, 1, 1) puts the scale on N."),
        otherwise(False, "measured otherwise. Right-align the two shapes: which axis of up "
                  f"does ({BIG_BATCH[0]},) meet, and what size does that axis have?"),
    ]
