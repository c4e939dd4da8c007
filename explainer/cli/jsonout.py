"""Strict JSON for ``--json``: no NaN or Infinity tokens, which most JSON parsers refuse.

A value that is undefined (NaN) or not finite is written as ``null``; numpy scalars and
arrays become plain numbers and lists.
"""

from __future__ import annotations

import json
import math

import numpy as np


def plain(value: object) -> object:
    """``value`` with numpy types made plain and non-finite floats made None."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def dumps(doc: object) -> str:
    """The document as strict JSON (``allow_nan=False`` holds: nothing non-finite is left)."""
    return json.dumps(plain(doc), indent=2, allow_nan=False)
