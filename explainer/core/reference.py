"""A plain numpy block35: the oracle the TensorFlow block is tested against.

Convolution is written out (zero padding, a sliding window, one ``einsum``) and everything is
computed in float64, so an agreement to 1e-4 says the Keras layers do what the slim code says.
"""

from __future__ import annotations

import numpy as np

from .schedule import BLOCK35_SCALE
from .spec import BN_EPSILON, CONVS, IN_CHANNELS, MIXED_FROM, UP_SCOPE
from .validate import check_activation, check_block_input, check_scale, check_variant


def conv2d_same(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Stride-1 'SAME' convolution of NHWC ``x`` with an HWIO ``kernel`` (odd size)."""
    k = kernel.shape[0]
    pad = k // 2
    padded = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    # windows: (N, H, W, C, kh, kw); each output pixel sums its window against the kernel.
    windows = np.lib.stride_tricks.sliding_window_view(padded, (k, k), axis=(1, 2))
    out = np.einsum("nhwcij,ijco->nhwo", windows, kernel, optimize=True)
    return out if bias is None else out + bias


def batch_norm(x: np.ndarray, beta, mean, variance, epsilon: float = BN_EPSILON) -> np.ndarray:
    """Inference BatchNorm without gamma, as slim's default: (x - mean) / sqrt(var + eps) + beta."""
    return (x - mean) / np.sqrt(variance + epsilon) + beta


def block35_forward(x, weights: dict, variant: str = "v1", scale: float = BLOCK35_SCALE,
                    activation: str | None = "relu", intermediates: bool = False):
    """block35 in numpy (float64). Returns ``net_out``, or with ``intermediates=True`` a dict of
    every named tensor (the names of :data:`explainer.trace.TRACE_NAMES`)."""
    variant = check_variant(variant)
    scale = check_scale(scale)
    activation = check_activation(activation)
    w = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    out = {"net": check_block_input(x, IN_CHANNELS[variant]).astype(np.float64)}
    for conv in CONVS[variant]:
        s = conv.scope
        y = conv2d_same(out[conv.source], w[f"{s}/weights"])
        y = batch_norm(y, w[f"{s}/BatchNorm/beta"], w[f"{s}/BatchNorm/moving_mean"],
                       w[f"{s}/BatchNorm/moving_variance"])
        out[conv.name] = np.maximum(y, 0.0)
    out["mixed"] = np.concatenate([out[n] for n in MIXED_FROM], axis=3)
    out["up"] = conv2d_same(out["mixed"], w[f"{UP_SCOPE}/weights"], w[f"{UP_SCOPE}/biases"])
    scaled = scale * out["up"]
    if activation == "relu6":
        scaled = np.clip(scaled, -6.0, 6.0)
    out["scaled_up"] = scaled
    out["net_sum"] = out["net"] + scaled
    act = {"relu": lambda v: np.maximum(v, 0.0), "relu6": lambda v: np.clip(v, 0.0, 6.0),
           None: lambda v: v}[activation]
    out["net_out"] = act(out["net_sum"])
    return out if intermediates else out["net_out"]
