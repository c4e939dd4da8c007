"""The result dtype of ``scale * up`` (or the real error) for each kind of scale.

``up`` is float32; the scale is a Python, numpy or TensorFlow number. TensorFlow converts a
Python or numpy scalar to ``up``'s dtype, refuses a TF tensor of another dtype, and numpy
(NEP 50) promotes to float64 for a float64 numpy scalar. Each cell is measured here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..core.schedule import BLOCK35_SCALE
from ..core.validate import check_items, check_scale, error_text


def scale_examples(value: float = BLOCK35_SCALE) -> dict[str, object]:
    """The scale objects the lessons compare, by label (Python, numpy and TF kinds)."""
    return {"Python float": float(value), "Python int": 2,
            "numpy float64": np.float64(value), "numpy float32": np.float32(value),
            "numpy 0-d float64 array": np.array(value), "numpy 0-d float32 array":
            np.array(value, dtype=np.float32), "TF float64 constant": tf.constant(value,
                                                                                   tf.float64),
            "TF float32 constant": tf.constant(value, tf.float32),
            "TF int32 constant": tf.constant(2, tf.int32)}


@dataclass
class DtypeRow:
    """One scale kind times a float32 ``up``, in TensorFlow and in numpy."""

    scale: str
    tf_result: str  # result dtype, or the real error text
    numpy_result: str
    tf_ok: bool


def _dtype_or_error(fn: Callable) -> tuple[str, bool]:
    try:
        dtype = fn().dtype
    except Exception as err:  # noqa: BLE001 - the error text is the finding
        return error_text(err), False
    return getattr(dtype, "name", str(dtype)), True


def dtype_table(value: float = BLOCK35_SCALE) -> list[DtypeRow]:
    """Result dtype (or the real error) of ``scale * up`` for each kind of scale, with ``up`` a
    float32 ``tf.Tensor`` and, for comparison, a float32 numpy array."""
    check_scale(value, "value")
    up_tf = tf.ones((2, 3), tf.float32)
    up_np = np.ones((2, 3), np.float32)
    rows = []
    for label, scale in scale_examples(value).items():
        tf_text, ok = _dtype_or_error(lambda s=scale: s * up_tf)
        np_scale = scale.numpy() if isinstance(scale, tf.Tensor) else scale
        np_text, _ = _dtype_or_error(lambda s=np_scale: s * up_np)
        if isinstance(scale, tf.Tensor):
            np_text += " (as .numpy())"
        rows.append(DtypeRow(label, tf_text, np_text, ok))
    return rows


def format_dtype_table(rows: list[DtypeRow]) -> str:
    """The dtype table as aligned text; an error's full text goes on the line below its row."""
    rows = check_items("rows", rows, DtypeRow, "dtype_table()")
    lines = [f"{'scale':<26}{'* tf float32 up':<30}* numpy float32 up"]
    for r in rows:
        shown = r.tf_result if r.tf_ok else r.tf_result.split(":", 1)[0] + " (below)"
        lines.append(f"{r.scale:<26}{shown:<30}{r.numpy_result}")
        if not r.tf_ok:
            lines.append(f"    {r.tf_result}")
    return "\n".join(lines)
