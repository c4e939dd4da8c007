"""``scale_explorer``: a slider over the residual scale that answers instantly.

The block runs once per variant (:func:`explainer.scale_sweep` keeps ``net`` and ``up``); a
move of the slider only recomputes the tail ``f(net + s * up)`` from that cache and redraws
the parts of the figure that change (the marker and two histograms) over a saved background,
then sends a small PNG to an ``ipywidgets.Image``.

CSS classes for tests and styling: ``scale-slider`` (the FloatSlider), ``scale-variant``
(ToggleButtons v1 / v2), ``scale-text`` (type a value), ``residual-ratio`` (HTML with
``f"{ratio:.4f}"``), ``scale-numbers`` (the other metrics), ``scale-plot`` (the Image),
``scale-error`` (HTML, empty unless the last value was refused).
"""

from __future__ import annotations

from dataclasses import replace

import ipywidgets as widgets
import numpy as np

from ..core.budget import check_block_run
from ..core.inputs import check_block_input
from ..core.lesson import _sample_input
from ..core.spec import block_spec
from ..core.validate import VARIANTS
from ..scaling.findings import frame_alt
from ..scaling.sweep import SLIDER_SCALES, _scale_sweep
from .images import AltImage, show_png
from .slider_input import ScaleWidget


class ScaleExplorer(ScaleWidget, widgets.VBox):
    """The slider app. ``update(scale)`` is what a move calls; tests call it directly.

    ``update`` returns True when it showed the scale and False when it refused the value
    (the reason is then in ``error``, the ``scale-error`` widget). ``branch_runs`` counts how
    often a block actually ran (once per variant).
    """

    def __init__(self, block, x):
        spec = block_spec(block)
        self.branch_runs = 0
        self._panes: dict[str, tuple] = {}
        self._source = (block, x)
        self._updating = False
        start = min(max(spec.scale, 0.0), 1.0)
        self.slider = widgets.FloatSlider(value=start, min=0.0, max=1.0, step=0.01,
                                          description="scale", readout_format=".2f",
                                          continuous_update=True,
                                          layout=widgets.Layout(width="520px"))
        self.toggle = widgets.ToggleButtons(options=["v1", "v2"], value=spec.variant,
                                            description="variant")
        self.text = widgets.Text(placeholder="type a scale, e.g. 0.17", description="or type",
                                 continuous_update=False)
        self.ratio = widgets.HTML()
        self.numbers = widgets.HTML()
        self.error = widgets.HTML()
        self.image = AltImage(format="png", layout=widgets.Layout(max_width="100%"))
        for w, cls in ((self.slider, "scale-slider"), (self.toggle, "scale-variant"),
                       (self.text, "scale-text"), (self.ratio, "residual-ratio"),
                       (self.numbers, "scale-numbers"), (self.error, "scale-error"),
                       (self.image, "scale-plot")):
            w.add_class(cls)
        super().__init__([widgets.HBox([self.slider, self.toggle]), self.text, self.ratio,
                          self.numbers, self.error, self.image])
        self.variant = spec.variant
        self._pane(spec.variant)
        self.update(self.slider.value)
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.text.observe(lambda change: self._typed(change["new"]), names="value")
        self.toggle.observe(lambda change: self.switch(change["new"]), names="value")

    def _pane(self, variant: str):
        """(block, x, sweep, frame) of ``variant``, built on first use and then kept."""
        if variant not in self._panes:
            from ..core.blocks import build_from_spec

            block, x = self._source
            spec = block_spec(block)
            if variant != spec.variant:  # the same set-up for the other variant, same kind
                n, h = np.shape(x)[0], np.shape(x)[1]
                block = build_from_spec(replace(spec, variant=variant))
                x = _sample_input(variant, n, h, spec.seed, spec.block)
            # checked once, by scale_explorer (both variants' budgets): the sweep trusts it
            sweep = _scale_sweep(block, x, SLIDER_SCALES, spec.activation)
            self.branch_runs += 1
            from .scale_frame import ScaleFrame  # defers matplotlib

            self._panes[variant] = (block, x, sweep, ScaleFrame(sweep))
        return self._panes[variant]

    @property
    def sweep(self):
        """The cached sweep of the variant on show."""
        return self._pane(self.variant)[2]

    def _show(self, value: float) -> None:
        """Draw the numbers and the figure at ``value`` (called by ``update``)."""
        _, _, sweep, frame = self._pane(self.variant)
        values = sweep._at(value)  # checked once, by update()
        self.ratio.value = (f"<b>residual ratio ||scale·up|| / ||net|| = "
                            f"{values['residual_ratio']:.4f}</b> at scale {value:.2f}")
        self.numbers.value = (
            f"output change {values['output_change']:.4f} · ReLU flips "
            f"{values['relu_flips']:.4f} · net_out mean {values['net_out_mean']:.4f}, "
            f"std {values['net_out_std']:.4f}, max {values['net_out_max']:.4f}")
        with self.image.hold_sync():  # the figure and its alt text in one message
            self.image.tooltip = frame_alt(self.variant, value, values)
            show_png(self.image, frame.render(value, values))


def scale_explorer(block, x) -> ScaleExplorer:
    """A FloatSlider 0..1 (step 0.01, starting at the block's scale) with a v1 / v2 toggle;
    each move updates the numbers and the figure from the cached sweep. Call
    ``explorer.update(scale)`` to move it without a display."""

    spec = block_spec(block)
    x = check_block_input(x, spec.in_channels)
    for variant in VARIANTS:  # the toggle runs the same set-up in the other variant too
        check_block_run(variant, *x.shape[:3], block=spec.block,
                        what=f"the scale explorer's {spec.block} {variant}")
    return ScaleExplorer(block, x)
