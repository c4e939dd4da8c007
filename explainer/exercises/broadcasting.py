"""Exercises of ``04_broadcasting``: a per-channel scale, a per-sample scale, the result dtype."""

from __future__ import annotations

import numpy as np

from .core import exercise, read_shape, read_text

NOTEBOOK = "04_broadcasting"
UP_SHAPE = (2, 35, 35, 256)
PER_CHANNEL = (256,)


def _result_shape(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[tuple[int, ...] | None, str]:
    """The broadcast shape by numpy and by TensorFlow (they must agree), or the error text."""
    import tensorflow as tf

    try:
        by_numpy = tuple(int(d) for d in np.broadcast_shapes(a, b))
    except ValueError as err:
        return None, str(err)
    by_tf = tuple(tf.broadcast_static_shape(tf.TensorShape(a), tf.TensorShape(b)).as_list())
    if by_tf != by_numpy:
        raise RuntimeError(f"numpy says {by_numpy} and TensorFlow {by_tf} for {a} and {b}")
    return by_numpy, ""


def _python_scalar_dtype() -> str:
    import tensorflow as tf

    return (0.17 * tf.ones((2, 2), tf.float32)).dtype.name


@exercise("broadcast_per_channel", NOTEBOOK,
          f"`up` has shape {UP_SHAPE}. What is the shape of `scale * up` when scale is a "
          f"per-channel vector of shape {PER_CHANNEL} (LayerScale)?",
          "a shape tuple", "(2, 35, 35)",
          solve=lambda: str(_result_shape(UP_SHAPE, PER_CHANNEL)[0]))
def broadcast_per_channel(answer: object) -> tuple[bool, str]:
    value = read_shape(answer, "(2, 35, 35, 256)")
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
    value = read_shape(answer, "(2, 1, 1, 1)")
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


@exercise("broadcast_python_dtype", NOTEBOOK,
          "`up` is a float32 tensor. What is the dtype of `0.17 * up`? (a string such as "
          "'float64')", "a dtype name (string)", "'float64'", solve=_python_scalar_dtype)
def broadcast_python_dtype(answer: object) -> tuple[bool, str]:
    text = read_text(answer, "'float32'").lower().removeprefix("tf.").removeprefix("np.")
    truth = _python_scalar_dtype()
    if text == truth:
        return True, (f"TensorFlow gives {truth}: a Python float has no dtype of its own, so "
                      "it is converted to the tensor's dtype.")
    if text == "float64":
        return False, ("a Python float is 64-bit in Python, but TensorFlow converts it to the "
                       "other operand's dtype. (A float64 TF tensor, by contrast, is refused: "
                       "see the dtype table.)")
    return False, f"{text!r} is not it. Run `(0.17 * up).dtype` on a float32 tensor."
