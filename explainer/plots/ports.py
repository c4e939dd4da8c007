"""How far each port is from our block: max |difference| per tensor, one marker per port.

The differences span many orders of magnitude (a float32 rounding of 1e-7 next to a wrong
port's 1e-1), so the axis is logarithmic; a difference of exactly 0 cannot sit on it and is
drawn at the bottom edge with an open marker and named "exactly 0" in the legend.
"""

from __future__ import annotations

import numpy as np

from .sweep import OKABE_ITO, _style, new_figure

MARKERS = (("o", OKABE_ITO["blue"]), ("s", OKABE_ITO["vermillion"]), ("D", OKABE_ITO["green"]),
           ("^", OKABE_ITO["orange"]), ("v", OKABE_ITO["purple"]), ("P", OKABE_ITO["sky"]))
FLOAT32_EPS = float(np.finfo(np.float32).eps)


def plot_port_differences(checks: dict, title: str | None = None):
    """One row of markers per port: max |difference| of every tensor it compares.

    Args:
        checks: label -> :class:`~explainer.ports.check.PortCheck` (``compare_slim``,
            ``compare_torch``, ``to_onnx(...).check()``, ``compare_keras_applications``).
            Tensors are placed in the order they first appear (the slim check lists all of
            the block's tensors; the others compare ``net_out`` only).
        title: the figure title (a default names what is compared).
    """
    # duck-typed (anything with a ``max_abs_diff`` dict): importing explainer.ports here would
    # load TensorFlow for every figure of the package
    if not isinstance(checks, dict) or not checks or not all(
            isinstance(getattr(c, "max_abs_diff", None), dict) for c in checks.values()):
        raise TypeError(f"checks: got {type(checks).__name__}; expected a non-empty dict of "
                        "label -> PortCheck, e.g. {'PyTorch': port.compare_torch(block)}")
    if len(checks) > len(MARKERS):
        raise ValueError(f"checks: got {len(checks)} ports; expected at most {len(MARKERS)}")
    names: list[str] = []
    for check in checks.values():
        names += [n for n in check.max_abs_diff if n not in names]
    values = [d for c in checks.values() for d in c.max_abs_diff.values() if d > 0]
    floor = 10.0 ** np.floor(np.log10(min(values + [FLOAT32_EPS]) / 10))
    top = 10.0 ** np.ceil(np.log10(max(values + [1e-5]) * 10))
    fig = new_figure(max(7.0, 0.75 * len(names) + 3.0), 4.6)
    ax = fig.add_subplot()
    ax.set_yscale("log")
    ax.axhline(1e-5, color=OKABE_ITO["grey"], lw=1.2, ls="--",
               label="1e-5: the tests' bound for a correct port")
    ax.axhline(FLOAT32_EPS, color=OKABE_ITO["grey"], lw=1, ls=":",
               label=f"float32 epsilon {FLOAT32_EPS:.1e}")
    width = 0.6 / len(checks)
    for k, ((label, check), (marker, colour)) in enumerate(
            zip(checks.items(), MARKERS[:len(checks)], strict=True)):
        offset = (k - (len(checks) - 1) / 2) * width
        xs = [names.index(n) + offset for n in check.max_abs_diff]
        ys = list(check.max_abs_diff.values())
        exact = [(x, y) for x, y in zip(xs, ys, strict=True) if y == 0]
        shown = [(x, y) for x, y in zip(xs, ys, strict=True) if y > 0]
        if shown:
            ax.plot(*zip(*shown, strict=True), ls="none", marker=marker, ms=9, color=colour,
                    label=label)
        if exact:
            ax.plot([x for x, _ in exact], [floor] * len(exact), ls="none", marker=marker,
                    ms=9, mfc="white", mec=colour, mew=2, clip_on=False,
                    label=f"{label}: exactly 0")
    ax.set_ylim(floor, top)
    ax.set_xticks(range(len(names)), names, rotation=35, ha="right")
    ax.set_ylabel("max |port − ours| (log)")
    ax.set_title(title or "Every port against our Keras block, on the same input")
    ax.grid(axis="y", which="major", color="#dddddd")
    ax.legend(loc="upper left", fontsize=9, framealpha=0.95)
    _style(ax)
    return fig
