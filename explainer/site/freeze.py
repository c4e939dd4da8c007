"""Freeze ipywidgets into plain HTML for static pages: images as real ``<img>``, no scripts.

A notebook executed by nbclient (``store_widget_state=True``) keeps each widget's last state in
``nb.metadata.widgets``, with binary buffers (an ``Image`` widget's PNG) base64-encoded. A
static page would need CDN scripts to draw those widgets; instead each widget view output is
replaced by an HTML snapshot of the same tree: boxes, images, HTML, labels, slider positions,
text fields and Output widgets' outputs. Controls are shown disabled: a snapshot, not an app.
"""

from __future__ import annotations

import html
from collections.abc import Callable

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BOXES = {"VBoxModel": "column", "BoxModel": "column", "HBoxModel": "row",
         "GridBoxModel": "row", "TabModel": "column", "AccordionModel": "column",
         "StackModel": "column"}


def _classes(state: dict, extra: str) -> str:
    names = [extra, *state.get("_dom_classes", [])]
    return html.escape(" ".join(n for n in names if n), quote=True)


def _text(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _joined(value: str | list[str]) -> str:
    """An output's data as one string: nbformat keeps multi-line text as a list of lines."""
    return value if isinstance(value, str) else "".join(value)


class Snapshot:
    """Render widget models, looked up by id in an executed notebook's widget state."""

    def __init__(self, models: dict[str, dict]):
        self.models = models

    def render(self, model_id: str, depth: int = 0) -> str:
        """HTML for the widget ``model_id`` and its children (unknown widgets say so)."""
        model = self.models.get(model_id)
        if model is None or depth > 32:
            return '<div class="static-widget-missing">(an interactive widget: open this ' \
                   "notebook in JupyterLab or Voilà to use it)</div>"
        name = model.get("model_name", "")
        state = dict(model.get("state", {}))
        for buf in model.get("buffers", []):  # binary values, e.g. an Image's PNG
            if buf.get("path") and buf.get("encoding") == "base64":
                state[buf["path"][0]] = ("base64", buf["data"])
        if name in BOXES:
            return self._box(state, BOXES[name], depth)
        renderer = _RENDERERS.get(name)
        if renderer is None:
            return (f'<div class="{_classes(state, "static-widget")}">({_text(name)}: '
                    "interactive only)</div>")
        return renderer(self, state, depth)

    def _box(self, state: dict, direction: str, depth: int) -> str:
        titles = state.get("titles") or state.get("_titles") or []
        parts = []
        for i, child in enumerate(state.get("children", [])):
            title = titles[i] if isinstance(titles, list) and i < len(titles) else None
            head = f"<h4>{_text(title)}</h4>" if title else ""
            parts.append(head + self.render(child.removeprefix("IPY_MODEL_"), depth + 1))
        style = f"display:flex;flex-direction:{direction};gap:8px;flex-wrap:wrap"
        return f'<div class="{_classes(state, "static-box")}" style="{style}">' \
               + "".join(parts) + "</div>"

    def outputs(self, outputs: list[dict], depth: int) -> str:
        """HTML for notebook outputs (an Output widget's, or a cell's)."""
        parts = []
        for out in outputs:
            data = out.get("data", {})
            if out.get("output_type") == "stream":
                parts.append(f"<pre>{_text(out.get('text', ''))}</pre>")
            elif out.get("output_type") == "error":
                parts.append(f"<pre>{_text(out.get('ename'))}: {_text(out.get('evalue'))}</pre>")
            elif WIDGET_VIEW in data:
                parts.append(self.render(data[WIDGET_VIEW].get("model_id", ""), depth + 1))
            elif "image/png" in data:
                parts.append(_img("png", data["image/png"]))
            elif "image/svg+xml" in data:
                parts.append(_joined(data["image/svg+xml"]))
            elif "text/html" in data:
                parts.append(_joined(data["text/html"]))
            elif "text/plain" in data:
                parts.append(f"<pre>{_text(data['text/plain'])}</pre>")
        return "".join(parts)


def _img(fmt: str, b64: str, width: object = None, classes: str = "",
         alt: str = "figure") -> str:
    size = f' width="{html.escape(str(width))}"' if width not in (None, "") else ""
    mime = "svg+xml" if fmt == "svg" else fmt
    return (f'<img class="{classes or "static-figure"}" alt="{html.escape(alt)}"{size} '
            f'src="data:image/{mime};base64,{b64.strip()}">')


def _image(snap: Snapshot, state: dict, depth: int) -> str:
    value = state.get("value")
    if not (isinstance(value, tuple) and value[0] == "base64"):
        return f'<div class="{_classes(state, "static-image")}">(image not stored)</div>'
    fmt = str(state.get("format", "png")).lower()
    return (f'<div class="{_classes(state, "static-image")}">'
            f'{_img(fmt, value[1], state.get("width"), alt=_alt(state))}</div>')


def _alt(state: dict) -> str:
    """An image widget's text alternative: its tooltip (an ``AltImage`` writes it from the
    numbers it shows), else the word "figure"."""
    tooltip = state.get("tooltip")
    return tooltip if isinstance(tooltip, str) and tooltip.strip() else "figure"


def _html(snap: Snapshot, state: dict, depth: int) -> str:
    return f'<div class="{_classes(state, "static-html")}">{state.get("value", "")}</div>'


def _label(snap: Snapshot, state: dict, depth: int) -> str:
    return f'<div class="{_classes(state, "static-label")}">{_text(state.get("value"))}</div>'


def _slider(snap: Snapshot, state: dict, depth: int) -> str:
    value = state.get("value")
    shown = value if not isinstance(value, float) else f"{value:g}"
    attrs = " ".join(f'{k}="{html.escape(str(state[k]))}"' for k in ("min", "max", "step")
                     if state.get(k) is not None)
    return (f'<label class="{_classes(state, "static-slider")}">{_text(state.get("description"))}'
            f' <input type="range" {attrs} value="{_text(value)}" disabled> '
            f"<b>{_text(shown)}</b></label>")


def _text_input(snap: Snapshot, state: dict, depth: int) -> str:
    return (f'<label class="{_classes(state, "static-text")}">{_text(state.get("description"))}'
            f' <input type="text" value="{_text(state.get("value"))}" disabled></label>')


def _textarea(snap: Snapshot, state: dict, depth: int) -> str:
    style = "font-family:'DejaVu Sans Mono',monospace;white-space:pre;overflow-x:auto"
    return (f'<pre class="{_classes(state, "static-textarea")}" style="{style}">'
            f'{_text(state.get("value"))}</pre>')


def _choice(snap: Snapshot, state: dict, depth: int) -> str:
    labels, index = state.get("_options_labels", []), state.get("index")
    chosen = labels[index] if isinstance(index, int) and 0 <= index < len(labels) else "-"
    options = ", ".join(map(str, labels))
    more = f" <small>(of {_text(options)})</small>" if len(options) <= 80 else ""
    return (f'<div class="{_classes(state, "static-choice")}">{_text(state.get("description"))}'
            f" <b>{_text(chosen)}</b>{more}</div>")


def _checkbox(snap: Snapshot, state: dict, depth: int) -> str:
    mark = "&#9745;" if state.get("value") else "&#9744;"
    return f'<div class="{_classes(state, "static-check")}">{mark} ' \
           f"{_text(state.get('description'))}</div>"


def _button(snap: Snapshot, state: dict, depth: int) -> str:
    return f'<button class="{_classes(state, "static-button")}" disabled>' \
           f"{_text(state.get('description'))}</button>"


def _output(snap: Snapshot, state: dict, depth: int) -> str:
    return f'<div class="{_classes(state, "static-output")}">' \
           f"{snap.outputs(state.get('outputs', []), depth)}</div>"


_RENDERERS: dict[str, Callable[[Snapshot, dict, int], str]] = {
    "ImageModel": _image, "HTMLModel": _html, "HTMLMathModel": _html, "LabelModel": _label,
    "OutputModel": _output, "CheckboxModel": _checkbox, "ButtonModel": _button,
    "TextModel": _text_input, "TextareaModel": _textarea, "FloatTextModel": _text_input,
    "IntTextModel": _text_input, "BoundedFloatTextModel": _text_input,
    "BoundedIntTextModel": _text_input,
    **{m: _slider for m in ("FloatSliderModel", "IntSliderModel", "FloatLogSliderModel",
                            "FloatRangeSliderModel", "IntRangeSliderModel")},
    **{m: _choice for m in ("DropdownModel", "ToggleButtonsModel", "RadioButtonsModel",
                            "SelectModel", "SelectionSliderModel")},
}


IMAGE_MIMES = ("image/png", "image/jpeg", "image/svg+xml")


def _widget_images(models: dict[str, dict], model_id: str, depth: int = 0) -> int:
    model = models.get(model_id)
    if model is None or depth > 32:
        return 0
    state = model.get("state", {})
    if model.get("model_name") == "ImageModel":
        return int(any(b.get("path") == ["value"] and b.get("data")
                       for b in model.get("buffers", [])))
    children = [c.removeprefix("IPY_MODEL_") for c in state.get("children", [])]
    count = sum(_widget_images(models, c, depth + 1) for c in children)
    return count + _output_images(models, state.get("outputs", []), depth + 1)


def _output_images(models: dict[str, dict], outputs: list, depth: int = 0) -> int:
    count = 0
    for out in outputs:
        data = out.get("data", {})
        if any(m in data for m in IMAGE_MIMES):
            count += 1
        elif WIDGET_VIEW in data:
            count += _widget_images(models, data[WIDGET_VIEW].get("model_id", ""), depth)
    return count


def count_figures(nb) -> int:
    """Images an executed notebook shows: image outputs, and non-empty Image widgets inside
    its widget views (counted from the stored state, before :func:`freeze_widgets`)."""
    models = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return sum(_output_images(models, cell.get("outputs", [])) for cell in nb.cells)


def freeze_widgets(nb) -> int:
    """Replace every widget view output of ``nb`` by its static HTML snapshot, in place.

    Drops the notebook's widget state afterwards, so an exporter adds no widget scripts.
    Returns how many widget views were frozen.
    """
    store = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    snap = Snapshot(store.get("state", {}))
    frozen = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if WIDGET_VIEW in data:
                model_id = data[WIDGET_VIEW].get("model_id", "")
                out["data"] = {"text/html": f'<div class="static-widget-view">'
                                            f"{snap.render(model_id)}</div>",
                               "text/plain": "(interactive widget, shown as a snapshot)"}
                frozen += 1
    nb.metadata.pop("widgets", None)
    return frozen


FIGURE_TEXT = "Figure: "  # how explainer.plots.describe_figure's text/plain starts


def figures_with_alt(nb) -> int:
    """Give each figure output whose ``text/plain`` describes it (``explainer.plots``' figures
    in a kernel) an ``<img>`` with that description as its ``alt``, in place: nbconvert's
    own ``<img>`` carries no alt text. Returns how many figures got one."""
    done = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            text = _joined(data.get("text/plain", ""))
            if "image/png" in data and text.startswith(FIGURE_TEXT):
                png = _joined(data["image/png"])
                out["data"] = {"text/html": _img("png", png, alt=text[len(FIGURE_TEXT):]),
                               "text/plain": text}
                done += 1
    return done
