"""Classroom apps: the scale slider and the broadcasting playground for light kernels.

Nothing here imports TensorFlow, at module level or later: the scale app's numbers come from
the numpy engine (:func:`explainer.scaling.numpy_sweep.numpy_scale_sweep`: the lesson's seeded
weights through the numpy reference block35), the playground asks numpy only. A kernel that
runs the scale app holds numpy and ipywidgets (matplotlib only if a frame was not drawn
ahead), so a whole class fits on one laptop.

Made for a projector: body text 18 px, a figure as wide as the page, a heading that states
the live finding, a large slider handle and a v1 / v2 toggle whose state is plain to see.

CSS classes (stable selectors): ``classroom-app``, ``scale-readout`` (one HTML widget with
the divs ``scale-finding``, the heading, ``residual-ratio`` and ``scale-numbers``),
``scale-engine`` (what computed it), ``scale-slider``, ``scale-variant``, ``scale-text``,
``scale-error``, ``scale-plot``.

A slider move costs the class's one server four relayed messages (busy, the readout, the
figure, idle): the readout is one widget, the slider does not echo, and the figure is a
35 KB palette PNG drawn once per machine.
"""

from __future__ import annotations

import html

import ipywidgets as widgets
from traitlets import CFloat

from ..core.validate import check_scale, check_variant
from ..scaling.findings import finding, frame_alt
from ..scaling.numpy_sweep import ENGINE, SLIDER_SCALES, _numpy_scale_sweep
from ..widgets.broadcast_playground import BroadcastPlayground
from ..widgets.images import AltImage
from ..widgets.slider_input import ScaleWidget
from .frame_cache import SharedFrames
from .pool_wait import wait_for_request

# Voilà and JupyterLab default to 13-14 px; a projector needs more. One <style> for the page.
APP_CSS = """<style>
body, .jp-RenderedHTMLCommon, .classroom-app, .classroom-app .widget-label,
.classroom-app input, .classroom-app button, .classroom-app .widget-readout,
.classroom-app textarea, .classroom-app select,
.classroom-app .widget-html-content { font-size: 18px !important; }
.jp-RenderedHTMLCommon h1 { font-size: 30px; }
.classroom-app .widget-label { min-width: 6em; }
.classroom-app .widget-inline-hbox .widget-label { width: auto; }
.classroom-app .scale-slider { height: 48px; }
.classroom-app .scale-slider .noUi-handle { width: 30px !important; height: 30px !important;
  top: -12px !important; border-radius: 50%; background: #0072B2 !important;
  border: 3px solid #000 !important; }
.classroom-app .scale-slider .noUi-target { height: 10px !important; background: #ddd; }
.classroom-app .scale-variant button { font-size: 20px !important; min-width: 5em;
  height: 42px; border: 2px solid #0072B2; }
.classroom-app .scale-variant button.mod-active { background: #0072B2 !important;
  color: #fff !important; font-weight: bold; }
.classroom-app div.scale-finding { font-size: 28px !important; font-weight: bold;
  line-height: 1.3; margin-bottom: 0.3em; }
.classroom-app .scale-text input { width: 16em; }
.classroom-app .scale-engine { color: #444; }
.classroom-app .scale-plot { width: 100% !important; height: auto; }
.classroom-app .widget-text { width: 460px; }
.classroom-app .broadcast-preset { width: 760px !important; }
.classroom-app .broadcast-result textarea { font-family: monospace; font-size: 17px !important; }
</style>"""


def readout_html(variant: str, scale: float, values: dict) -> str:
    """The heading and the numbers at ``scale``, as three divs of one HTML widget."""
    return (f"<div class='scale-finding'>{html.escape(finding(variant, scale, values))}</div>"
            f"<div class='residual-ratio'>residual ratio ||s·up|| / ||net|| = "
            f"<b>{values['residual_ratio']:.4f}</b> at s = {scale:.2f}</div>"
            f"<div class='scale-numbers'>output change {values['output_change']:.4f} · units "
            f"flipped on/off {values['relu_flips']:.4f} · net_out mean "
            f"{values['net_out_mean']:.4f}, std {values['net_out_std']:.4f}, max "
            f"{values['net_out_max']:.4f}</div>")


FRAMES_KEPT = 40  # PNG frames kept in memory per variant (about 35 KB each)


class ClassroomFrames:
    """The app's figure at each slider position, for one variant's sweep: from memory (the
    last :data:`FRAMES_KEPT`), else from the machine's shared folder (:mod:`.frame_cache`;
    ``make classroom`` draws all 101 there before the class), else drawn here. Only drawing
    loads matplotlib, so a kernel whose frames were drawn ahead never imports it."""

    def __init__(self, sweep):
        self.sweep = sweep
        self.shared = SharedFrames(sweep)
        self.figure = None  # the ClassroomFigure, made on the first frame not drawn yet
        self._frames: dict[float, bytes] = {}

    def render(self, scale: float, values: dict) -> bytes:
        """The PNG at ``scale`` (``values``: the metrics there, see :meth:`values`)."""
        key, index = round(float(scale), 6), self._index(scale)
        if key in self._frames:
            self._frames[key] = self._frames.pop(key)  # most recently used last
            return self._frames[key]
        png = self.shared.get(index) if index is not None else None
        if png is None:
            if self.figure is None:
                from .figure import ClassroomFigure  # defers matplotlib

                self.figure = ClassroomFigure(self.sweep)
            png = self.figure.render(scale, values)
            if index is not None:
                self.shared.put(index, png)
        if len(self._frames) >= FRAMES_KEPT:
            self._frames.pop(next(iter(self._frames)))
        self._frames[key] = png
        return png

    def _index(self, scale: float) -> int | None:
        """The slider position of ``scale`` (0 .. 100), or None between positions."""
        index = int(round(scale * 100))
        on_grid = 0 <= index < len(self.sweep.scales) and self.sweep.scales[index] == scale
        return index if on_grid else None

    def values(self, scale: float) -> dict[str, float]:
        """Every metric at ``scale``: read from the sweep at its 101 slider positions,
        computed from the cached tensors elsewhere."""
        index = self._index(scale)
        if index is None:
            return self.sweep._at(scale)  # checked once, by update()
        return self.sweep.values_at(index)


class QuietSlider(widgets.FloatSlider):
    """A FloatSlider whose moves the kernel does not echo back to the page: one message less
    per move for the server to relay (the echo keeps several pages of one kernel in step; a
    classroom kernel has one page)."""

    value = CFloat(0.0, help="Float value").tag(sync=True, echo_update=False)


class ClassroomScaleExplorer(ScaleWidget, widgets.VBox):
    """The scale app: slider 0..1 (step 0.01), v1 / v2, a text box for typed values.

    ``update(scale)`` is what a move calls (tests call it directly): True when it showed the
    scale, False when it refused the value (the reason then shows in ``error``).
    ``frames_built`` counts the variants whose sweep and frames were set up (one each).
    """

    def __init__(self, variant: str = "v1", scale: float | None = None):
        variant = check_variant(variant)
        self._panes: dict[str, tuple] = {}
        self._updating = False
        self.frames_built = 0
        self.variant = variant
        start = self._pane(variant)[0].spec.scale if scale is None else scale
        start = min(max(check_scale(start), 0.0), 1.0)
        self.style = widgets.HTML(APP_CSS)
        # the heading, the ratio and the other numbers in one widget: one message per move
        self.readout = widgets.HTML()
        self.engine = widgets.HTML(f"Computed in this kernel by {html.escape(ENGINE)}, with "
                                   "the lesson's seeded weights and 35×35 input.")
        self.slider = QuietSlider(value=start, min=0.0, max=1.0, step=0.01,
                                  description="scale s", readout_format=".2f",
                                  continuous_update=True, layout=widgets.Layout(width="100%"))
        self.toggle = widgets.ToggleButtons(options=["v1", "v2"], value=variant,
                                            description="variant",
                                            tooltips=["block35 v1 (facenet)",
                                                      "block35 v2 (slim)"])
        self.text = widgets.Text(placeholder="type a scale, e.g. 0.17", description="or type",
                                 continuous_update=False, layout=widgets.Layout(width="420px"))
        self.error = widgets.HTML()
        self.image = AltImage(format="png", layout=widgets.Layout(width="100%"))
        for w, cls in ((self.readout, "scale-readout"), (self.engine, "scale-engine"),
                       (self.slider, "scale-slider"), (self.toggle, "scale-variant"),
                       (self.text, "scale-text"), (self.error, "scale-error"),
                       (self.image, "scale-plot")):
            w.add_class(cls)
        super().__init__([self.style, self.readout, self.slider,
                          widgets.HBox([self.toggle, self.text]), self.error, self.image,
                          self.engine],
                         layout=widgets.Layout(width="100%"))
        self.add_class("classroom-app")
        self.update(start)
        self.slider.observe(lambda change: self.update(change["new"]), names="value")
        self.text.observe(lambda change: self._typed(change["new"]), names="value")
        self.toggle.observe(lambda change: self.switch(change["new"]), names="value")

    def _pane(self, variant: str) -> tuple:
        """(sweep, frame) of ``variant``, made on first use and then kept."""
        if variant not in self._panes:
            sweep = _numpy_scale_sweep(variant, SLIDER_SCALES)  # the variant: checked at entry
            self._panes[variant] = (sweep, ClassroomFrames(sweep))
            self.frames_built += 1
        return self._panes[variant]

    @property
    def sweep(self):
        """The sweep (0.00 .. 1.00) of the variant on show."""
        return self._pane(self.variant)[0]

    def _show(self, value: float) -> None:
        """Draw the numbers and the figure at ``value`` (called by ``update``)."""
        sweep, frame = self._pane(self.variant)
        values = frame.values(value)
        self.readout.value = readout_html(self.variant, value, values)
        with self.image.hold_sync():  # the picture and its alt text in one message
            self.image.tooltip = frame_alt(self.variant, value, values)
            self.image.value = frame.render(value, values)


def classroom_scale_explorer(variant: str = "v1") -> ClassroomScaleExplorer:
    """The scale app for a light kernel: the lesson's block35 ``variant`` by numpy."""
    app = ClassroomScaleExplorer(variant)
    wait_for_request()  # a pool kernel holds here, app built, until a student takes it
    return app


class ClassroomBroadcastPlayground(BroadcastPlayground):
    """The playground with its diagram at full pixel size (1.5x the notebook's)."""

    diagram_density = 1.0


def classroom_broadcast_playground() -> widgets.VBox:
    """The broadcasting playground asking numpy only, with the projector style."""
    playground = ClassroomBroadcastPlayground(tensorflow=False)
    engine = widgets.HTML("Computed in this kernel by numpy (explainer.broadcasting.rule."
                          "explain_broadcast_numpy); TensorFlow is not loaded.")
    engine.add_class("broadcast-engine")
    app = widgets.VBox([widgets.HTML(APP_CSS), playground, engine],
                       layout=widgets.Layout(width="100%"))
    app.add_class("classroom-app")
    app.playground = playground
    wait_for_request()  # a pool kernel holds here, app built, until a student takes it
    return app
