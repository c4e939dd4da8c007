"""The why-scale grid, explorable without a kernel (``why_scale_explorer.html``): pick depth,
width, scale, learning rate, seed (and a decomposition arm, where the grid has them) for two
settings and see their loss and dead-fraction curves, fate, test accuracy and the stream's
growth per block at step 0, side by side.

Every stored run of ``results/why_scale.json`` (read through
:func:`explainer.scaling.why_scale.results.load_why_scale_results`) is in the page, compacted
when the page is built: the per-step arrays keep ``digits`` significant figures (6, as the
file stores them, or fewer when a larger grid would pass :data:`PAGE_BUDGET`), a run's
trailing non-numbers (a dead or diverged run's tail) are written once as a length, and the
whole table is gzip-compressed (the browser's own ``DecompressionStream`` opens it). The
grid's axes are read from the file, not written here.

``window.whyScaleRun({depth, width, scale, lr, seed[, up_init, up_lr]})`` returns that run's
per-step arrays under the file's names (``loss``, ``accuracy``, ``dead_fraction``,
``grad_norm``, ``residual_ratio``, and the ``step0_`` arrays), its ``fate`` and its
``test_accuracy``; ``scale`` as stored (a number, ``"rezero"`` or ``"layerscale"``). It is
ready once ``window.whyScaleReady`` (a Promise) resolves.
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import math

from ..scaling.why_scale.experiment import RESULTS_PATH
from ..scaling.why_scale.results import load_why_scale_results, read_results_document
from .page_style import STATIC_CSS

PAGE_BUDGET = 2**20 - 16_384  # bytes: 1 MB, less a margin for the page's own text
STEP_ARRAYS = ("loss", "accuracy", "dead_fraction", "grad_norm", "residual_ratio")
STEP0_ARRAYS = ("step0_grad_norm", "step0_residual_ratio", "step0_net_norm")
SCALARS = ("depth", "width", "scale", "lr", "seed", "up_init", "up_lr", "test_accuracy",
           "died_step", "diverged_step", "stopped_step")


def rounded(value: object, digits: int) -> float | None:
    """``value`` to ``digits`` significant figures; None for a missing or non-finite one."""
    if value is None or isinstance(value, bool):
        return None
    value = float(value)
    return float(f"{value:.{digits}g}") if math.isfinite(value) else None


def compact_run(record: dict, run, multipliers: tuple[float, float], digits: int) -> dict:
    """One run as the page stores it: its setting, fate and arrays, rounded; the arrays'
    trailing non-numbers dropped (``n`` says how long the per-step arrays are)."""
    out: dict = {}
    for name in SCALARS:
        value = record.get(name)
        if name in ("up_init", "up_lr"):
            value = multipliers[name == "up_lr"]
        if isinstance(value, float) and not math.isfinite(value):
            value = None
        out[name] = value
    out["fate"] = run.fate
    n = len(record["loss"])
    out["n"] = n
    for name in STEP_ARRAYS + STEP0_ARRAYS:
        values = [rounded(v, digits) for v in record[name]]
        while values and values[-1] is None:
            values.pop()
        out[name] = values
    return out


def grid_table(digits: int, path=None) -> dict:
    """Every stored run, compacted, with the grid's axes as the file gives them."""
    path = RESULTS_PATH if path is None else path
    results = load_why_scale_results(path)
    records = read_results_document(path)["runs"]
    runs = [compact_run(rec, run, mult, digits) for rec, run, mult
            in zip(records, results.runs, results.multipliers, strict=True)]
    arms = sorted({(r["up_init"], r["up_lr"]) for r in runs})
    return {"digits": digits, "axes": {
        "depth": list(results.depths), "width": list(results.widths),
        "scale": list(results.scales), "lr": list(results.lrs), "seed": list(results.seeds),
        "arm": [list(a) for a in arms]},
        "steps": results.config.steps, "runs": runs}


def packed(table: dict) -> str:
    """The table as base64 of gzip'd strict JSON."""
    text = json.dumps(table, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(gzip.compress(text.encode(), 9, mtime=0)).decode()


PAGE_CSS = """
fieldset { display: inline-block; vertical-align: top; margin: 0 1em 1em 0;
           border: 2px solid #555; padding: 0.4em 1em; }
legend { font-weight: bold; } fieldset label { display: inline-block; min-width: 5.5em; }
select { font: 17px sans-serif; margin: 0.15em 0; }
select:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
.setting-a legend, .key-a { color: #005A8C; } .setting-b legend, .key-b { color: #9E3A00; }
table.summary { border-collapse: collapse; margin: 0.5em 0; }
table.summary th, table.summary td { border: 1px solid #999; padding: 0.2em 0.6em;
                                     text-align: left; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
figure { margin: 0; } figcaption { font-size: 16px; max-width: 400px; }
svg text { font: 13px sans-serif; fill: #111; }
"""

PAGE_SCRIPT = r"""
(function () {
const packedRuns = document.getElementById('runs').textContent.trim();
let T = null, INDEX = null;
const keyOf = r => JSON.stringify([r.depth, r.width, r.scale, r.lr, r.seed,
  r.up_init === undefined ? 1 : r.up_init, r.up_lr === undefined ? 1 : r.up_lr]);
async function open() {
  const bytes = Uint8Array.from(atob(packedRuns), c => c.charCodeAt(0));
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
  T = JSON.parse(await new Response(stream).text());
  INDEX = new Map(T.runs.map(r => [keyOf(r), r]));
}
const STEP = __STEP__, STEP0 = __STEP0__;
function run(setting) {
  if (!T) throw new Error('the runs are still opening: await window.whyScaleReady');
  const r = INDEX.get(keyOf(setting));
  if (!r) throw new Error('no stored run with ' + JSON.stringify(setting) + '; the grid has ' +
    Object.entries(T.axes).map(([k, v]) => k + ' ' + JSON.stringify(v)).join(', '));
  const out = {};
  for (const k of ['depth', 'width', 'scale', 'lr', 'seed', 'up_init', 'up_lr', 'fate',
                   'test_accuracy', 'died_step', 'diverged_step', 'stopped_step'])
    out[k] = r[k];
  for (const k of STEP) out[k] = r[k].concat(Array(r.n - r[k].length).fill(null));
  for (const k of STEP0) out[k] = r[k].slice();
  return out;
}
window.whyScaleRun = run;
const fmt = (x, d = 3) => x === null || x === undefined ? 'n/a' : Number(x).toPrecision(d);
const NS = 'http://www.w3.org/2000/svg';
function el(tag, attrs, parent) { const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e); return e; }
const W = 400, H = 230, L = 62, R = 12, TOP = 12, B = 40;
function chart(svg, series, opts) {
  svg.textContent = ''; el('rect', {x: 0, y: 0, width: W, height: H, fill: '#fff'}, svg);
  const all = series.flatMap(s => s.values.filter(v => v !== null && isFinite(v) &&
    (!opts.log || v > 0)));
  if (!all.length) { el('text', {x: 20, y: H / 2}, svg).textContent = 'no finite values';
    return; }
  let lo = opts.min !== undefined ? opts.min : Math.min(...all);
  let hi = opts.max !== undefined ? opts.max : Math.max(...all);
  const f = v => opts.log ? Math.log10(v) : v;
  let a = f(lo), b = f(hi); if (a === b) { a -= 0.5; b += 0.5; }
  const n = Math.max(...series.map(s => s.values.length)), xs = Math.max(n - 1, 1);
  const X = i => L + (W - L - R) * i / xs;
  const Y = v => TOP + (H - TOP - B) * (1 - (f(v) - a) / (b - a));
  el('line', {x1: L, y1: H - B, x2: W - R, y2: H - B, stroke: '#333'}, svg);
  el('line', {x1: L, y1: TOP, x2: L, y2: H - B, stroke: '#333'}, svg);
  for (const v of [lo, hi]) {
    const t = el('text', {x: L - 4, y: Y(v) + 4, 'text-anchor': 'end'}, svg);
    t.textContent = fmt(v, 2); }
  el('text', {x: (L + W) / 2, y: H - 8, 'text-anchor': 'middle'}, svg).textContent = opts.x;
  el('text', {x: L, y: H - B + 16, 'text-anchor': 'middle'}, svg).textContent = '0';
  el('text', {x: W - R, y: H - B + 16, 'text-anchor': 'middle'}, svg).textContent = String(n - 1);
  for (const s of series) { let d = '';
    s.values.forEach((v, i) => { if (v === null || !isFinite(v) || (opts.log && v <= 0)) return;
      const y = Y(Math.min(Math.max(v, lo), hi));
      d += (d ? ' L' : 'M') + X(i).toFixed(1) + ' ' + y.toFixed(1); });
    el('path', {d, fill: 'none', stroke: s.colour, 'stroke-width': 2.5,
                'stroke-dasharray': s.dash || ''}, svg); }
}
const FIELDS = ['depth', 'width', 'scale', 'lr', 'seed', 'arm'];
function chosen(side) { const s = {};
  for (const k of FIELDS) { const v = JSON.parse(document.getElementById(`${side}-${k}`).value);
    if (k === 'arm') { s.up_init = v[0]; s.up_lr = v[1]; } else s[k] = v; }
  return s; }
const label = s => `depth ${s.depth}, width ${s.width}, scale ${s.scale}, lr ${s.lr}, seed ` +
  `${s.seed}` + (s.up_init !== 1 || s.up_lr !== 1 ?
                 `, up_init ${s.up_init}, up_lr ${s.up_lr}` : '');
function growth(r) {
  return r.step0_net_norm.map(v => v === null ? null : v / r.step0_net_norm[0]); }
function lastFinite(a) {
  for (let i = a.length - 1; i >= 0; i--) if (a[i] !== null) return [a[i], i];
  return [null, -1]; }
function describe(name, s, r) {
  if (!r) return `${name} (${label(s)}): no stored run for this setting.`;
  const [loss, at] = lastFinite(r.loss), g = growth(r);
  const death = r.fate === 'died' ? ` at step ${r.died_step}` :
    r.fate === 'diverged' ? ` at step ${r.diverged_step}` : '';
  return `${name} (${label(s)}): ${r.fate}${death}, test accuracy ${fmt(r.test_accuracy)}, ` +
    `loss ${fmt(r.loss[0])} at step 0 and ${fmt(loss)} at step ${at}, dead fraction at the ` +
    `end ${fmt(lastFinite(r.dead_fraction)[0])}, growth over the ${g.length - 1} blocks at ` +
    'step 0 ' +
    `${fmt(g[g.length - 1])}x`;
}
function update() {
  const got = {};
  for (const side of ['a', 'b']) { const s = chosen(side);
    try { got[side] = [s, run(s)]; } catch (err) { got[side] = [s, null]; } }
  const rows = [['fate', r => r.fate + (r.fate === 'died' ? ` at step ${r.died_step}` :
                  r.fate === 'diverged' ? ` at step ${r.diverged_step}` : '')],
    ['test accuracy', r => fmt(r.test_accuracy)], ['last loss', r => fmt(lastFinite(r.loss)[0])],
    ['dead fraction at the end', r => fmt(lastFinite(r.dead_fraction)[0])],
    ['growth ||net_L|| / ||net_0|| at step 0', r => fmt(growth(r).slice(-1)[0]) + 'x']];
  const body = document.getElementById('summary-body'); body.textContent = '';
  for (const [name, f] of rows) { const tr = document.createElement('tr');
    const th = document.createElement('th'); th.scope = 'row'; th.textContent = name;
    tr.appendChild(th);
    for (const side of ['a', 'b']) { const td = document.createElement('td');
      td.textContent = got[side][1] ? f(got[side][1]) : 'no stored run'; tr.appendChild(td); }
    body.appendChild(tr); }
  const words = ['a', 'b'].map(side => describe(side === 'a' ? 'Setting A' : 'Setting B',
                                                   ...got[side]));
  document.getElementById('status').textContent = words.join('. ') + '.';
  const series = (k, f) => ['a', 'b'].filter(side => got[side][1]).map(side => ({
    values: f ? f(got[side][1]) : got[side][1][k], colour: side === 'a' ? '#0072B2' : '#D55E00',
    dash: side === 'a' ? '' : '7 4'}));
  const specs = [['loss', 'training loss per step (log scale)', {log: true, x: 'step'}],
    ['dead', 'dead fraction of the last block per step', {min: 0, max: 1, x: 'step'}],
    ['growth', '||net|| after each block / ||net|| before block 1, at step 0 (log scale)',
     {log: true, x: 'block'}]];
  for (const [id, title, opts] of specs) {
    const svg = document.getElementById(`chart-${id}`);
    const s = id === 'loss' ? series('loss') : id === 'dead' ? series('dead_fraction') :
      series(null, growth);
    chart(svg, s, opts);
    const lines = ['a', 'b'].filter(side => got[side][1]).map(side => {
      const r = got[side][1];
      const v = id === 'loss' ? r.loss : id === 'dead' ? r.dead_fraction : growth(r);
      const [last, at] = lastFinite(v);
      return `${side === 'a' ? 'A (blue, solid)' : 'B (orange, dashed)'} from ${fmt(v[0])} ` +
        `to ${fmt(last)} at ${id === 'growth' ? 'block' : 'step'} ${at}`; });
    svg.setAttribute('aria-label', `${title}: ${lines.join('; ') || 'no stored run'}`);
  }
}
function fill() {
  const show = (k, v) => k === 'arm' ? (v[0] === 1 && v[1] === 1 ? 'none (the grid)' :
    `up_init ${v[0]}, up_lr ${v[1]}`) : String(v);
  for (const side of ['a', 'b']) for (const k of FIELDS) {
    const sel = document.getElementById(`${side}-${k}`);
    for (const v of T.axes[k]) { const o = document.createElement('option');
      o.value = JSON.stringify(v); o.textContent = show(k, v); sel.appendChild(o); }
    sel.addEventListener('change', update); }
  const pick = (side, k, v) => { const sel = document.getElementById(`${side}-${k}`);
    const want = JSON.stringify(v);
    if ([...sel.options].some(o => o.value === want)) sel.value = want; };
  const deepest = T.axes.depth[T.axes.depth.length - 1];
  for (const side of ['a', 'b']) { pick(side, 'depth', deepest); pick(side, 'arm', [1, 1]);
    pick(side, 'width', T.axes.width[0]);
    pick(side, 'lr', T.axes.lr[Math.floor(T.axes.lr.length / 2)]); }
  pick('a', 'scale', 1); pick('b', 'scale', 0.1);
  update();
}
window.whyScaleReady = open().then(fill).catch(err => {
  document.getElementById('status').textContent = 'This browser cannot open the stored runs ' +
    '(it lacks DecompressionStream): ' + err; throw err; });
})();
"""


def why_scale_page(path=None) -> str:
    """The whole page, its runs compacted to the most significant figures (6, 5, 4 or 3)
    that keep it within :data:`PAGE_BUDGET`."""
    for digits in (6, 5, 4, 3):
        page = _page(grid_table(digits, path))
        if len(page.encode()) <= PAGE_BUDGET:
            return page
    raise ValueError(f"the why-scale results do not fit a {PAGE_BUDGET:,}-byte page even at "
                     "3 significant figures; store fewer runs or raise the budget")


def _page(table: dict) -> str:
    axes = table["axes"]
    script = (PAGE_SCRIPT.replace("__STEP__", json.dumps(list(STEP_ARRAYS)))
              .replace("__STEP0__", json.dumps(list(STEP0_ARRAYS))))
    names = {"depth": "depth", "width": "width", "scale": "scale", "lr": "learning rate",
             "seed": "seed", "arm": "up conv (arm)"}
    fields = "".join(
        f'<fieldset class="setting-{side}"><legend>Setting {side.upper()}</legend>' + "".join(
            f'<div><label for="{side}-{k}">{html.escape(v)}</label> '
            f'<select id="{side}-{k}"></select></div>' for k, v in names.items())
        + "</fieldset>" for side in ("a", "b"))
    n_runs = len(table["runs"])
    arms = [a for a in axes["arm"] if a != [1.0, 1.0]]
    arm_note = (f" The decomposition arms ({len(arms)} of them: a smaller start "
                "<code>up_init</code>, a slower step <code>up_lr</code> of every block's "
                "<code>up</code> conv) exist only where the grid ran them; elsewhere the page "
                "says there is no stored run." if arms else "")
    charts = "".join(
        f'<figure><svg id="chart-{k}" role="img" width="400" height="230" '
        f'viewBox="0 0 400 230" aria-label="{html.escape(t)}"></svg>'
        f"<figcaption>{html.escape(t)}</figcaption></figure>"
        for k, t in (("loss", "Training loss per step (log scale)"),
                     ("dead", "Dead fraction of the last block per step"),
                     ("growth", "Growth of the stream per block at step 0 (log scale)")))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Why scale? Every stored run of the grid</title>
<style>{STATIC_CSS}{PAGE_CSS}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<main>
<h1>Why scale? Pick a setting, see how its training went</h1>
<p>Each of the {n_runs} runs of the why-scale experiment (<code>results/why_scale.json</code>,
trained with <code>make experiment</code>; notebook 06 reads it) is in this page: pick depth,
width, scale, learning rate and seed for two settings and compare their curves.{arm_note}
The curves keep {table["digits"]} significant figures of the stored numbers. Stored runs, not
live training: a browser trains a deep trunk far too slowly.</p>
<div>{fields}</div>
<p id="status" role="status" aria-live="polite">Opening the stored runs...</p>
<table class="summary"><thead><tr><th scope="col">run</th>
<th scope="col" class="key-a">Setting A (blue, solid)</th>
<th scope="col" class="key-b">Setting B (orange, dashed)</th></tr></thead>
<tbody id="summary-body"></tbody></table>
<div class="charts">{charts}</div>
</main>
<script type="application/octet-stream" id="runs">{packed(table)}</script>
<script>{script}</script>
</body></html>
"""
