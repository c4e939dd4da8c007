"""Block weights by their tf-slim variable names, in and out of a Keras block.

Slim names each variable after its scope: ``Branch_1/Conv2d_0b_3x3/weights``,
``Branch_1/Conv2d_0b_3x3/BatchNorm/beta`` (and ``moving_mean``, ``moving_variance``; slim's
batch_norm has no gamma by default), and the projection's ``Conv2d_1x1/weights`` and
``Conv2d_1x1/biases``. The scale is not among them: it is a constant of the block.
"""

from __future__ import annotations

import numpy as np

from .spec import UP_SCOPE, BlockSpec, block_spec, keras_name
from .validate import given
from .weight_tables import BN_PARTS, check_weights


def _variables(block, spec: BlockSpec) -> dict[str, object]:
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


def set_block_weights(block, weights: dict, spec: BlockSpec | None = None) -> None:
    """Load ``{slim variable name: array}`` into the block; the inverse of :func:`block_weights`.

    All or nothing: every entry is checked first (:func:`check_weights`: names, shapes, finite
    numbers, variances), and a missing, extra or bad entry is an error that names it, raised
    before any variable is touched.
    """
    if spec is not None and not isinstance(spec, BlockSpec):
        raise TypeError(f"spec: got {given(spec)}; expected None (read from the block) or the "
                        "block's spec, block.residual_spec")
    spec = spec or block_spec(block)
    # everything is checked before anything is set
    _set_block_weights(block, check_weights(weights, spec.variant, spec.block), spec)


def _set_block_weights(block, weights: dict, spec: BlockSpec) -> None:
    """:func:`set_block_weights` of weights already checked or made for ``spec`` (the seeded
    ones, or the block's own read back): it trusts its caller."""
    variables = _variables(block, spec)
    for name, value in weights.items():
        variables[name].assign(value)
