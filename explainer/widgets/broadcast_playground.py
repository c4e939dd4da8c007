"""The broadcasting playground: type (or pick) two shapes, see the rule, the diagram and what
numpy and TensorFlow really say. Errors, including the libraries' own texts, show in the
widget; nothing raises into the notebook.

CSS classes (stable selectors for browser tests): ``shape-a``, ``shape-b`` (the two Text
inputs), ``shape-dims`` (named sizes), ``broadcast-preset``, ``broadcast-explain`` (button),
``broadcast-diagram`` (PNG Image), ``broadcast-result`` (Textarea), ``broadcast-error`` (HTML).
"""

from __future__ import annotations

import html
import time

import ipywidgets as widgets

from ..broadcasting.catalogue import catalogue_shapes
from ..broadcasting.rule import BroadcastExplanation, explain_broadcast, explain_broadcast_numpy
from ..broadcasting.shapes import parse_dims
from .images import AltImage, show_png

UP = "(N, H, W, C)"
DEFAULT_DIMS = "N=2, H=35, W=35, C=256"
DIAGRAM_DPI = 120  # drawn at 1.5x its on-screen size: sharp on projectors


def diagram_alt(e: BroadcastExplanation) -> str:
    """The diagram's alt text, from the explanation: the shapes, each axis's rule, the
    outcome."""
    axes = "; ".join(f"axis {x.axis}: {x.text}" for x in e.axes)
    outcome = f"result {e.result_shape}" if e.compatible else f"incompatible: {e.reason}"
    return (f"Broadcasting diagram, a {e.a} and b {e.b} right-aligned"
            f"{': ' + axes if axes else ''}; {outcome}.")


class BroadcastPlayground(widgets.VBox):
    """An ipywidgets VBox; call :meth:`update` to recompute.

    With ``tensorflow=False`` only numpy is asked (:func:`explain_broadcast_numpy`): the
    widget then never imports TensorFlow, as a light classroom kernel needs.
    """

    diagram_density = DIAGRAM_DPI / 80  # the diagram's pixels per CSS pixel

    def __init__(self, a: str = UP, b: str = "(C,)", dims: str = DEFAULT_DIMS,
                 tensorflow: bool = True):
        if not isinstance(tensorflow, bool):
            raise TypeError(f"tensorflow: got {tensorflow!r}; expected True or False")
        self._explain = explain_broadcast if tensorflow else explain_broadcast_numpy
        self.explanation: BroadcastExplanation | None = None
        self.last_update_ms: float | None = None
        self._holding = False
        self._png_cache: dict[tuple, bytes] = {}  # (a, b) -> diagram: revisits are instant
        presets = [("type your own", None)] + [
            (f"{label}: {UP} * {shape}", shape) for label, shape in catalogue_shapes()]
        self.preset = widgets.Dropdown(options=presets, index=0, description="catalogue",
                                       layout=widgets.Layout(width="520px"))
        self.shape_a = widgets.Text(value=a, description="a", continuous_update=False)
        self.shape_b = widgets.Text(value=b, description="b", continuous_update=False)
        self.dims = widgets.Text(value=dims, description="names", continuous_update=False)
        self.button = widgets.Button(description="Explain", button_style="primary")
        self.image = AltImage(format="png", layout=widgets.Layout(max_width="100%"))
        self.result = widgets.Textarea(value="", disabled=True,
                                       layout=widgets.Layout(width="100%", height="260px"))
        self.error = widgets.HTML(value="")
        for w, cls in ((self.shape_a, "shape-a"), (self.shape_b, "shape-b"),
                       (self.dims, "shape-dims"), (self.preset, "broadcast-preset"),
                       (self.button, "broadcast-explain"), (self.image, "broadcast-diagram"),
                       (self.result, "broadcast-result"), (self.error, "broadcast-error")):
            w.add_class(cls)
        for w in (self.shape_a, self.shape_b, self.dims):
            w.observe(self.update, names="value")
        self.preset.observe(self._on_preset, names="value")
        self.button.on_click(self.update)
        super().__init__([self.preset, widgets.HBox([self.shape_a, self.shape_b]),
                          widgets.HBox([self.dims, self.button]), self.error, self.image,
                          self.result])
        self.add_class("broadcast-playground")
        self.update()

    def _on_preset(self, change) -> None:
        if change["new"] is None:
            return
        self._holding = True
        try:
            self.shape_a.value = UP
            self.shape_b.value = str(tuple(change["new"]))
        finally:
            self._holding = False
        self.update()

    def _show_error(self, title: str, lines: list[str]) -> None:
        body = "<br>".join(f"<code>{html.escape(line)}</code>" for line in lines)
        self.error.value = f"<div style='color:#D55E00'><b>{html.escape(title)}</b><br>{body}</div>"

    def update(self, *_) -> BroadcastExplanation | None:
        """Recompute from the inputs; return the explanation (None when the input is bad)."""
        if self._holding:
            return self.explanation
        start = time.perf_counter()
        try:
            return self._update()
        finally:
            self.last_update_ms = (time.perf_counter() - start) * 1000

    def _update(self) -> BroadcastExplanation | None:
        try:
            e = self._explain(self.shape_a.value, self.shape_b.value,
                              **parse_dims(self.dims.value))
        except (ValueError, TypeError) as err:
            self.explanation, self.result.value, self.image.value = None, "", b""
            self.image.tooltip = "no diagram: the shapes could not be read"
            self._show_error("Cannot read the shapes:", [str(err)])
            return None
        except Exception as err:  # noqa: BLE001 - a widget must never raise into the notebook
            self.explanation, self.result.value, self.image.value = None, "", b""
            self.image.tooltip = "no diagram: the shapes could not be explained"
            self._show_error("Unexpected error:", [f"{type(err).__name__}: {err}"])
            return None
        try:
            key = (e.a, e.b)
            if key not in self._png_cache:
                from ..plots.broadcast import broadcast_diagram_png  # defers matplotlib

                if len(self._png_cache) >= 64:
                    self._png_cache.pop(next(iter(self._png_cache)))
                self._png_cache[key] = broadcast_diagram_png(e, dpi=DIAGRAM_DPI)
            with self.image.hold_sync():  # the diagram and its alt text in one message
                self.image.tooltip = diagram_alt(e)
                show_png(self.image, self._png_cache[key], density=self.diagram_density)
        except Exception as err:  # noqa: BLE001 - keep the text even if drawing fails
            self.image.value, self.image.tooltip = b"", "no diagram: drawing it failed"
            self._show_error("Could not draw the diagram:", [f"{type(err).__name__}: {err}"])
        self.explanation = e
        self.result.value = str(e)
        if e.compatible:
            self.error.value = ""
        else:
            self._show_error(e.reason or "incompatible",
                             [f"{o.library}: {o.message}" for o in e.outcomes])
        return e


def broadcast_playground(a: str = UP, b: str = "(C,)", dims: str = DEFAULT_DIMS,
                         tensorflow: bool = True) -> BroadcastPlayground:
    """The playground widget, showing ``a * b`` (shape texts; names bound by ``dims``);
    ``tensorflow=False`` asks numpy only (no TensorFlow import)."""
    return BroadcastPlayground(a, b, dims, tensorflow)
