"""The block, explorable without a kernel (``block_explorer.html``): block35 v1 and v2 as a
diagram of the tensors of the real Keras trace (:func:`explainer.core.lesson.lesson_setup`, the
lessons' block and input); click a tensor to see its shape, its statistics and a few of its
channels as images. The tail ``relu(net + s * up)`` is recomputed in the page, in float32 as
the block computes it, for :data:`TAIL_CHANNELS` of the output at any typed scale: a number, or
a vector of one value per channel (a vector of another length gets the broadcasting
playground's own error text, :func:`explainer.site.broadcast_page.rule_script`).

``window.blockTail(variant, scale)`` returns ``{channels, out}``: ``out[k]`` is channel
``channels[k]`` of the block's output, 35 x 35 values row-major; a wrong-length vector throws
the playground's message. The browser test compares it with the Keras block built at each
scale.
"""

from __future__ import annotations

import base64
import html
import io
import json

import numpy as np

from ..core.lesson import lesson_setup
from .broadcast_page import rule_script
from .page_style import STATIC_CSS

VARIANTS = ("v1", "v2")
IMAGE_CHANNELS = 3  # channels of each tensor shown as images: the first, the middle, the last
IMAGE_SCALE = 4  # 35 px maps drawn 140 px wide


def tail_channels(channels: int) -> list[int]:
    """The output channels whose tail the page recomputes: the first two, the middle, the last."""
    return sorted({0, 1, channels // 2, channels - 1})


def _png(plane: np.ndarray) -> str:
    """A 2-D map as a grey PNG data URI (dark = its minimum, light = its maximum)."""
    from PIL import Image

    lo, hi = float(plane.min()), float(plane.max())
    grey = np.zeros(plane.shape, np.uint8) if hi == lo else \
        np.round(255 * (plane - lo) / (hi - lo)).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(grey, "L").save(out, "PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _stats(value: np.ndarray) -> dict:
    v = value.astype(np.float64)
    return {"min": float(v.min()), "max": float(v.max()), "mean": float(v.mean()),
            "std": float(v.std()), "l2": float(np.linalg.norm(v)),
            "zeros": float(np.mean(v == 0))}


def _floats(values: np.ndarray) -> str:
    """float32 values, little-endian, base64."""
    return base64.b64encode(np.ascontiguousarray(values, "<f4").tobytes()).decode()


def variant_data(variant: str) -> dict:
    """The variant's trace as the page shows it: per tensor its shape, code line, statistics
    and a few channels' images; the tail's ``net`` and ``up`` on :func:`tail_channels`."""
    setup = lesson_setup(variant)
    traced = setup.traced
    tensors = []
    for name in traced.names:
        entry = traced[name]
        value = np.asarray(entry.value)
        c = value.shape[-1]
        shown = sorted({0, c // 2, c - 1})[:IMAGE_CHANNELS]
        tensors.append({"name": name, "shape": list(value.shape), "code": entry.code,
                        "scope": entry.scope, "stats": _stats(value),
                        "images": [{"channel": k, "src": _png(value[0, :, :, k]),
                                    "min": float(value[0, :, :, k].min()),
                                    "max": float(value[0, :, :, k].max())} for k in shown]})
    net, up = np.asarray(traced["net"].value), np.asarray(traced["up"].value)
    channels = tail_channels(net.shape[-1])
    return {"variant": variant, "scale": traced.spec.scale, "activation": traced.spec.activation,
            "tensors": tensors, "tail": {
                "shape": list(net.shape), "channels": channels,
                "net": _floats(np.stack([net[0, :, :, k] for k in channels])),
                "up": _floats(np.stack([up[0, :, :, k] for k in channels]))}}


PAGE_CSS = """
.variant-pick label { margin-right: 1.2em; }
.diagram { display: grid; gap: 0.35em; max-width: 56em; margin: 0.6em 0; }
.diagram .row { display: flex; gap: 0.6em; justify-content: center; }
.diagram .branches { align-items: flex-start; }
.diagram .column { display: flex; flex-direction: column; gap: 0.35em; align-items: center;
                   border-left: 3px dotted #999; padding-left: 0.4em; }
.tensor { font: 16px monospace; padding: 0.25em 0.6em; border: 2px solid #555;
          background: #f7f7f7; color: #111; border-radius: 4px; cursor: pointer; }
.tensor small { display: block; font-size: 13px; color: #333; }
.tensor[aria-pressed=true] { background: #FBE3C0; border-color: #9E3A00; }
.tensor:focus, input:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
.arrow { text-align: center; color: #333; font-size: 18px; line-height: 1; }
#detail img, #tail-images canvas { width: 140px; height: 140px; image-rendering: pixelated;
                                   border: 1px solid #555; margin-right: 0.5em; }
#detail pre { white-space: pre-wrap; background: #f2f2f2; padding: 0.3em; }
table.stats td, table.stats th { padding: 0.1em 0.6em; text-align: right; }
#tail-scale { font: 18px monospace; width: 18em; padding: 0.2em; }
.bad { color: #A33A00; } figure { display: inline-block; margin: 0 0.5em 0.5em 0; }
figcaption { font-size: 14px; max-width: 150px; }
"""

PAGE_SCRIPT = r"""
(function () {
const D = JSON.parse(document.getElementById('block-data').textContent);
const $ = id => document.getElementById(id);
const f32 = b64 => { const s = atob(b64), u = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) u[i] = s.charCodeAt(i); return new Float32Array(u.buffer); };
const TAIL = {};
for (const v of Object.keys(D)) { const t = D[v].tail;
  TAIL[v] = {channels: t.channels, shape: t.shape, net: f32(t.net), up: f32(t.up)}; }
const tupleText = s => '(' + s.join(', ') + (s.length === 1 ? ',' : '') + ')';
function blockTail(variant, scale) {
  const t = TAIL[variant];
  if (!t) throw new Error(`variant: got ${JSON.stringify(variant)}; expected one of ` +
                          Object.keys(TAIL).map(v => `'${v}'`).join(', '));
  const c = t.shape[t.shape.length - 1], hw = t.shape[1] * t.shape[2];
  let per;
  if (typeof scale === 'number') per = () => scale;
  else if (Array.isArray(scale)) {
    const said = window.broadcastShape(tupleText(t.shape), tupleText([scale.length]));
    if (!said.startsWith('(') || said !== tupleText(t.shape)) throw new Error(said);
    per = k => scale.length === 1 ? scale[0] : scale[k];
  } else throw new Error(`scale: got ${typeof scale}; expected a number or an array of ` +
                         `one number per channel (${c})`);
  const out = t.channels.map((k, i) => { const s = per(k);
    if (typeof s !== 'number' || !isFinite(s))
      throw new Error(`scale: got ${String(s)} for channel ${k}; expected a finite number`);
    const s32 = Math.fround(s), o = new Array(hw);
    for (let j = 0; j < hw; j++) {
      const sum = Math.fround(t.net[i * hw + j] + Math.fround(s32 * t.up[i * hw + j]));
      o[j] = sum > 0 ? sum : 0; }
    return o; });
  return {channels: t.channels.slice(), out};
}
window.blockTail = blockTail;
const g = x => Number(x).toPrecision(3);
let variant = 'v1', selected = 'up';
function draw() {
  const d = D[variant], diagram = $('diagram'); diagram.textContent = '';
  const button = t => { const b = document.createElement('button'); b.type = 'button';
    b.className = 'tensor'; b.dataset.name = t.name;
    b.setAttribute('aria-pressed', String(t.name === selected));
    b.innerHTML = ''; b.append(t.name); const sm = document.createElement('small');
    sm.textContent = tupleText(t.shape); b.appendChild(sm);
    b.addEventListener('click', () => { selected = t.name; draw(); $('detail').focus(); });
    return b; };
  const arrow = () => { const a = document.createElement('div'); a.className = 'arrow';
    a.setAttribute('aria-hidden', 'true'); a.textContent = '\u2193'; return a; };
  const branch = n => { const m = /^tower_conv(\d?)/.exec(n); return m ? (m[1] || '0') : null; };
  let branches = null;
  d.tensors.forEach(t => { const b = branch(t.name);
    if (b === null) { if (diagram.lastChild) diagram.appendChild(arrow());
      const row = document.createElement('div'); row.className = 'row';
      row.appendChild(button(t)); diagram.appendChild(row); branches = null; return; }
    if (!branches) { diagram.appendChild(arrow()); branches = document.createElement('div');
      branches.className = 'row branches'; diagram.appendChild(branches); branches.cols = {}; }
    if (!branches.cols[b]) { const col = document.createElement('div'); col.className = 'column';
      branches.cols[b] = col; branches.appendChild(col); }
    else branches.cols[b].appendChild(arrow());
    branches.cols[b].appendChild(button(t)); });
  const t = d.tensors.find(x => x.name === selected) || d.tensors[0], s = t.stats;
  $('detail-name').textContent = `${t.name}: shape ${tupleText(t.shape)}` +
    (t.scope ? ` (scope ${t.scope})` : '');
  $('detail-code').textContent = t.code;
  $('detail-stats').innerHTML = '';
  for (const [k, v] of [['min', s.min], ['max', s.max], ['mean', s.mean], ['std', s.std],
                        ['L2 norm', s.l2], ['zeros', (100 * s.zeros).toFixed(1) + ' %']]) {
    const tr = document.createElement('tr'), th = document.createElement('th'),
      td = document.createElement('td'); th.scope = 'row'; th.textContent = k;
    td.textContent = typeof v === 'number' ? g(v) : v; tr.append(th, td);
    $('detail-stats').appendChild(tr); }
  $('detail-images').textContent = '';
  for (const im of t.images) { const fig = document.createElement('figure');
    const img = document.createElement('img'); img.src = im.src;
    img.alt = `channel ${im.channel} of ${t.name} as a 35 by 35 map: dark ${g(im.min)}, ` +
      `light ${g(im.max)}`;
    const cap = document.createElement('figcaption');
    cap.textContent = `channel ${im.channel}: ${g(im.min)} to ${g(im.max)}`;
    fig.append(img, cap); $('detail-images').appendChild(fig); }
  tail();
}
function readScale(text) {
  const s = text.trim();
  if (/^[\[(]/.test(s)) {
    const inner = s.replace(/^[\[(]/, '').replace(/[\])]$/, '').trim();
    const items = inner ? inner.split(',').map(x => x.trim()).filter(x => x !== '') : [];
    const values = items.map(Number);
    if (!items.length || values.some(v => !isFinite(v)))
      throw new Error(`scale: got ${JSON.stringify(text.slice(0, 60))}; expected a number ` +
                      'such as 0.17 or a list of numbers such as [0.1, 0.2, ...]');
    return values; }
  const v = Number(s);
  if (!s || !isFinite(v)) throw new Error(`scale: got ${JSON.stringify(text.slice(0, 60))}; ` +
    'expected a number such as 0.17 or a list of numbers such as [0.1, 0.2, ...]');
  return v;
}
function tail() {
  const box = $('tail-images'); box.textContent = ''; let r;
  try { r = blockTail(variant, readScale($('tail-scale').value)); }
  catch (err) { $('tail-status').textContent = err.message; $('tail-status').className = 'bad';
    return; }
  const words = [];
  r.channels.forEach((k, i) => { const o = r.out[i];
    let lo = Infinity, hi = -Infinity, zeros = 0;
    for (const v of o) { lo = Math.min(lo, v); hi = Math.max(hi, v); zeros += v === 0; }
    const cv = document.createElement('canvas'); cv.width = 35; cv.height = 35;
    const ctx = cv.getContext('2d'), img = ctx.createImageData(35, 35);
    o.forEach((v, j) => { const q = hi > lo ? Math.round(255 * (v - lo) / (hi - lo)) : 0;
      img.data.set([q, q, q, 255], 4 * j); });
    ctx.putImageData(img, 0, 0);
    const say = `channel ${k} of net_out: ${g(lo)} to ${g(hi)}, ` +
      `${(100 * zeros / o.length).toFixed(1)} % zeros`;
    cv.setAttribute('role', 'img'); cv.setAttribute('aria-label', say + ' (dark = low)');
    const fig = document.createElement('figure'), cap = document.createElement('figcaption');
    cap.textContent = say; fig.append(cv, cap); box.appendChild(fig); words.push(say); });
  $('tail-status').textContent = `relu(net + s * up) recomputed here: ` + words.join('; ');
  $('tail-status').className = '';
}
document.querySelectorAll('input[name=variant]').forEach(r => r.addEventListener('change',
  () => { variant = r.value; draw(); }));
$('tail-scale').addEventListener('input', tail);
draw();
})();
"""


def block_page() -> str:
    """The whole page (HTML text): both variants' traces, the diagram, the tail."""
    data = {v: variant_data(v) for v in VARIANTS}
    table = json.dumps(data, allow_nan=False).replace("</", "<\\/")
    v1 = data["v1"]
    channels = ", ".join(map(str, v1["tail"]["channels"]))
    radios = "".join(
        f'<label><input type="radio" name="variant" value="{v}"'
        f'{" checked" if v == "v1" else ""}> block35 {v} ({html.escape(_origin(v))}, '
        f'{data[v]["tail"]["shape"][-1]} channels)</label>' for v in VARIANTS)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>block35, tensor by tensor</title>
<style>{STATIC_CSS}{PAGE_CSS}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<main>
<h1>block35, tensor by tensor: what reaches <code>net += scale * up</code></h1>
<p>The real Keras block (seeded random weights, scale {v1["scale"]:g}, the lessons' input of
ReLU'd noise, seed 0), traced when this page was built. Click a tensor, or Tab to it and
press Enter, to see its shape, its statistics and three of its channels.</p>
<fieldset class="variant-pick"><legend>Variant</legend>{radios}</fieldset>
<div id="diagram" class="diagram" role="group" aria-label="the block's tensors, top to
bottom"></div>
<section id="detail" tabindex="-1" aria-live="polite">
<h2 id="detail-name"></h2>
<pre id="detail-code"></pre>
<table class="stats" aria-label="statistics of the tensor"><tbody id="detail-stats"></tbody>
</table>
<div id="detail-images"></div>
</section>
<section>
<h2>The tail, recomputed in this page</h2>
<p><label for="tail-scale">scale s</label> <input type="text" id="tail-scale" value="0.17"
 spellcheck="false" autocomplete="off"> &mdash; a number, or a list with one value per
channel (<code>[0.1, 0.2, ...]</code>; a list of another length gets the broadcasting
playground's answer). The page computes <code>relu(net + s * up)</code> in float32 from the
trace's <code>net</code> and <code>up</code> for channels {channels} of the output
(v1's; v2's are {", ".join(map(str, data["v2"]["tail"]["channels"]))}).</p>
<p id="tail-status" role="status" aria-live="polite"></p>
<div id="tail-images"></div>
</section>
</main>
<script type="application/json" id="block-data">{table}</script>
<script>{rule_script()}{PAGE_SCRIPT}</script>
</body></html>
"""


def _origin(variant: str) -> str:
    return {"v1": "facenet's Inception-ResNet-v1", "v2": "Inception-ResNet-v2"}[variant]

