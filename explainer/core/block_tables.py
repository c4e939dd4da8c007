"""The tables of the three residual blocks: block35, block17 and block8, v1 and v2.

numpy-free and TensorFlow-free. Each block kind is the same pattern (branches of
conv -> BatchNorm -> ReLU, concatenated into ``mixed``, a 1x1 projection ``up`` with a bias,
then ``net += scale * up``), with its own branches and widths, written here as the original
code writes them:

- block35 (Inception-ResNet-A, 35x35): three branches; facenet ``inception_resnet_v1.py`` and
  tf-models ``research/slim/nets/inception_resnet_v2.py``.
- block17 (Inception-ResNet-B, 17x17): two branches, the second 1x1 -> 1x7 -> 7x1.
  v1 896 channels: 128 | 128 -> 128 -> 128 (concat 256); v2 1088: 192 | 128 -> 160 -> 192 (384).
- block8 (Inception-ResNet-C, 8x8): two branches, the second 1x1 -> 1x3 -> 3x1.
  v1 1792 channels: 192 | 192 -> 192 -> 192 (concat 384); v2 2080: 192 | 192 -> 224 -> 256 (448).

keras.applications ``inception_resnet_block`` uses the v2 widths for all three.
"""

from __future__ import annotations

from dataclasses import dataclass

from .validate import _choice

BLOCK_KINDS = ("block35", "block17", "block8")


@dataclass(frozen=True)
class Conv:
    """One branch convolution: conv (no bias) -> BatchNorm (no gamma) -> ReLU."""

    name: str  # the Python variable in the snippet
    scope: str  # the slim scope, e.g. "Branch_1/Conv2d_0b_3x3"
    source: str  # the variable it reads
    filters: int
    kernel: tuple[int, int]  # (height, width), e.g. (1, 7)

    @property
    def size(self) -> str:
        """The kernel as the scope names it: "3x3", "1x7"."""
        return f"{self.kernel[0]}x{self.kernel[1]}"

    @property
    def slim_kernel(self) -> str:
        """The kernel argument as the snippet writes it: ``3`` or ``[1, 7]``."""
        kh, kw = self.kernel
        return str(kh) if kh == kw else f"[{kh}, {kw}]"


def _block35(mid: int, last: int) -> tuple[Conv, ...]:
    return (
        Conv("tower_conv", "Branch_0/Conv2d_1x1", "net", 32, (1, 1)),
        Conv("tower_conv1_0", "Branch_1/Conv2d_0a_1x1", "net", 32, (1, 1)),
        Conv("tower_conv1_1", "Branch_1/Conv2d_0b_3x3", "tower_conv1_0", 32, (3, 3)),
        Conv("tower_conv2_0", "Branch_2/Conv2d_0a_1x1", "net", 32, (1, 1)),
        Conv("tower_conv2_1", "Branch_2/Conv2d_0b_3x3", "tower_conv2_0", mid, (3, 3)),
        Conv("tower_conv2_2", "Branch_2/Conv2d_0c_3x3", "tower_conv2_1", last, (3, 3)),
    )


def _two_branches(k: int, widths: tuple[int, int, int, int]) -> tuple[Conv, ...]:
    """block17 (k = 7) and block8 (k = 3): 1x1 | 1x1 -> 1xk -> kx1."""
    b0, b1a, b1b, b1c = widths
    return (
        Conv("tower_conv", "Branch_0/Conv2d_1x1", "net", b0, (1, 1)),
        Conv("tower_conv1_0", "Branch_1/Conv2d_0a_1x1", "net", b1a, (1, 1)),
        Conv("tower_conv1_1", f"Branch_1/Conv2d_0b_1x{k}", "tower_conv1_0", b1b, (1, k)),
        Conv("tower_conv1_2", f"Branch_1/Conv2d_0c_{k}x1", "tower_conv1_1", b1c, (k, 1)),
    )


CONVS_BY_BLOCK = {
    "block35": {"v1": _block35(32, 32), "v2": _block35(48, 64)},
    "block17": {"v1": _two_branches(7, (128, 128, 128, 128)),
                "v2": _two_branches(7, (192, 128, 160, 192))},
    "block8": {"v1": _two_branches(3, (192, 192, 192, 192)),
               "v2": _two_branches(3, (192, 192, 224, 256))},
}
IN_CHANNELS_BY_BLOCK = {
    "block35": {"v1": 256, "v2": 320},
    "block17": {"v1": 896, "v2": 1088},
    "block8": {"v1": 1792, "v2": 2080},
}
# The branch outputs concatenated into `mixed`, in the snippet's order.
MIXED_FROM_BY_BLOCK = {
    "block35": ("tower_conv", "tower_conv1_1", "tower_conv2_2"),
    "block17": ("tower_conv", "tower_conv1_2"),
    "block8": ("tower_conv", "tower_conv1_2"),
}
_TAIL = ("mixed", "up", "scaled_up", "net_sum", "net_out")
# Every tensor of the snippet, in the order it is computed: the names a trace records.
TRACE_NAMES_BY_BLOCK = {kind: ("net", *(c.name for c in convs["v1"]), *_TAIL)
                        for kind, convs in CONVS_BY_BLOCK.items()}
# The variable scope each block function opens: tf.variable_scope(scope, 'Block35', ...)
SLIM_BLOCK_SCOPE = {"block35": "Block35", "block17": "Block17", "block8": "Block8"}
# The spatial size each block runs at in the real nets (299x299 input, v2's padding)
REAL_SIZES = {"block35": 35, "block17": 17, "block8": 8}
# Which keras.applications InceptionResNetV2 layers exist: block35_1..10, block17_1..20,
# block8_1..10 (block8_10 is the final one: scale 1.0, no activation, no `_ac` layer)
KERAS_APPS_COUNTS = {"block35": 10, "block17": 20, "block8": 10}


def check_block_kind(block: object) -> str:
    """'block35', 'block17' or 'block8'."""
    return _choice("block", block, BLOCK_KINDS)  # type: ignore[return-value]


def convs_of(block: str, variant: str) -> tuple[Conv, ...]:
    return CONVS_BY_BLOCK[block][variant]


def in_channels(block: str, variant: str) -> int:
    return IN_CHANNELS_BY_BLOCK[block][variant]


def mixed_channels(variant: str, block: str = "block35") -> int:
    """Channels of ``mixed``: the widths of the branch outputs, added up (block35 v1 96)."""
    widths = {c.name: c.filters for c in CONVS_BY_BLOCK[block][variant]}
    return sum(widths[n] for n in MIXED_FROM_BY_BLOCK[block])
