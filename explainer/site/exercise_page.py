"""Every exercise checked in the page: an input, a Check button and the verdict, graded by a
few lines of script with the same rules and words as :func:`explainer.exercises.check`.

The rules of each exercise (:class:`explainer.exercises.core.Rule`) are computed when the pages
are built, by running the package, and written into the page as JSON; :data:`GRADER_SCRIPT`
reads a typed answer with the text grammar of :mod:`explainer.exercises.core`, finds the first
rule it meets and fills in the answer as Python shows it (``:g`` for a number, a tuple for a
shape). ``window.checkExercise(name, text)`` returns ``{ok, message}``, ``message`` being
``str(check(name, text))``. The browser tests compare the two on hundreds of answers.

The answers are in the page's source: the page says so (practice, not an exam).
"""

from __future__ import annotations

import html
import json

from ..broadcasting.shapes import MAX_DIM, MAX_ELEMENTS, MAX_RANK, NUMPY_BROADCAST_RANK
from ..core.quiet import load_tensorflow_quietly
from ..core.validate import FLOAT32_MAX
from ..exercises import MAX_ANSWER
from ..exercises.core import ECHO, FIGURES, PLACEHOLDER, SPACES
from ..exercises.render import notebook_exercises

PRACTICE_NOTE = ("Practice, not an exam: the page checks your answer itself, so the answers "
                 "are in this page's source. Try first; the verdict says why an answer is "
                 "wrong.")

GRADER_SCRIPT = r"""
(function () {
const K = __CONSTANTS__, EX = __EXERCISES__;
const SP = K.spaces;
function strip(t, chars) { let i = 0, j = t.length;
  while (i < j && chars.includes(t[i])) i++; while (j > i && chars.includes(t[j - 1])) j--;
  return t.slice(i, j); }
const points = t => Array.from(t).length;
const group = n => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
function echo(t) { t = strip(t, SP); const p = Array.from(t);
  return p.length <= K.echo ? t : p.slice(0, K.echo - 15).join('') + '... (' +
    group(p.length) + ' characters)'; }
class AnswerError extends Error {}
function malformed(text, noun, ex) {
  const expected = `expected ${ex.expects}, such as ${ex.example}.`;
  if (!strip(text, SP)) return new AnswerError(`the answer is empty; ${expected}`);
  return new AnswerError(`'${echo(text)}' is not ${noun}; ${expected}`); }
// Python's float formatting: the exact binary value, rounded half to even
function exact(x) { const v = new DataView(new ArrayBuffer(8)); v.setFloat64(0, x);
  const hi = v.getUint32(0), lo = v.getUint32(4); let e = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === 0) e = 1; else m |= 1n << 52n; e -= 1075;
  return e >= 0 ? [(m << BigInt(e)).toString(), 0] : [(m * 5n ** BigInt(-e)).toString(), e]; }
function roundSig(x, p) { let [d, e] = exact(x); d = d.replace(/^0+/, '');
  let sci = d.length - 1 + e; if (d.length <= p) return [d.padEnd(p, '0'), sci];
  let head = d.slice(0, p); const rest = d.slice(p);
  const up = rest[0] > '5' || (rest[0] === '5' && (/[1-9]/.test(rest.slice(1)) ||
    Number(head[p - 1]) % 2 === 1));
  if (up) { head = (BigInt(head) + 1n).toString();
    if (head.length > p) { head = head.slice(0, p); sci += 1; } }
  return [head, sci]; }
function fmtG(x) { const P = 6;
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : ''; const [d, X] = roundSig(Math.abs(x), P);
  if (X >= -4 && X < P) {
    let ip, fr; if (X >= 0) { ip = d.slice(0, X + 1); fr = d.slice(X + 1); }
    else { ip = '0'; fr = '0'.repeat(-X - 1) + d; }
    fr = fr.replace(/0+$/, ''); return sign + ip + (fr ? '.' + fr : ''); }
  const fr = d.slice(1).replace(/0+$/, '');
  return sign + d[0] + (fr ? '.' + fr : '') + 'e' + (X < 0 ? '-' : '+') +
    String(Math.abs(X)).padStart(2, '0'); }
const tuple = s => s.length === 1 ? `(${s[0]},)` : '(' + s.join(', ') + ')';
function shorten(text) { return text.length <= 60 ? text :
  text.slice(0, 45) + '... (' + group(text.length) + ' chars)'; }
function figures(written) {
  const m = /^[+-]?([0-9]*)(?:\.([0-9]*))?/.exec(written);
  return (m[1] + (m[2] || '')).replace(/^0+/, '').length; }
function isclose(a, b, rel, abs) { if (a === b) return true;
  if (!isFinite(a) || !isFinite(b)) return false;
  return Math.abs(a - b) <= Math.max(rel * Math.max(Math.abs(a), Math.abs(b)), abs); }
function close(n, rule) {
  if (isclose(n.v, rule.target, 1e-5, 1e-12)) return true;
  const f = figures(n.written);
  if (f < rule.figures || !isFinite(rule.target) || rule.target === 0) return false;
  return isclose(n.v, rule.rounded[Math.min(f, 17) - 1], 1e-9, 0); }
const READ = {
  number(t, ex) { const s = strip(t, SP);
    if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(s))
      throw malformed(t, 'a number', ex);
    const v = Number(s);
    if (!isFinite(v) || Math.abs(v) > K.float32Max)
      throw malformed(t, 'a finite number (float32)', ex);
    return {v, written: s}; },
  whole(t, ex) { const s = strip(t, SP);
    if (!/^[+-]?[0-9]+$/.test(s)) throw malformed(t, 'a whole number', ex);
    return BigInt(s.replace(/^\+/, '')); },
  bool(t, ex) { const s = strip(t, SP).toLowerCase();
    if (['true', 'yes'].includes(s)) return true;
    if (['false', 'no'].includes(s)) return false;
    throw malformed(t, 'True or False', ex); },
  text(t, ex) { const s = strip(strip(t, SP), '\'"');
    if (!s) throw malformed('', 'a word (text)', ex); return s; },
  choice(t, ex) { const c = strip(READ.text(t, ex).toLowerCase(), '() ');
    if (!ex.options.includes(c))
      throw malformed(t, 'one of ' + ex.options.map(o => `'${o}'`).join(', '), ex);
    return c; },
  shape(t, ex) { const s = strip(t, SP); let inner = s;
    if (!s) throw malformed(t, 'a shape', ex);
    if (s[0] === '(' || s[0] === '[') {
      if (s.length < 2 || s[s.length - 1] !== (s[0] === '(' ? ')' : ']'))
        throw malformed(t, 'a shape', ex);
      inner = s.slice(1, -1); if (!strip(inner, SP)) return []; }
    const items = inner.split(',').map(i => strip(i, SP));
    if (items.length > 1 && !items[items.length - 1]) items.pop();
    if (items.length > K.maxRank || !items.every(i => /^[0-9]+$/.test(i) &&
        i.replace(/^0+/, '').length <= 19 && BigInt(i) <= BigInt(K.maxDim)))
      throw malformed(t, 'a shape', ex);
    return items.map(i => BigInt(i)); },
};
function shown(reader, v) {
  if (reader === 'number') return fmtG(v.v);
  if (reader === 'shape') return tuple(v);
  if (reader === 'text' || reader === 'choice') return echo(v);
  if (reader === 'bool') return v ? 'True' : 'False';
  return v.toString(); }
const big = a => a.map(d => BigInt(d));
function meets(rule, reader, v) {
  switch (rule.test) {
    case 'always': return true;
    case 'close': return close(v, rule);
    case 'at_most': return v.v <= rule.target;
    case 'same_sizes': { const cmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
      const a = [...v].sort(cmp), b = big(rule.target).sort(cmp);
      return a.length === b.length && a.every((d, i) => d === b[i]); }
    case 'contains': return v.toLowerCase().includes(rule.target.toLowerCase());
    case 'equal':
      if (reader === 'text' || reader === 'choice')
        return v.toLowerCase() === String(rule.target).toLowerCase();
      if (reader === 'number') return v.v === Number(rule.target);
      if (reader === 'whole') return v === BigInt(rule.target);
      if (reader === 'shape') { const b = big(rule.target);
        return v.length === b.length && v.every((d, i) => d === b[i]); }
      return v === rule.target;
  }
  throw new Error('unknown rule ' + rule.test); }
// the per-sample question: broadcast the answer against up's shape, then ask which axes vary
function perSample(v, rule) {
  const up = big(rule.target), w = rule.messages, rank = Math.max(up.length, v.length);
  const pa = Array(rank - up.length).fill(1n).concat(up);
  const pb = Array(rank - v.length).fill(1n).concat(v);
  const numpy = rank <= K.numpyRank;
  if (pa.some((x, i) => x !== pb[i] && x !== 1n && pb[i] !== 1n)) {
    const show = s => numpy ? tuple(s) : shorten(tuple(s));
    return [false, w.refused.replace('{error}', 'shape mismatch: objects cannot be ' +
      'broadcast to a single shape.  Mismatch is between arg 0 with shape ' + show(up) +
      ' and arg 1 with shape ' + show(v) + '.')]; }
  const result = pa.map((x, i) => (x === 1n ? pb[i] : x));
  if (numpy && result.reduce((a, b) => a * b, 1n) > BigInt(K.maxElements))
    return [false, w.refused.replace('{error}', 'broadcast dimensions too large.')];
  const say = k => w[k].replace('{answer}', tuple(v)).replace('{result}', tuple(result));
  if (result.length !== up.length || result.some((d, i) => d !== up[i]))
    return [false, say('elsewhere')];
  const v4 = Array(up.length - v.length).fill(1n).concat(v);
  const differ = v4[0] === up[0], perImage = v4.slice(1).every(d => d === 1n);
  if (perImage && differ) return [true, say('right')];
  return [false, say(differ ? 'inside' : 'same')]; }
function grade(name, text) {
  const ex = EX[name];
  if (!ex) throw new Error(`name: got ${JSON.stringify(name)}, which is not an exercise ` +
                           'of this page');
  text = String(text);
  if (strip(text, SP) === K.placeholder) return {ok: false, pending: true,
    message: `[${name}] Your turn: replace ${K.placeholder} with your answer (` +
             `${ex.expects}, e.g. ${ex.example}) and check it again.`};
  let ok, why;
  try {
    if (points(text) > K.maxAnswer) throw new AnswerError(`the answer is ` +
      `${group(points(text))} characters long; expected ${ex.expects}, such as ${ex.example}.`);
    const v = READ[ex.reader](text, ex);
    for (const rule of ex.rules) {
      if (rule.test === 'per_sample') { [ok, why] = perSample(v, rule); break; }
      if (meets(rule, ex.reader, v)) {
        ok = rule.right; why = rule.message.split('{answer}').join(shown(ex.reader, v)); break; }
    }
  } catch (err) { if (!(err instanceof AnswerError)) throw err; ok = false; why = err.message; }
  return {ok, pending: false, message: `[${name}] ${ok ? 'Right' : 'Not yet'}: ${why}`}; }
window.checkExercise = (name, text) => { const r = grade(name, text);
  return {ok: r.ok, message: r.message}; };
function show(box) {
  const name = box.dataset.exercise, input = box.querySelector('input');
  const out = box.querySelector('.exercise-verdict'), r = grade(name, input.value);
  out.textContent = r.message;
  out.className = 'exercise-verdict ' + (r.pending ? 'pending' : r.ok ? 'right' : 'wrong');
}
document.querySelectorAll('.page-exercise').forEach(box => {
  box.querySelector('button').addEventListener('click', () => show(box));
  box.querySelector('input').addEventListener('keydown', e => {
    if (e.key === 'Enter') { e.preventDefault(); show(box); } });
});
})();
"""

EXERCISE_CSS = """<style>
.page-exercise { border-left: 6px solid #555; padding: 0.5em 0.9em; margin: 0.3em 0;
  font: 17px/1.5 "DejaVu Sans", sans-serif; }
.page-exercise input { font: 17px monospace; width: 22em; max-width: 90%; padding: 0.2em; }
.page-exercise button { font: 17px sans-serif; padding: 0.2em 0.9em; margin-left: 0.4em; }
.page-exercise input:focus, .page-exercise button:focus { outline: 3px solid #E69F00;
  outline-offset: 2px; }
.exercise-verdict { margin-top: 0.4em; color: #111; }
.exercise-verdict.right { border-left: 6px solid #0072B2; padding-left: 0.5em; }
.exercise-verdict.right::before { content: "\\2714  "; color: #005A8C; }
.exercise-verdict.wrong { border-left: 6px solid #D55E00; padding-left: 0.5em; }
.exercise-verdict.wrong::before { content: "\\2718  "; color: #9E3A00; }
.practice-note { background: #f2f2f2; padding: 0.4em 0.8em; }
</style>"""


def constants() -> dict:
    """The limits and characters the page's reader shares with the Python one."""
    return {"spaces": SPACES, "echo": ECHO, "placeholder": PLACEHOLDER,
            "maxAnswer": MAX_ANSWER, "float32Max": FLOAT32_MAX, "maxRank": MAX_RANK,
            "maxDim": str(MAX_DIM), "maxElements": str(MAX_ELEMENTS),
            "numpyRank": NUMPY_BROADCAST_RANK, "figures": FIGURES}


def exercise_data(notebook: str) -> dict[str, dict]:
    """What the page's grader needs for each exercise of ``notebook``: the reader, the form
    expected and the rules, computed now by running the package."""
    load_tensorflow_quietly()
    return {e.name: {"expects": e.expects, "example": e.example, "reader": e.reader,
                     "options": list(e.options), "rules": [r.as_json() for r in e.rules()]}
            for e in notebook_exercises(notebook)}


def _json_for_script(value: object) -> str:
    """JSON that is safe inside a <script> element (no "</" can close it)."""
    return json.dumps(value, allow_nan=False).replace("</", "<\\/")


def grader_script(data: dict[str, dict]) -> str:
    """The ``<script>`` that defines ``window.checkExercise`` for the exercises in ``data``."""
    script = (GRADER_SCRIPT.replace("__CONSTANTS__", _json_for_script(constants()))
              .replace("__EXERCISES__", _json_for_script(data)))
    return f"<script>{script}</script>"


def exercise_form(name: str, expects: str, first: bool) -> str:
    """The input, the Check button and the verdict's place for exercise ``name``."""
    note = html.escape(PRACTICE_NOTE, quote=False)
    note = f'<p class="practice-note">{note}</p>' if first else ""
    ident = html.escape(name)
    return (f'{note}<div class="page-exercise" data-exercise="{ident}">'
            f'<label for="answer-{ident}">Your answer to <code>{ident}</code> '
            f"({html.escape(expects)}):</label> "
            f'<input id="answer-{ident}" type="text" autocomplete="off" spellcheck="false">'
            f'<button type="button">Check</button>'
            f'<div class="exercise-verdict" role="status" aria-live="polite"></div></div>')


def standalone_page(notebooks: list[str]) -> str:
    """A bare page with the forms and the grader of the given notebooks' exercises (the
    browser tests' oracle page; the lesson pages embed the same pieces)."""
    data, forms = {}, []
    for notebook in notebooks:
        data.update(exercise_data(notebook))
        forms += [exercise_form(e.name, e.expects, not forms)
                  for e in notebook_exercises(notebook)]
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Exercises</title>{EXERCISE_CSS}</head><body><main>"
            f"<h1>Exercises</h1>{''.join(forms)}</main>{grader_script(data)}</body></html>")
