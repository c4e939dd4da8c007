"""Plain numpy block35, block17 and block8: the oracle the TensorFlow blocks are tested against.

Convolution is written out (zero padding, a sliding window, one ``einsum``) and everything is
computed in float64, so an agreement to 1e-4 says the Keras layers do what the slim code says.
"""

from __future__ import annotations

import numpy as np

from .block_tables import (
    CONVS_BY_BLOCK,
    IN_CHANNELS_BY_BLOCK,
    MIXED_FROM_BY_BLOCK,
    check_block_kind,
)
from .inputs import check_block_input
from .schedule import REAL_SCALES
from .spec import BN_EPSILON, UP_SCOPE
from .validate import check_activation, check_scale, check_variant


def conv2d_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Stride-1 'SAME' convolution of NHWC ``x`` with an HWIO ``kernel`` of odd height and
    width (3x3, 1x7, 7x1 ...): each side padded by half the kernel along it."""
    kh, kw = kernel.shape[:2]
    padded = np.pad(x, ((0, 0), (kh // 2, kh // 2), (kw // 2, kw // 2), (0, 0)))
    # windows: (N, H, W, C, kh, kw); each output pixel sums its window against the kernel.
    windows = np.lib.stride_tricks.sliding_window_view(padded, (kh, kw), axis=(1, 2))
    out = np.einsum("nhwcij,ijco->nhwo", windows, kernel, optimize=True)
    return out if bias is None else out + bias


def batch_norm(x: np.ndarray, beta, mean, variance, epsilon: float = BN_EPSILON) -> np.ndarray:
    """Inference BatchNorm without gamma, as slim's default: (x - mean) / sqrt(var + eps) + beta."""
    return (x - mean) / np.sqrt(variance + epsilon) + beta


def tail(net: np.ndarray, up: np.ndarray, scale: float, activation: str | None,
         parts: bool = False):
    """The block's last line, ``net = activation(net + scale * up)``, in numpy: the one numpy
    copy (the numpy block, the sweeps, the exact form and the exercises call it; the Keras
    block has its own, :func:`.blocks.residual_tail`).

    relu6 first clips ``scale * up`` to [-6, 6], as tf-models' code does. The arithmetic stays
    in ``up``'s dtype (float32 ``up``: ``float32(scale) * up``, as the Keras layers do;
    float64 for the reference block). Returns ``net_out``, or with ``parts=True`` the dict
    ``{"scaled_up", "net_sum", "net_out"}``. Trusts its caller: ``scale`` and ``activation``
    come checked (``check_scale``, ``check_activation``) and the shapes broadcast.
    """
    up = np.asarray(up)
    scaled = up.dtype.type(scale) * up if up.dtype.kind == "f" else scale * up
    if activation == "relu6":
        scaled = np.clip(scaled, -6.0, 6.0)
    net_sum = net + scaled
    if activation == "relu":
        net_out = np.maximum(net_sum, 0.0)
    elif activation == "relu6":
        net_out = np.clip(net_sum, 0.0, 6.0)
    else:
        net_out = net_sum
    return {"scaled_up": scaled, "net_sum": net_sum, "net_out": net_out} if parts else net_out


def block_forward(x, weights: dict, variant: str = "v1", scale: float | None = None,
                  activation: str | None = "relu", intermediates: bool = False,
                  block: str = "block35"):
    """A block35 (or ``block="block17"`` / ``"block8"``) in numpy (float64). Returns
    ``net_out``, or with ``intermediates=True`` a dict of every named tensor (the names of
    :data:`~explainer.core.block_tables.TRACE_NAMES_BY_BLOCK`). ``scale=None``: the block's
    own in the real nets (block35 0.17, block17 0.1, block8 0.2)."""
    variant, block = check_variant(variant), check_block_kind(block)
    scale = REAL_SCALES[block] if scale is None else scale
    x = check_block_input(x, IN_CHANNELS_BY_BLOCK[block][variant])
    out = _block_forward(x, weights, variant, check_scale(scale), check_activation(activation),
                         block)
    return out if intermediates else out["net_out"]


def _block_forward(x: np.ndarray, weights: dict, variant: str, scale: float,
                   activation: str | None, block: str = "block35") -> dict[str, np.ndarray]:
    """:func:`block_forward` with every intermediate, of arguments already checked (the
    lesson's own input and weights, say): it trusts its caller."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    out = {"net": np.asarray(x, dtype=np.float64)}
    for conv in CONVS_BY_BLOCK[block][variant]:
        s = conv.scope
        y = conv2d_same(out[conv.source], w[f"{s}/weights"])
        y = batch_norm(y, w[f"{s}/BatchNorm/beta"], w[f"{s}/BatchNorm/moving_mean"],
                       w[f"{s}/BatchNorm/moving_variance"])
        out[conv.name] = np.maximum(y, 0.0)
    out["mixed"] = np.concatenate([out[n] for n in MIXED_FROM_BY_BLOCK[block]], axis=3)
    out["up"] = conv2d_same(out["mixed"], w[f"{UP_SCOPE}/weights"], w[f"{UP_SCOPE}/biases"])
    out.update(tail(out["net"], out["up"], scale, activation, parts=True))
    return out
