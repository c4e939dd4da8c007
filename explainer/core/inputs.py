"""The block's input checked: a finite float array of the block's width, within the budget.

Apart from :mod:`.validate` because it needs the memory budget, and :mod:`.budget` (through
the block tables) needs :mod:`.validate`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .budget import _within_budget
from .validate import shorten


def _as_numpy(x: object, name: str, in_channels: int) -> object:
    """A tensor's values as numpy (tf.Tensor, torch.Tensor ...), or a sentence saying why not."""
    if isinstance(x, np.ndarray) or not hasattr(x, "numpy"):
        return x
    try:
        return x.numpy()
    except Exception as err:  # e.g. torch: requires_grad, bfloat16, a CUDA tensor
        dtype = getattr(x, "dtype", "?")
        raise TypeError(f"{name}: got a {type(x).__name__} of dtype {dtype} whose .numpy() "
                        f"failed ({shorten(str(err), 120)}); expected a float array of shape "
                        f"(N, H, W, {in_channels}), e.g. x.detach().cpu().float().numpy() "
                        "for a torch tensor") from None


def check_block_input(x: object, in_channels: int, name: str = "x",
                      budget: Callable[[tuple[int, ...]], None] | None = None) -> np.ndarray:
    """A finite float array of shape (N, H, W, in_channels), N, H, W >= 1, as float32.

    Accepts numpy arrays and anything with ``.numpy()`` (a ``tf.Tensor``, a torch tensor).
    NaN, inf and values beyond float32's range are refused: every measurement downstream would
    be NaN without saying why. ``budget(shape)`` (e.g. the caller's memory check) runs on the
    shape alone, before any value is read or copied: a zero-stride view of 10**10 elements is
    refused at once, not by a ``MemoryError``; without it, the input's own copies are checked.
    """
    x = _as_numpy(x, name, in_channels)
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
    if budget is None:
        _within_budget(x.size * 9, f"{name} of shape {x.shape}",  # a float32 copy, a scan
                       "checking the input")
    else:
        budget(tuple(x.shape))
    with np.errstate(over="ignore"):
        x32 = np.asarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x32)):
        bad = int(np.size(x32) - np.count_nonzero(np.isfinite(x32)))
        raise ValueError(f"{name}: got {bad:,} values that are NaN, inf or beyond float32's "
                         "range; expected finite numbers")
    return x32
