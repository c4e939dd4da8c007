"""A static page whose scale slider works: every position computed at build time.

:func:`scale_frames` runs the real (Keras) block35 of the lesson, v1 and v2, once each and
takes the exact sweep (:func:`explainer.scaling.sweep.scale_sweep`) at every slider position
0.00 .. 1.00 (step 0.01): the numbers of each position are one "frame". The page carries one
figure per variant (the curves against the scale, drawn once) and the frames as a small JSON
table; a few lines of inline script move the marker and rewrite the heading and the numbers
when the native ``<input type="range">`` moves (mouse, touch, or the arrow keys). No kernel,
no network: it reads the same from a USB stick.
"""

from __future__ import annotations

import base64
import html
import io
import json

import numpy as np

from ..core.lesson import lesson_setup
from ..core.schedule import BLOCK35_SCALE
from ..plots.sweep import CURVES, draw_sweep, new_figure
from ..scaling.findings import curves_alt, finding, numbers_text
from ..scaling.numpy_sweep import SLIDER_SCALES
from ..scaling.sweep import scale_sweep
from .page_style import STATIC_CSS

VARIANTS = ("v1", "v2")
FONT_SIZES = {"ticks": 15, "labels": 16, "title": 17}
SCALE_CSS = """
#finding { font-size: 28px; font-weight: bold; min-height: 2.6em; margin: 0.4em 0; }
.controls { display: flex; align-items: center; gap: 1em; flex-wrap: wrap; }
#scale { flex: 1; min-width: 300px; height: 36px; accent-color: #0072B2; }
#scale:focus { outline: 3px solid #E69F00; outline-offset: 4px; }
#readout { font-size: 24px; font-weight: bold; min-width: 3em; }
fieldset { border: 2px solid #0072B2; border-radius: 6px; padding: 0.2em 0.8em; }
fieldset label { font-size: 20px; margin-right: 0.8em; }
.figure { position: relative; width: 100%; }
.figure img { width: 100%; height: auto; display: block; }
#line { position: absolute; width: 2px; background: #000; margin-left: -1px; }
.dot { position: absolute; width: 14px; height: 14px; border-radius: 50%;
       margin: -7px 0 0 -7px; border: 2px solid #000; }
"""
# the page's script: a frame per slider position, read from the JSON table
SCRIPT = """
const data = JSON.parse(document.getElementById('frames').textContent);
const slider = document.getElementById('scale');
function show() {
  const variant = document.querySelector('input[name=variant]:checked').value;
  const d = data[variant], f = d.frames[+slider.value];
  const figure = document.getElementById('figure');
  figure.src = d.image; figure.alt = d.alt + ' The marker: ' + f.finding + '.';
  document.getElementById('readout').textContent = f.scale;
  document.getElementById('finding').textContent = f.finding;
  document.getElementById('numbers').textContent = f.numbers;
  const line = document.getElementById('line');
  line.style.left = f.x + '%'; line.style.top = d.top + '%'; line.style.height = d.height + '%';
  f.dots.forEach((y, i) => { const dot = document.getElementById('dot' + i);
    dot.style.left = f.x + '%'; dot.style.top = y + '%'; });
  document.body.dataset.frame = variant + ':' + f.scale;
}
slider.addEventListener('input', show);
document.querySelectorAll('input[name=variant]').forEach(r => r.addEventListener('change', show));
show();
"""


def _curve_figure(sweep) -> tuple[str, object, object]:
    """The curves of ``sweep`` without a marker, as a PNG data URI, plus the figure and axes
    (laid out, so data coordinates map to pixels)."""
    fig = new_figure(12.4, 4.9, dpi=100)
    ax = fig.add_subplot()
    draw_sweep(ax, sweep, choice_labels=False)
    ax.tick_params(labelsize=FONT_SIZES["ticks"])
    ax.xaxis.label.set_size(FONT_SIZES["labels"])
    ax.yaxis.label.set_size(FONT_SIZES["labels"])
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False,
              fontsize=14)
    ax.set_title(f"block35 {sweep.spec.variant}: residual ratio, output change and flipped "
                 "units against the scale s", loc="left", fontsize=FONT_SIZES["title"])
    buffer = io.BytesIO()
    fig.canvas.draw()
    fig.set_layout_engine("none")
    fig.savefig(buffer, format="png", dpi=100)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return uri, fig, ax


def scale_frames(variant: str) -> dict:
    """The figure and the 101 frames of ``variant``, computed by the real Keras block
    (TensorFlow loads here, when the block is first built)."""
    setup = lesson_setup(variant)
    sweep = scale_sweep(setup.block, setup.x, SLIDER_SCALES)
    image, fig, ax = _curve_figure(sweep)
    width, height = fig.canvas.get_width_height()

    def percent(x: float, y: float) -> tuple[float, float]:
        px, py = ax.transData.transform((x, y))
        return round(100 * px / width, 3), round(100 * (1 - py / height), 3)

    (_, y_top), (_, y_bottom) = percent(0, ax.get_ylim()[1]), percent(0, ax.get_ylim()[0])
    frames = []
    for i, s in enumerate(sweep.scales):
        values = sweep.values_at(i)
        x, _ = percent(s, 0)
        dots = [percent(s, 100 * values[key])[1] for key, *_ in CURVES]
        frames.append({"scale": f"{s:.2f}", "x": x, "dots": dots,
                       "finding": finding(variant, float(s), values, space=" "),
                       "numbers": numbers_text(float(s), values),
                       "values": {k: round(v, 8) for k, v in values.items()}})
    return {"image": image, "alt": curves_alt(sweep), "top": y_top,
            "height": round(y_bottom - y_top, 3), "frames": frames}


def scale_page(start: float | None = None) -> str:
    """The whole static page (HTML text) with both variants' frames inside."""
    start = BLOCK35_SCALE if start is None else start
    index = int(np.argmin(np.abs(SLIDER_SCALES - start)))
    data = {v: scale_frames(v) for v in VARIANTS}
    table = json.dumps(data, separators=(",", ":")).replace("</", "<\\/")
    dots = "".join(f'<div class="dot" id="dot{i}" style="background:{colour}"></div>'
                   for i, (_, _, colour, _) in enumerate(CURVES))
    first = data["v1"]["frames"][index]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>What does the scale in net += scale * up do?</title>
<style>{STATIC_CSS}{SCALE_CSS}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<h1>What does the scale in <code>net += scale * up</code> do?</h1>
<p>Inception-ResNet's block35 adds its residual <code>up</code> to the shortcut
<code>net</code>, times a small <code>scale</code> (0.17 in the real networks). Move the slider
(or focus it and use the arrow keys) and watch how big the residual is next to the shortcut,
how much the block's output moves, and how many units switch on or off.</p>
<div id="finding" aria-live="polite">{html.escape(first["finding"])}</div>
<div class="controls">
<label for="scale">scale s</label>
<input type="range" id="scale" min="0" max="{len(SLIDER_SCALES) - 1}" step="1"
 value="{index}" aria-label="residual scale s, in hundredths">
<span id="readout">{first["scale"]}</span>
<fieldset><legend>variant</legend>
<label><input type="radio" name="variant" value="v1" checked> v1</label>
<label><input type="radio" name="variant" value="v2"> v2</label></fieldset>
</div>
<p id="numbers">{html.escape(first["numbers"])}</p>
<div class="figure"><img id="figure"
 alt="{html.escape(data["v1"]["alt"] + " The marker: " + first["finding"] + ".")}"
 src="{data["v1"]["image"]}"><div id="line"></div>{dots}</div>
<p class="engine">Every position was computed when this page was built, by the real Keras
block35 (the lesson's seeded weights and 35×35 input) through the exact scale sweep; this
page runs no Python and loads nothing from the network.</p>
<script type="application/json" id="frames">{table}</script>
<script>{SCRIPT}</script>
</body></html>
"""
