"""The block35 spec tables: widths, slim scopes, the tensors' names. numpy-free, TensorFlow-free.

Every other module builds from these tables: the Keras block (:mod:`.blocks`), the numpy
reference (:mod:`.reference`), the slim weights (:mod:`.weight_tables`), the ports and the
diagrams. They import nothing heavy, so a classroom app can read them without TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass

from .schedule import BLOCK35_SCALE
from .validate import check_activation, check_scale, check_variant

BN_EPSILON = 0.001  # slim's and keras.applications' value; facenet's arg_scope too
IN_CHANNELS = {"v1": 256, "v2": 320}


@dataclass(frozen=True)
class Conv:
    """One branch convolution: conv (no bias) -> BatchNorm (no gamma) -> ReLU."""

    name: str  # the Python variable in the snippet
    scope: str  # the slim scope, e.g. "Branch_1/Conv2d_0b_3x3"
    source: str  # the variable it reads
    filters: int
    kernel: int


def _convs(widths: tuple[int, int]) -> tuple[Conv, ...]:
    mid, last = widths
    return (
        Conv("tower_conv", "Branch_0/Conv2d_1x1", "net", 32, 1),
        Conv("tower_conv1_0", "Branch_1/Conv2d_0a_1x1", "net", 32, 1),
        Conv("tower_conv1_1", "Branch_1/Conv2d_0b_3x3", "tower_conv1_0", 32, 3),
        Conv("tower_conv2_0", "Branch_2/Conv2d_0a_1x1", "net", 32, 1),
        Conv("tower_conv2_1", "Branch_2/Conv2d_0b_3x3", "tower_conv2_0", mid, 3),
        Conv("tower_conv2_2", "Branch_2/Conv2d_0c_3x3", "tower_conv2_1", last, 3),
    )


CONVS = {"v1": _convs((32, 32)), "v2": _convs((48, 64))}
UP_SCOPE = "Conv2d_1x1"
# The branch outputs concatenated into `mixed`, in the snippet's order.
MIXED_FROM = ("tower_conv", "tower_conv1_1", "tower_conv2_2")
# Every tensor of the snippet, in the order it is computed: the names a trace records.
TRACE_NAMES = ("net", "tower_conv", "tower_conv1_0", "tower_conv1_1", "tower_conv2_0",
               "tower_conv2_1", "tower_conv2_2", "mixed", "up", "scaled_up", "net_sum", "net_out")


@dataclass(frozen=True)
class Block35Spec:
    """What a built block is: variant, widths, the constant scale, activation, device, seed."""

    variant: str
    scale: float
    activation: str | None
    seed: int
    device: str  # the TensorFlow device string it runs on, e.g. "/CPU:0"

    @property
    def in_channels(self) -> int:
        return IN_CHANNELS[self.variant]

    @property
    def convs(self) -> tuple[Conv, ...]:
        return CONVS[self.variant]

    @property
    def mixed_channels(self) -> int:
        return mixed_channels(self.variant)


def mixed_channels(variant: str) -> int:
    """Channels of ``mixed``: the widths of the three branch outputs, added up (v1 96, v2 128)."""
    widths = {c.name: c.filters for c in CONVS[variant]}
    return sum(widths[n] for n in MIXED_FROM)


def keras_name(scope: str) -> str:
    """Keras layer name for a slim scope ("Branch_1/Conv2d_0b_3x3" -> "Branch_1__Conv2d_0b_3x3")."""
    return scope.replace("/", "__")


def block_spec(block: object) -> Block35Spec:
    """The :class:`Block35Spec` of a block made by :func:`build_block35` (else a TypeError)."""
    spec = getattr(block, "block35", None)
    if not isinstance(spec, Block35Spec):
        raise TypeError(f"block: got {type(block).__name__}; expected a model made by "
                        "explainer.build_block35(...)")
    return spec


def describe_block(variant: str = "v1", scale: float = BLOCK35_SCALE,
                   activation: str | None = "relu") -> str:
    """The block diagram in words, generated from the same layer table the model is built from."""
    variant = check_variant(variant)
    activation = check_activation(activation)
    convs = CONVS[variant]
    cin = IN_CHANNELS[variant]
    lines = [f"block35 {variant}: input `net` has {cin} channels (N, H, W, {cin})."]
    for branch in ("Branch_0", "Branch_1", "Branch_2"):
        steps = [f"{c.kernel}x{c.kernel} conv {c.filters} ({c.name})"
                 for c in convs if c.scope.startswith(branch)]
        lines.append(f"  {branch}: net -> " + " -> ".join(steps)
                     + "; each conv: no bias -> BatchNorm -> ReLU, stride 1, SAME.")
    mixed = mixed_channels(variant)
    lines.append(f"  concat on channels -> `mixed` with {mixed} channels.")
    lines.append(f"  `up` = 1x1 conv {mixed} -> {cin} with bias, no BatchNorm, no activation.")
    clip = " clipped to [-6, 6]," if activation == "relu6" else ""
    lines.append(f"  `net += scale * up` with scale = {check_scale(scale):g}:{clip} same shape "
                 f"as `net`, element by element.")
    lines.append(f"  then `net = {activation}(net)`." if activation else
                 "  no activation after the add.")
    return "\n".join(lines)
