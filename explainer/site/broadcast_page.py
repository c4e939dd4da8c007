"""A static broadcasting playground: type two shapes, the page applies the rule axis by axis.

A few lines of inline script (:data:`RULE_SCRIPT`) parse shape text as
:func:`explainer.broadcasting.shapes.parse_shape` does (without named sizes), apply the rule
right-aligned and say the result in the Python explainer's own words: the per-axis texts of
:class:`~explainer.broadcasting.rule.AxisRule` (``equal (35)``, ``b: missing counts as 1 ->
2``, ``3 vs 35: mismatch``) and the reason of
:class:`~explainer.broadcasting.rule.BroadcastExplanation` (``(2, 35) and (3,) do not
broadcast: axis 1 (from the right -1) has 35 vs 3, neither is 1``). The rule's words and
limits are written into the script from the Python modules, so the two cannot drift apart in
wording; the browser tests compare the two on random shapes and with numpy.

``window.broadcastShape(aText, bText)`` returns the result shape as text (``"(2, 35, 35,
256)"``) or a sentence that does not start with "(": ``incompatible: <the reason>`` (as the
explainer prints it) or, for malformed text, what is wrong with it and what is expected.
``window.broadcastExplain`` returns every axis too. No kernel, no network.
"""

from __future__ import annotations

import html
import json

from ..broadcasting.catalogue import catalogue_shapes
from ..broadcasting.rule import RULE_EQUAL, RULE_MISMATCH, RULE_MISSING, RULE_STRETCH
from ..broadcasting.shapes import MAX_DIM, MAX_ELEMENTS, MAX_RANK
from .page_style import STATIC_CSS

UP = (2, 35, 35, 256)
# Python's str.strip() and re's \s strip these (str.isspace); JavaScript's trim() differs
PY_SPACES = "".join(chr(c) for c in range(0x3000 + 1) if chr(c).isspace())

RULE_SCRIPT = """
const fmt = s => '(' + s.join(', ') + (s.length === 1 ? ',' : '') + ')';
const isSpace = c => W.spaces.includes(c);
function strip(t) { let i = 0, j = t.length;
  while (i < j && isSpace(t[i])) i++; while (j > i && isSpace(t[j - 1])) j--;
  return t.slice(i, j); }
const quote = t => JSON.stringify(t).length > 60 ? JSON.stringify(t).slice(0, 45) + '...'
  : JSON.stringify(t);
function item(token, text, name) {
  token = strip(token);
  if (/^[0-9]+$/.test(token)) {
    const v = BigInt(token);
    if (token.replace(/^0+/, '').length > 19 || v > W.maxDim)
      throw `${name}: got ${quote(text)}; the size ${quote(token)} is too large, ` +
        `expected at most ${W.maxDim}`;
    return v; }
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(token))
    throw `${name}: got ${quote(text)}; the name ${quote(token)} is not bound; this page ` +
      'takes sizes only, e.g. (2, 35, 35, 256)';
  throw `${name}: got ${quote(text)}: ${token ? quote(token) : 'an empty size'} is not a ` +
    `whole number >= 0; expected e.g. ${W.examples}`;
}
function parse(text, name) {
  if (typeof text !== 'string') throw `${name}: expected shape text such as ${W.examples}`;
  let s = strip(text);
  if (!s) throw `${name}: got an empty text; expected e.g. ${W.examples}`;
  if (s[0] === '(' || s[0] === '[') {
    const close = s[0] === '(' ? ')' : ']', inner = s.slice(1, -1);
    if (s.length < 2 || s[s.length - 1] !== close || /[()[\\]]/.test(inner))
      throw `${name}: got ${quote(text)}; brackets do not match, expected e.g. ${W.examples}`;
    s = strip(inner);
    if (!s) return [];
  }
  let tokens;
  if (s.includes(',')) {
    tokens = s.split(',');
    if (tokens.length > 1 && strip(tokens[tokens.length - 1]) === '') tokens.pop();
  } else {
    const sp = '[' + W.spaces + ']*', pieces = s.split(new RegExp(sp + '[x\\u00d7]' + sp));
    tokens = pieces.every(p => /^[0-9]+$/.test(p)) ? pieces : [s];
  }
  const shape = tokens.map(t => item(t, text, name));
  if (shape.length > W.maxRank)
    throw `${name}: got ${shape.length} dimensions in ${quote(text)}; expected at most ` +
      `${W.maxRank}`;
  return shape;
}
function span(shape, name) {
  const n = shape.reduce((p, d) => p * (d > 1n ? d : 1n), 1n);
  if (n > W.maxElements)
    throw `${name}: shape ${fmt(shape)} spans ${Number(n).toPrecision(3)} elements; numpy ` +
      `and TensorFlow index at most ${W.maxElements} (2**63 - 1)`;
}
function explain(aText, bText) {
  let a, b;
  try { a = parse(aText, 'a'); b = parse(bText, 'b'); span(a, 'a'); span(b, 'b'); }
  catch (err) { return {ok: false, error: String(err), axes: []}; }
  const rank = Math.max(a.length, b.length), axes = [];
  const pa = Array(rank - a.length).fill(null).concat(a);
  const pb = Array(rank - b.length).fill(null).concat(b);
  for (let i = 0; i < rank; i++) {
    const x = pa[i], y = pb[i];
    let rule, result = null, side = null;
    if (x === null || y === null) { rule = W.missing; result = x === null ? y : x;
      side = x === null ? 'a' : 'b'; }
    else if (x === y) { rule = W.equal; result = x; }
    else if (x === 1n || y === 1n) { rule = W.stretch; result = x === 1n ? y : x;
      side = x === 1n ? 'a' : 'b'; }
    else rule = W.mismatch;
    const text = rule === W.mismatch ? `${x} vs ${y}: mismatch`
      : rule === W.equal ? `equal (${result})` : `${side}: ${rule} -> ${result}`;
    axes.push({axis: i, a: x === null ? '-' : String(x), b: y === null ? '-' : String(y),
               result: result === null ? 'X' : String(result), rule, text});
  }
  const bad = axes.filter(x => x.rule === W.mismatch);
  if (bad.length) { const f = bad[bad.length - 1];
    return {ok: false, axes, a: fmt(a), b: fmt(b), reason: `${fmt(a)} and ${fmt(b)} do not ` +
      `broadcast: axis ${f.axis} (from the right ${f.axis - rank}) has ${f.a} vs ${f.b}, ` +
      'neither is 1'}; }
  const shape = axes.map(x => BigInt(x.result));
  try { span(shape, 'a * b'); } catch (err) { return {ok: false, error: String(err), axes}; }
  return {ok: true, axes, a: fmt(a), b: fmt(b), shape: fmt(shape)};
}
window.broadcastExplain = explain;
window.broadcastShape = (aText, bText) => { const e = explain(aText, bText);
  return e.ok ? e.shape : e.reason ? `incompatible: ${e.reason}` : e.error; };
"""

PAGE_SCRIPT = """
const $ = id => document.getElementById(id);
function show() {
  const e = explain($('shape-a').value, $('shape-b').value);
  $('result').textContent = e.ok ? `a * b has shape ${e.shape}`
    : (e.reason ? `incompatible: ${e.reason}` : `cannot read the shapes: ${e.error}`);
  $('result').className = e.ok ? 'ok' : 'bad';
  const rows = ['axis', 'a', 'b', 'result'].map(k => '<tr><th scope="row">' + k + '</th>' +
    e.axes.map(x => '<td>' + (k === 'axis' ? x.axis : x[k]) + '</td>').join('') + '</tr>');
  $('axes-table').innerHTML = e.axes.length ? rows.join('') : '';
  $('axes').innerHTML = '';
  e.axes.forEach(x => { const li = document.createElement('li');
    li.textContent = `axis ${x.axis}: ${x.text}`; li.className = x.rule === W.mismatch ? 'bad' : '';
    $('axes').appendChild(li); });
  document.body.dataset.result = window.broadcastShape($('shape-a').value, $('shape-b').value);
}
$('shape-a').addEventListener('input', show); $('shape-b').addEventListener('input', show);
$('preset').addEventListener('change', () => { const v = $('preset').value;
  if (v) { $('shape-a').value = W.up; $('shape-b').value = v; } show(); });
show();
"""

PAGE_CSS = """
label { font-weight: bold; margin-right: 0.4em; }
input[type=text], select { font: 20px monospace; padding: 0.2em; border: 2px solid #555; }
input[type=text] { width: 12em; } select { font: 18px sans-serif; max-width: 100%; }
input:focus, select:focus { outline: 3px solid #E69F00; outline-offset: 2px; }
.fields { display: flex; gap: 1.5em; flex-wrap: wrap; margin: 0.6em 0; }
#result { font-size: 24px; font-weight: bold; min-height: 1.5em; }
.ok { color: #005A8C; } .bad { color: #A33A00; }
table { border-collapse: collapse; font: 20px monospace; margin: 0.6em 0; }
th, td { border: 1px solid #555; padding: 0.2em 0.7em; text-align: right; }
th { background: #eee; text-align: left; }
"""


def rule_script() -> str:
    """The rule's words and limits (``const W``) and :data:`RULE_SCRIPT`: what a page needs
    for ``window.broadcastShape`` (the block explorer's vector scale says its errors so)."""
    words = {"equal": RULE_EQUAL, "stretch": RULE_STRETCH, "missing": RULE_MISSING,
             "mismatch": RULE_MISMATCH, "spaces": PY_SPACES, "maxRank": MAX_RANK,
             "up": str(UP), "examples": "'(2, 35, 35, 256)', '[2,35,35,256]', '2x35x35x256' "
                                       "or '()'"}
    limits = f"W.maxDim = {MAX_DIM}n; W.maxElements = {MAX_ELEMENTS}n;"
    table = json.dumps(words).replace("</", "<\\/")
    return f"const W = {table}; {limits}\n{RULE_SCRIPT}"


def broadcast_page() -> str:
    """The whole static page (HTML text): the inputs, the result, the axes, the script."""
    n, h, w, c = UP
    options = "".join(f'<option value="{html.escape(str(shape))}">{html.escape(label)}: '
                      f"{UP} * {html.escape(str(shape))}</option>"
                      for label, shape in catalogue_shapes(n, h, w, c))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Broadcasting: which shapes can be multiplied?</title>
<style>{STATIC_CSS}{PAGE_CSS}</style></head>
<body>
<nav><a href="index.html">&larr; all notebooks</a></nav>
<main>
<h1>Broadcasting: which shapes can be multiplied?</h1>
<p><code>scale * up</code> multiplies a number by a tensor of shape <code>(N, H, W, C)</code>.
Type two shapes (or pick one from the catalogue) to see, axis by axis from the right, how
numpy lines them up, what shape comes out, or why they do not fit.</p>
<p><label for="preset">catalogue</label>
<select id="preset"><option value="">type your own</option>{options}</select></p>
<div class="fields">
<p><label for="shape-a">shape a</label><input type="text" id="shape-a" value="{UP}"
 spellcheck="false" autocomplete="off"></p>
<p><label for="shape-b">shape b</label><input type="text" id="shape-b" value="(256,)"
 spellcheck="false" autocomplete="off"></p>
</div>
<p id="result" role="status" aria-live="polite"></p>
<table aria-label="the two shapes right-aligned, axis by axis ('-' = missing, X = mismatch)">
<tbody id="axes-table"></tbody></table>
<ul id="axes"></ul>
<p class="engine">The rule runs in this page (a few lines of script, no Python, nothing from
the network), in the words of <code>explainer.broadcasting.rule</code>.</p>
</main>
<script>{rule_script()}{PAGE_SCRIPT}</script>
</body></html>
"""
