"""The scale sweep's numbers in words: the heading of both slider apps and their figures' alt
text.

The Voilà scale app (:mod:`explainer.classroom.apps`) and the static scale page
(:mod:`explainer.site.scale_page`) both say what the block does at a slider position; the
sentences are made here, from a sweep's metrics at that scale (``ScaleSweep.values_at`` /
``at``), so the two say the same thing and a screen reader hears the numbers the picture
shows.
"""

from __future__ import annotations

NBSP = "\u00a0"


def finding(variant: str, scale: float, values: dict, space: str = NBSP) -> str:
    """The heading: what the block does at ``scale``, in words, from ``values`` (sweep.at).
    The default no-break ``space`` keeps "9.4 %" and "s = 0.18" on one line."""
    return (f"block35 {variant}: at s{space}={space}{scale:.2f} the residual is "
            f"{100 * values['residual_ratio']:.1f}{space}% of the shortcut, the output moves "
            f"{100 * values['output_change']:.1f}{space}%")


def numbers_text(scale: float, values: dict) -> str:
    """Every metric at ``scale`` in one line (the apps' small print)."""
    return (f"residual ratio ||s·up|| / ||net|| = {values['residual_ratio']:.4f} · output "
            f"change {values['output_change']:.4f} · units flipped on/off "
            f"{values['relu_flips']:.4f} · net_out mean {values['net_out_mean']:.4f}, std "
            f"{values['net_out_std']:.4f}, max {values['net_out_max']:.4f} (at s = {scale:.2f})")


def curves_alt(sweep) -> str:
    """Alt text of the curves against the scale: where each curve starts and ends (percent),
    read from ``sweep`` (a :class:`~explainer.scaling.sweep.ScaleSweep`, scales ascending)."""
    first, last = float(sweep.scales[0]), float(sweep.scales[-1])

    def span(name: str, key: str) -> str:
        values = sweep[key]
        return f"{name} from {100 * float(values[0]):.1f} % to {100 * float(values[-1]):.1f} %"

    return (f"Line chart, block35 {sweep.spec.variant}, scale s from {first:.2f} to "
            f"{last:.2f}: {span('residual ratio', 'residual_ratio')}, "
            f"{span('output change', 'output_change')}, {span('units flipped', 'relu_flips')}.")


def frame_alt(variant: str, scale: float, values: dict) -> str:
    """Alt text of the scale app's figure at ``scale``: the marker's numbers, e.g. "residual
    ratio 8.9 % of the shortcut at s = 0.17"."""
    return (f"block35 {variant} at s = {scale:.2f}: residual ratio "
            f"{100 * values['residual_ratio']:.1f} % of the shortcut, output change "
            f"{100 * values['output_change']:.1f} %, units flipped "
            f"{100 * values['relu_flips']:.1f} %; histograms of net, s·up and net_out, whose "
            f"mean is {values['net_out_mean']:.4f} and max {values['net_out_max']:.4f}.")
