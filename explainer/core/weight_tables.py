"""The block's weights as data: every tf-slim variable name with its shape, and seeded values.

numpy only (no TensorFlow): the numpy reference and the classroom apps use these directly.
"""

from __future__ import annotations

import numpy as np

from .block_tables import CONVS_BY_BLOCK, IN_CHANNELS_BY_BLOCK, check_block_kind, mixed_channels
from .spec import BN_EPSILON, UP_SCOPE
from .validate import check_positive_int, check_variant, shorten

BN_PARTS = ("beta", "moving_mean", "moving_variance")
# A separate random stream per block kind (block35's is the one the lessons were written with)
_STREAM = {"block35": 1935, "block17": 1917, "block8": 1908}


def weight_shapes(variant: str, block: str = "block35") -> dict[str, tuple[int, ...]]:
    """Every slim variable name of the block and its shape, in the snippet's order."""
    return _shapes(check_variant(variant), check_block_kind(block))


def _shapes(variant: str, block: str) -> dict[str, tuple[int, ...]]:
    """:func:`weight_shapes` of a checked variant and block kind (trusts its caller)."""
    cin = IN_CHANNELS_BY_BLOCK[block][variant]
    width = {"net": cin}
    shapes: dict[str, tuple[int, ...]] = {}
    for conv in CONVS_BY_BLOCK[block][variant]:
        shapes[f"{conv.scope}/weights"] = (*conv.kernel, width[conv.source], conv.filters)
        for part in BN_PARTS:
            shapes[f"{conv.scope}/BatchNorm/{part}"] = (conv.filters,)
        width[conv.name] = conv.filters
    shapes[f"{UP_SCOPE}/weights"] = (1, 1, mixed_channels(variant, block), cin)
    shapes[f"{UP_SCOPE}/biases"] = (cin,)
    return shapes


def seeded_weights(variant: str, seed: int = 0, block: str = "block35") -> dict[str, np.ndarray]:
    """Deterministic weights for a block: slim's Xavier-uniform kernels, and BatchNorm
    statistics and biases that are not the initial 0 / 1 (as a trained block's are not),
    so a port that mixes up beta, moving mean and moving variance gives a different output.
    """
    return _seeded_weights(check_variant(variant), check_positive_int("seed", seed, minimum=0),
                           check_block_kind(block))


def _seeded_weights(variant: str, seed: int, block: str) -> dict[str, np.ndarray]:
    """:func:`seeded_weights` of a checked variant, seed and block kind (trusts its caller:
    the block builders, the slim runner and the stage profile check these once, at their own
    entry; the numpy references of the backend check and the frameworks pass constants)."""
    rng = np.random.default_rng([seed, _STREAM[block]])
    weights = {}
    for name, shape in _shapes(variant, block).items():
        if name.endswith("/weights"):
            fan_in = shape[0] * shape[1] * shape[2]
            fan_out = shape[0] * shape[1] * shape[3]
            limit = np.sqrt(6.0 / (fan_in + fan_out))  # xavier_initializer(uniform=True)
            value = rng.uniform(-limit, limit, size=shape)
        elif name.endswith("/beta") or name.endswith("/biases"):
            value = rng.normal(0.0, 0.1, size=shape)
        elif name.endswith("/moving_mean"):
            value = rng.normal(0.0, 0.2, size=shape)
        else:  # moving_variance: positive, around 1
            value = rng.uniform(0.5, 2.0, size=shape)
        weights[name] = value.astype(np.float32)
    return weights


def check_weights(weights: object, variant: str, block: str = "block35") -> dict[str, np.ndarray]:
    """``weights`` checked against :func:`weight_shapes` and returned as float32 arrays.

    Exactly the slim names, each a finite real array of its shape, variances above -epsilon.
    The first problem is a TypeError / ValueError that names the entry; nothing is changed.
    ``variant`` and ``block`` come checked (a block's spec, or the caller's own check).
    """
    expected = _shapes(variant, block)
    if not isinstance(weights, dict):
        raise TypeError(f"weights: got {type(weights).__name__}; expected a dict of slim "
                        "variable names to arrays, as block_weights() returns")
    names = set(weights)
    missing = sorted(set(expected) - names)
    extra = sorted((shorten(n) for n in names - set(expected)), key=str)
    if missing or extra:
        raise ValueError(f"weights: missing {missing}, unexpected [{', '.join(extra)}]; "
                         "expected exactly "
                         f"the names of weight_shapes({variant!r}, {block!r})")
    checked = {}
    for name, shape in expected.items():
        given = weights[name]
        try:
            value = np.asarray(given)
        except Exception as err:  # ragged lists and the like: numpy's own words, named
            raise TypeError(f"weights[{name!r}]: got {shorten(given)}, which is not an array "
                            f"({err}); expected a float array of shape {shape}") from None
        if value.dtype == object or not (np.issubdtype(value.dtype, np.floating)
                                         or np.issubdtype(value.dtype, np.integer)):
            raise TypeError(f"weights[{name!r}]: got dtype {value.dtype} ({shorten(given)}); "
                            f"expected a float array of shape {shape}")
        if value.shape != shape:
            raise ValueError(f"weights[{name!r}]: got shape {value.shape}; expected {shape}")
        with np.errstate(over="ignore"):
            value = value.astype(np.float32)
        if not np.all(np.isfinite(value)):
            raise ValueError(f"weights[{name!r}]: got non-finite values (NaN, inf, or beyond "
                             "float32's range); expected finite numbers")
        if name.endswith("moving_variance") and np.any(value + BN_EPSILON <= 0):
            raise ValueError(f"weights[{name!r}]: got a variance <= -epsilon; expected >= 0")
        checked[name] = value
    return checked
