"""The block spec tables: widths, slim scopes, the tensors' names. numpy-free, TensorFlow-free.

Every other module builds from these tables: the Keras blocks (:mod:`.blocks`), the numpy
reference (:mod:`.reference`), the slim weights (:mod:`.weight_tables`), the ports and the
diagrams. They import nothing heavy, so a classroom app can read them without TensorFlow.
The names without a block kind (``IN_CHANNELS``, ``CONVS``, ``MIXED_FROM``, ``TRACE_NAMES``)
are block35's, the lesson's block; :mod:`.block_tables` holds all three kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

from .block_tables import (  # noqa: F401  (Conv and the tables are part of this module's API)
    BLOCK_KINDS,
    CONVS_BY_BLOCK,
    IN_CHANNELS_BY_BLOCK,
    MIXED_FROM_BY_BLOCK,
    SLIM_BLOCK_SCOPE,
    TRACE_NAMES_BY_BLOCK,
    Conv,
    check_block_kind,
    mixed_channels,
)
from .schedule import REAL_SCALES
from .validate import check_activation, check_scale, check_variant

BN_EPSILON = 0.001  # slim's and keras.applications' value; facenet's arg_scope too
IN_CHANNELS = IN_CHANNELS_BY_BLOCK["block35"]
CONVS = CONVS_BY_BLOCK["block35"]
UP_SCOPE = "Conv2d_1x1"
MIXED_FROM = MIXED_FROM_BY_BLOCK["block35"]
TRACE_NAMES = TRACE_NAMES_BY_BLOCK["block35"]


@dataclass(frozen=True)
class BlockSpec:
    """What a built block is: variant, the constant scale, activation, seed, device, and the
    block kind ("block35", "block17" or "block8"); the widths follow from variant and kind."""

    variant: str
    scale: float
    activation: str | None
    seed: int
    device: str  # the TensorFlow device string it runs on, e.g. "/CPU:0"
    block: str = "block35"

    @property
    def in_channels(self) -> int:
        return IN_CHANNELS_BY_BLOCK[self.block][self.variant]

    @property
    def convs(self) -> tuple[Conv, ...]:
        return CONVS_BY_BLOCK[self.block][self.variant]

    @property
    def mixed_channels(self) -> int:
        return mixed_channels(self.variant, self.block)

    @property
    def mixed_from(self) -> tuple[str, ...]:
        return MIXED_FROM_BY_BLOCK[self.block]

    @property
    def trace_names(self) -> tuple[str, ...]:
        return TRACE_NAMES_BY_BLOCK[self.block]

    @property
    def slim_scope(self) -> str:
        """The block's own variable scope in slim: "Block35", "Block17" or "Block8"."""
        return SLIM_BLOCK_SCOPE[self.block]


def keras_name(scope: str) -> str:
    """Keras layer name for a slim scope ("Branch_1/Conv2d_0b_3x3" -> "Branch_1__Conv2d_0b_3x3")."""
    return scope.replace("/", "__")


def block_spec(block: object) -> BlockSpec:
    """The :class:`BlockSpec` of a block made by :func:`build_block35` / ``build_block17`` /
    ``build_block8`` (else a TypeError)."""
    spec = getattr(block, "residual_spec", None)
    if not isinstance(spec, BlockSpec):
        raise TypeError(f"block: got {type(block).__name__}; expected a model made by "
                        "explainer.build_block35(...), build_block17(...) or build_block8(...)")
    return spec


def describe_block(variant: str = "v1", scale: float | None = None,
                   activation: str | None = "relu", block: str = "block35") -> str:
    """The block diagram in words, generated from the same layer table the model is built from
    (``scale=None``: the block's own in the real nets)."""
    variant = check_variant(variant)
    activation = check_activation(activation)
    block = check_block_kind(block)
    scale = REAL_SCALES[block] if scale is None else scale
    convs = CONVS_BY_BLOCK[block][variant]
    cin = IN_CHANNELS_BY_BLOCK[block][variant]
    lines = [f"{block} {variant}: input `net` has {cin} channels (N, H, W, {cin})."]
    for branch in sorted({c.scope.split("/")[0] for c in convs}):
        steps = [f"{c.size} conv {c.filters} ({c.name})"
                 for c in convs if c.scope.startswith(branch)]
        lines.append(f"  {branch}: net -> " + " -> ".join(steps)
                     + "; each conv: no bias -> BatchNorm -> ReLU, stride 1, SAME.")
    mixed = mixed_channels(variant, block)
    lines.append(f"  concat on channels -> `mixed` with {mixed} channels.")
    lines.append(f"  `up` = 1x1 conv {mixed} -> {cin} with bias, no BatchNorm, no activation.")
    clip = " clipped to [-6, 6]," if activation == "relu6" else ""
    lines.append(f"  `net += scale * up` with scale = {check_scale(scale):g}:{clip} same shape "
                 f"as `net`, element by element.")
    lines.append(f"  then `net = {activation}(net)`." if activation else
                 "  no activation after the add.")
    return "\n".join(lines)
