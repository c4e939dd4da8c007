"""Argument checks shared by the engine modules.

Each check raises a ``ValueError`` or ``TypeError`` whose message names the argument, what was
given and what is expected, so that a learner who mistypes gets a sentence, not a stack of
TensorFlow internals. This module imports numpy only: the CLI uses it before TensorFlow loads.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np

VARIANTS = ("v1", "v2")
ACTIVATIONS = ("relu", "relu6", None)
DEVICES = ("auto", "cpu", "gpu")


def shorten(value: object, limit: int = 60) -> str:
    """``repr(value)``, cut to about ``limit`` characters: an error never echoes a huge input."""
    try:
        text = repr(value)
    except Exception:  # a broken __repr__ must not hide the real error
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else f"{text[:limit - 15]}... ({len(text):,} chars)"


def given(value: object) -> str:
    """How an error message shows what it was given: shortened repr and type."""
    return f"{shorten(value)} ({type(value).__name__})"


def error_text(err: BaseException) -> str:
    """An exception as one line: its type and message."""
    return f"{type(err).__name__}: {err}"


def check_choice(name: str, value: object, choices: tuple) -> object:
    """Return ``value`` if it is one of ``choices``; otherwise a ValueError naming ``name``."""
    if isinstance(value, str) or value is None:
        key = value.lower() if isinstance(value, str) else None
        if key == "none":
            key = None
        if key in choices:
            return key
    shown = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name}: got {given(value)}; expected one of {shown}")


def check_variant(variant: object) -> str:
    """'v1' (facenet Inception-ResNet-v1) or 'v2' (tf-slim / keras.applications v2)."""
    return check_choice("variant", variant, VARIANTS)  # type: ignore[return-value]


def check_activation(activation: object) -> str | None:
    """'relu', 'relu6' or None (no activation after the add)."""
    return check_choice("activation", activation, ACTIVATIONS)  # type: ignore[return-value]


def check_device(device: object) -> str:
    """'auto', 'cpu' or 'gpu'."""
    return check_choice("device", device, DEVICES)  # type: ignore[return-value]


def check_scale(scale: object, name: str = "scale", example: str = "0.17") -> float:
    """A finite real number (Python or numpy scalar, or a 0-d array); returns a Python float."""
    if isinstance(scale, np.ndarray) and scale.ndim == 0:
        scale = scale.item()
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real):
        raise TypeError(f"{name}: got {given(scale)}; expected a real number such as {example}")
    value = float(scale)
    if not math.isfinite(value):
        raise ValueError(f"{name}: got {value!r}; expected a finite number such as {example}")
    return value


def check_scales(scales: object, name: str = "scales") -> np.ndarray:
    """A non-empty sequence of finite scales, returned as a float64 array."""
    if isinstance(scales, (str, bytes)) or not isinstance(scales, (Iterable, np.ndarray)):
        raise TypeError(f"{name}: got {given(scales)}; "
                        "expected a list of numbers like [0, 0.17, 1]")
    # iterate the items themselves: np.ravel of a mixed list would turn 0.1 into '0.1'
    items = np.ravel(scales).tolist() if isinstance(scales, np.ndarray) else list(scales)
    values = [check_scale(s, name=f"{name}[{i}]") for i, s in enumerate(items)]
    if not values:
        raise ValueError(f"{name}: got an empty list; expected at least one scale")
    return np.asarray(values, dtype=np.float64)


def check_positive_int(name: str, value: object, minimum: int = 1) -> int:
    """A whole number >= ``minimum`` (bools refused)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: got {given(value)}; expected a whole number >= {minimum}")
    if int(value) < minimum:
        raise ValueError(f"{name}: got {int(value)}; expected a whole number >= {minimum}")
    return int(value)


def check_block_input(x: object, in_channels: int, name: str = "x") -> np.ndarray:
    """A float array of shape (N, H, W, in_channels) with N, H, W >= 1, as float32.

    Accepts numpy arrays and anything with ``.numpy()`` (a ``tf.Tensor``).
    """
    if hasattr(x, "numpy") and not isinstance(x, np.ndarray):
        x = x.numpy()
    if not isinstance(x, np.ndarray):
        raise TypeError(
            f"{name}: got {type(x).__name__}; expected a float array of shape "
            f"(N, H, W, {in_channels}) (numpy array or tf.Tensor)"
        )
    if x.ndim != 4:
        raise ValueError(
            f"{name}: got rank {x.ndim} with shape {x.shape}; expected rank 4, "
            f"(N, H, W, {in_channels}) in NHWC order"
        )
    if not np.issubdtype(x.dtype, np.floating):
        raise TypeError(f"{name}: got dtype {x.dtype}; expected a float dtype (float32)")
    if x.shape[3] != in_channels:
        raise ValueError(
            f"{name}: got {x.shape[3]} channels (shape {x.shape}); expected {in_channels} "
            f"channels, the block's input width"
        )
    if min(x.shape[:3]) < 1:
        raise ValueError(f"{name}: got shape {x.shape}; expected N, H and W of at least 1")
    return np.asarray(x, dtype=np.float32)
