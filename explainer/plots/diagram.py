"""A block diagram of block35, drawn with matplotlib alone, the tensor shape on every edge."""

from __future__ import annotations

from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

from ..core.spec import CONVS, IN_CHANNELS
from ..core.validate import check_positive_int, check_variant
from .sweep import OKABE_ITO, new_figure

# rows from top to bottom; branch columns at x = 2, 5.5, 9; the shortcut runs at x = 12.3
_COLUMNS = {"Branch_0": 2.0, "Branch_1": 5.5, "Branch_2": 9.0}
_ROWS = {"Conv2d_1x1": 9.0, "Conv2d_0a_1x1": 9.0, "Conv2d_0b_3x3": 7.3, "Conv2d_0c_3x3": 5.6}


def _box(ax, x, y, text, colour, width=2.9, height=0.9):
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05", fc=colour, ec="black", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=10.5)


def _arrow(ax, start, end, label=None, label_at=0.5, dx=0.12, path=None):
    points = path or [start, end]
    for a, b in zip(points[:-1], points[1:], strict=True):
        last = b == points[-1]
        ax.add_patch(FancyArrowPatch(a, b, arrowstyle="-|>" if last else "-",
                                     mutation_scale=14, lw=1.3, color="black",
                                     shrinkA=0, shrinkB=0))
    if label:
        a, b = points[0], points[1]
        x, y = a[0] + (b[0] - a[0]) * label_at, a[1] + (b[1] - a[1]) * label_at
        ax.text(x + dx, y, label, ha="left", va="center", fontsize=9.5, color="#333333",
                family="monospace")


def plot_block_diagram(variant: str = "v1", size: int = 35, batch: str = "N") -> Figure:
    """block35 as boxes and arrows: the three branches, the concat into ``mixed``, the 1x1
    projection ``up``, ``scale *``, the shortcut add and the activation; every edge carries
    its shape (batch, size, size, channels)."""
    variant = check_variant(variant)
    size = check_positive_int("size", size)
    cin = IN_CHANNELS[variant]

    def shape(ch):
        return f"({batch},{size},{size},{ch})"

    fig = new_figure(12, 10.5)
    ax = fig.add_subplot()
    ax.set_xlim(-0.5, 14.2)
    ax.set_ylim(-1.3, 12.4)
    ax.axis("off")
    conv_c, op_c = OKABE_ITO["sky"], OKABE_ITO["yellow"]
    _box(ax, 5.5, 11.6, "net (input)", "#dddddd")
    ends = {}
    for conv in CONVS[variant]:
        branch, scope = conv.scope.split("/")
        x, y = _COLUMNS[branch], _ROWS[scope]
        _box(ax, x, y, f"{scope}\n{conv.size}, {conv.filters} + BN + ReLU",
             conv_c)
        if conv.source == "net":
            _arrow(ax, (5.5, 11.15), (x, y + 0.5), shape(cin) if x == 5.5 else None,
                   path=[(5.5, 11.15), (x, 10.3), (x, y + 0.5)] if x != 5.5 else None)
        else:
            prev = ends[branch]
            _arrow(ax, (x, prev[1] - 0.5), (x, y + 0.5), shape(prev[2]))
        ends[branch] = (x, y, conv.filters)
    mixed = sum(e[2] for e in ends.values())
    _box(ax, 5.5, 3.9, "mixed = concat(axis 3)", op_c)
    for x, y, ch in ends.values():
        side = 5.5 + 1.45 * (1 if x > 5.5 else -1)
        _arrow(ax, (x, y - 0.5), (5.5, 4.35), shape(ch), label_at=0.4,
               path=[(x, y - 0.5), (x, 3.9), (side, 3.9)] if x != 5.5 else None)
    for branch, x in _COLUMNS.items():
        ax.text(x - 0.12, 9.85, branch, ha="right", va="center", fontsize=10.5,
                style="italic")
    _box(ax, 5.5, 2.4, f"up = Conv2d_1x1\n1x1, {cin}, bias, no BN, no ReLU", conv_c)
    _arrow(ax, (5.5, 3.45), (5.5, 2.9), shape(mixed))
    _box(ax, 5.5, 0.95, "scale * up", OKABE_ITO["orange"], width=2.2, height=0.7)
    _arrow(ax, (5.5, 1.95), (5.5, 1.3), shape(cin))
    _box(ax, 9.8, 0.95, "net + scale*up", op_c, width=2.6, height=0.7)
    _arrow(ax, (6.6, 0.95), (8.5, 0.95))
    ax.text(7.55, 1.1, shape(cin), ha="center", va="bottom", fontsize=9.5, family="monospace",
            color="#333333")
    _arrow(ax, (6.95, 11.6), (9.8, 1.3), path=[(6.95, 11.6), (12.3, 11.6), (12.3, 2.0),
                                                (9.8, 2.0), (9.8, 1.3)])
    ax.text(12.4, 6.5, f"shortcut\n(identity)\n{shape(cin)}", ha="left", va="center",
            fontsize=9.5, family="monospace", color="#333333")
    _box(ax, 9.8, -0.6, "activation (ReLU)", "#dddddd", width=2.6, height=0.7)
    _arrow(ax, (9.8, 0.6), (9.8, -0.25), shape(cin))
    ax.text(11.2, -0.6, f"→ net_out {shape(cin)}", ha="left", va="center", fontsize=9.5,
            family="monospace")
    ax.set_title(f"block35 {variant}: three branches make {mixed} channels, the 1x1 projection "
                 f"maps them back to {cin}, scaled before the add", fontsize=13)
    return fig
