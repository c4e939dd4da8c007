"""Block weights by their tf-slim variable names, in and out of a Keras block.

Slim names each variable after its scope: ``Branch_1/Conv2d_0b_3x3/weights``,
``Branch_1/Conv2d_0b_3x3/BatchNorm/beta`` (and ``moving_mean``, ``moving_variance``; slim's
batch_norm has no gamma by default), and the projection's ``Conv2d_1x1/weights`` and
``Conv2d_1x1/biases``. The scale is not among them: it is a constant of the block.
"""

from __future__ import annotations

import numpy as np

from .blocks import (
    BN_EPSILON,
    CONVS,
    IN_CHANNELS,
    UP_SCOPE,
    Block35Spec,
    block_spec,
    keras_name,
    mixed_channels,
)
from .validate import check_positive_int, check_variant

BN_PARTS = ("beta", "moving_mean", "moving_variance")


def weight_shapes(variant: str) -> dict[str, tuple[int, ...]]:
    """Every slim variable name of the block and its shape, in the snippet's order."""
    variant = check_variant(variant)
    cin = IN_CHANNELS[variant]
    width = {"net": cin}
    shapes: dict[str, tuple[int, ...]] = {}
    for conv in CONVS[variant]:
        shapes[f"{conv.scope}/weights"] = (conv.kernel, conv.kernel, width[conv.source],
                                           conv.filters)
        for part in BN_PARTS:
            shapes[f"{conv.scope}/BatchNorm/{part}"] = (conv.filters,)
        width[conv.name] = conv.filters
    shapes[f"{UP_SCOPE}/weights"] = (1, 1, mixed_channels(variant), cin)
    shapes[f"{UP_SCOPE}/biases"] = (cin,)
    return shapes


def seeded_weights(variant: str, seed: int = 0) -> dict[str, np.ndarray]:
    """Deterministic weights for a block: slim's Xavier-uniform kernels, and BatchNorm
    statistics and biases that are not the initial 0 / 1 (as a trained block's are not),
    so a port that mixes up beta, moving mean and moving variance gives a different output.
    """
    seed = check_positive_int("seed", seed, minimum=0)
    rng = np.random.default_rng([seed, 1935])
    weights = {}
    for name, shape in weight_shapes(variant).items():
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


def _variables(block, spec: Block35Spec) -> dict[str, object]:
    """Slim name -> the Keras variable holding it."""
    found = {}
    for conv in spec.convs:
        name = keras_name(conv.scope)
        found[f"{conv.scope}/weights"] = block.get_layer(name).kernel
        bn = block.get_layer(f"{name}__BatchNorm")
        for part in BN_PARTS:
            found[f"{conv.scope}/BatchNorm/{part}"] = getattr(bn, part)
    up = block.get_layer(keras_name(UP_SCOPE))
    found[f"{UP_SCOPE}/weights"] = up.kernel
    found[f"{UP_SCOPE}/biases"] = up.bias
    return found


def block_weights(block) -> dict[str, np.ndarray]:
    """The block's weights as ``{slim variable name: numpy array}`` (copies)."""
    spec = block_spec(block)
    return {name: np.array(var.numpy()) for name, var in _variables(block, spec).items()}


def set_block_weights(block, weights: dict, spec: Block35Spec | None = None) -> None:
    """Load ``{slim variable name: array}`` into the block; the inverse of :func:`block_weights`.

    Every name must be present with its exact shape; a missing, extra or misshapen entry is a
    ValueError that names it.
    """
    spec = spec or block_spec(block)
    if not isinstance(weights, dict):
        raise TypeError(f"weights: got {type(weights).__name__}; expected a dict of slim "
                        "variable names to arrays, as block_weights() returns")
    expected = weight_shapes(spec.variant)
    missing = sorted(set(expected) - set(weights))
    extra = sorted(set(weights) - set(expected))
    if missing or extra:
        raise ValueError(f"weights: for variant {spec.variant!r} missing {missing}, "
                         f"unexpected {extra}; expected exactly the names of weight_shapes()")
    variables = _variables(block, spec)
    for name, shape in expected.items():
        value = np.asarray(weights[name], dtype=np.float32)
        if value.shape != shape:
            raise ValueError(f"weights[{name!r}]: got shape {value.shape}; expected {shape}")
        if name.endswith("moving_variance") and np.any(value + BN_EPSILON <= 0):
            raise ValueError(f"weights[{name!r}]: got a variance <= -epsilon; expected >= 0")
        variables[name].assign(value)
