"""The decomposition of the scale, in words: at the arms' depth, which half of ``scale=s``
keeps a deep stack alive, the small start (``up_init=s``) or the slow step (``up_lr=s**2``),
per width, from the arms' stability edges (median and range over the seeds)."""

from __future__ import annotations

import math

import numpy as np

from ...core.validate import shorten
from .verdicts import (
    MOSTLY_DEAD,
    MOSTLY_DEAD_VERDICT,
    NO_ARMS,
    edge_text,
    edge_with_range,
    join,
    verdict,
)

ARM_KINDS = ("scale 1", "scale s", "a small start", "a slow step")


def g(value: float) -> str:
    """A number as the results' index writes it (0.1, 0.01, 1)."""
    return f"{float(value):g}"


class DecompositionArms:
    """The arm accessors of :class:`.results.WhyScaleResults` (a mixin: it uses the
    results' ``arms``, ``arm_depths``, ``scales``, ``widths``, ``lrs``, ``seeds``, ``get`` and
    ``_edges_of``)."""

    def arm_values(self) -> tuple:
        """The s of the decomposition, largest first: each s with a small start (up_init=s,
        up_lr=1) or a slow step (up_init=1, up_lr=s**2) among the grid's arms."""
        values = set()
        for up_init, up_lr in self.arms:
            if up_lr == 1.0 and up_init != 1.0:
                values.add(float(g(up_init)))
            elif up_init == 1.0 and up_lr != 1.0:
                values.add(float(g(math.sqrt(up_lr))))
        return tuple(sorted(values, reverse=True))

    def arm_setting(self, kind: str, s: float) -> tuple | None:
        """(scale, up_init, up_lr) of one arm at ``s``; None when the grid does not have it
        (a small start or slow step not among the arms, or scale s not among the scales)."""
        s = float(s)
        if kind in ("scale 1", "scale s"):
            wanted = 1.0 if kind == "scale 1" else s
            found = [x for x in self.scales if not isinstance(x, str) and g(x) == g(wanted)]
            return (float(found[0]), 1.0, 1.0) if found else None
        if kind == "a small start":
            found = [a for a in self.arms if a[1] == 1.0 and g(a[0]) == g(s)]
        elif kind == "a slow step":
            found = [a for a in self.arms if a[0] == 1.0 and a[1] != 1.0
                     and g(math.sqrt(a[1])) == g(s)]
        else:
            raise ValueError(f"kind: got {shorten(kind)}; expected one of {list(ARM_KINDS)}")
        return (1.0, float(found[0][0]), float(found[0][1])) if found else None

    def arm_depth(self) -> int | None:
        """The deepest depth the arms ran at (the decomposition's depth): the deepest of the
        grid's ``arm_depths`` that is one of its depths; None without arms."""
        depths = [d for d in self.arm_depths if d in self.depths]
        return max(depths) if self.arms and depths else None

    def arm_fates(self, s: float, depth: int | None = None, read=None) -> dict:
        """Kind -> fates over (width, lr, seed) at ``depth`` (default the deepest arm depth),
        for each kind of :data:`ARM_KINDS` the grid has at ``s``; ``read(run)`` instead of the
        fate where given (e.g. the verdict). Empty without arms."""
        depth = self.arm_depth() if depth is None else depth
        if depth is None:
            return {}
        out = {}
        for kind in ARM_KINDS:
            setting = self.arm_setting(kind, s)
            if setting is None:
                continue
            scale, up_init, up_lr = setting
            fates = np.empty((len(self.widths), len(self.lrs), len(self.seeds)), dtype=object)
            for w, k, e in np.ndindex(fates.shape):
                run = self.get(depth, self.widths[w], scale, self.lrs[k], self.seeds[e],
                               up_init, up_lr)
                fates[w, k, e] = run.fate if read is None else read(run)
            out[kind] = fates
        return out

    def arm_edges(self, s: float, depth: int | None = None) -> dict:
        """Kind -> the stability edge over (width, seed) of each arm at ``s``."""
        return {kind: self._edges_of(fates)
                for kind, fates in self.arm_fates(s, depth).items()}

    def arm_accuracy(self, s: float, depth: int | None = None) -> dict:
        """Kind -> test accuracy over (width, lr, seed) of each arm at ``s`` (NaN where a
        run diverged)."""
        depth = self.arm_depth() if depth is None else depth
        out = {}
        for kind in self.arm_fates(s, depth):
            scale, up_init, up_lr = self.arm_setting(kind, s)
            acc = np.empty((len(self.widths), len(self.lrs), len(self.seeds)))
            for w, k, e in np.ndindex(acc.shape):
                acc[w, k, e] = self.get(depth, self.widths[w], scale, self.lrs[k],
                                        self.seeds[e], up_init, up_lr).test_accuracy
            out[kind] = acc
        return out



def _arm_name(results, kind: str, s: float) -> str:
    setting = results.arm_setting(kind, s)
    if kind == "scale s":
        return f"scale {s:g}"
    if kind == "a small start":
        return f"a small start (up_init {setting[1]:g})"
    if kind == "a slow step":
        return f"a slow step (up_lr {setting[2]:g})"
    return kind


def decomposition_verdicts(results) -> dict:
    """(s, width) -> which half keeps the stack alive at the arms' depth, from the median
    edges over seeds: "the small start", "the slow step", "either", "both are needed"
    (each alone moves the edge only partway, or not at all), or "nothing to split" (scale s
    does not raise scale 1's edge there). Only for s with all four arms; empty without arms."""
    out = {}
    for s in results.arm_values():
        edges = results.arm_edges(s)
        if len(edges) < len(("scale 1", "scale s", "a small start", "a slow step")):
            continue
        for w, width in enumerate(results.widths):
            one, full, start, step = (float(np.median(edges[k][w])) for k in
                                      ("scale 1", "scale s", "a small start", "a slow step"))
            if full <= one:
                out[s, width] = "nothing to split"
            elif start >= full and step >= full:
                out[s, width] = "either"
            elif start >= full:
                out[s, width] = "the small start"
            elif step >= full:
                out[s, width] = "the slow step"
            else:
                out[s, width] = "both are needed"
    return out


def decomposition_lines(results) -> list[str]:
    """Per s and width at the arms' depth: every arm's edge (median, seeds' range), how many
    of the runs scale 1 lost and scale s kept each half keeps, and which half keeps the stack
    alive, in words."""
    values = results.arm_values()
    if not values or results.arm_depth() is None:
        return [NO_ARMS]
    depth = results.arm_depth()
    lrs = results.lrs
    verdicts = decomposition_verdicts(results)
    lines = [f"Decomposition at depth {depth}: scale 1 with only the up conv's start (a small "
             "start: up_init = s) or only its learning rate (a slow step: up_lr = s^2) "
             "changed; together they are scale s exactly (SGD). Edges: median over "
             f"{len(results.seeds)} seeds, their range where they differ."]
    for s in values:
        edges, fates = results.arm_edges(s), results.arm_fates(s)
        verdicts_s = results.arm_fates(s, read=verdict)
        for w, width in enumerate(results.widths):
            parts = "; ".join(f"{_arm_name(results, kind, s)} {edge_with_range(e[w], lrs)}"
                              for kind, e in edges.items())
            line = f"  s = {s:g}, width {width}: {parts}."
            if "scale s" in fates and "scale 1" in fates:
                lost = (fates["scale 1"][w] != "trained") & (fates["scale s"][w] == "trained")
                kept = [f"scale {s:g} " + _kept(lost, verdicts_s["scale s"][w])]
                for kind in ("a small start", "a slow step"):
                    if kind in fates:
                        kept.append(f"{_arm_name(results, kind, s).split(' (')[0]} "
                                    + _kept(lost & (fates[kind][w] == "trained"),
                                            verdicts_s[kind][w]))
                line += (f" Of the {int(lost.sum())} runs (lr x seed) scale 1 lost and scale "
                         f"{s:g} kept, " + join(kept) + ".")
            word = verdicts.get((s, width))
            if word is not None:
                line += " " + _decomposition_sentence(word, s, width, edges, w, lrs)
            lines.append(line)
    return lines


def _lowest(edges: dict, kind: str, w: int) -> float:
    return float(np.min(edges[kind][w]))


def _median(edges: dict, kind: str, w: int) -> float:
    return float(np.median(edges[kind][w]))


def _kept(kept: np.ndarray, verdicts: np.ndarray) -> str:
    """ "keeps 7 (4 ending >=90% zeros)": runs kept, and how many of them end mostly dead."""
    mostly = int((kept & (verdicts == MOSTLY_DEAD_VERDICT)).sum())
    return f"keeps {int(kept.sum())}" + (
        f" ({mostly} ending with the last block >={MOSTLY_DEAD:.0%} zeros)" if mostly else "")


def kept_counts(results) -> tuple[int, int]:
    """Over every s and width: (runs that scale 1 lost and a half alone kept, how many of
    those end with the last block >= 90 % zeros)."""
    total = mostly = 0
    for s in results.arm_values():
        fates, verdicts = results.arm_fates(s), results.arm_fates(s, read=verdict)
        if not {"scale 1", "scale s"} <= set(fates):
            continue
        lost = (fates["scale 1"] != "trained") & (fates["scale s"] == "trained")
        for kind in ("a small start", "a slow step"):
            if kind in fates:
                kept = lost & (fates[kind] == "trained")
                total += int(kept.sum())
                mostly += int((kept & (verdicts[kind] == MOSTLY_DEAD_VERDICT)).sum())
    return total, mostly


def _decomposition_sentence(word: str, s: float, width: int, edges: dict, w: int,
                            lrs: tuple) -> str:
    full = edge_with_range(edges["scale s"][w], lrs)
    start = edge_with_range(edges["a small start"][w], lrs)
    step = edge_with_range(edges["a slow step"][w], lrs)
    one = edge_with_range(edges["scale 1"][w], lrs)

    def caveat(kinds):  # a verdict by the medians that a seed does not bear out
        short = [k for k in kinds if _lowest(edges, k, w) < _lowest(edges, "scale s", w)]
        if not short:
            return ""
        names = join(["the " + k.removeprefix("a ") for k in short])
        return (
            f" (by the medians: the lowest seed{'s' if len(short) > 1 else ''} of {names} "
            f"stop{'' if len(short) > 1 else 's'} at "
            f"{join([edge_text(_lowest(edges, k, w), lrs) for k in short])}, scale {s:g}'s "
            f"at {edge_text(_lowest(edges, 'scale s', w), lrs)})")

    if word == "nothing to split":
        return (f"At width {width}, scale {s:g} does not raise scale 1's edge ({one} against "
                f"{full}), so there is nothing to split.")
    if word == "either":
        return (f"At width {width}, either half alone keeps the stack alive as far as scale "
                f"{s:g} does (start {start}, step {step}, scale {s:g} {full})"
                + caveat(["a small start", "a slow step"]) + ".")
    if word in ("the small start", "the slow step"):
        kind, other_kind = (("a small start", "a slow step") if word == "the small start"
                            else ("a slow step", "a small start"))
        other = "the " + other_kind.removeprefix("a ")
        other_edge = step if word == "the small start" else start
        moved = _median(edges, other_kind, w) > _median(edges, "scale 1", w)
        return (f"At width {width}, {word} keeps the stack alive as far as scale {s:g} "
                f"({full}){caveat([kind])}; {other} alone "
                + (f"raises the edge only to {other_edge}." if moved else
                   f"does not raise it above scale 1's ({other_edge} against {one})."))
    closer = _closer(edges, w)
    return (f"At width {width}, both are needed: alone, the small start reaches {start} and "
            f"the slow step {step}, against {full} for scale {s:g} and {one} for scale 1"
            + (f"; {closer} comes closer" if closer else "; neither comes closer") + ".")


def _closer(edges: dict, w: int) -> str | None:
    """Which half alone comes closer to scale s's median edge, None if neither."""
    start, step = _median(edges, "a small start", w), _median(edges, "a slow step", w)
    return None if start == step else "the slow step" if step > start else "the small start"


SUMMARY_WORDS = {"the small start": "the small start", "the slow step": "the slow step",
                 "either": "either half alone", "both are needed": "both halves are needed",
                 "nothing to split": "nothing to split (scale s does not raise the edge)"}


def decomposition_summary(results) -> str:
    """One sentence: which half keeps the stack alive, per width (and s)."""
    verdicts = decomposition_verdicts(results)
    if not verdicts:
        return NO_ARMS
    parts = []
    for width in results.widths:
        found = {s: v for (s, w), v in verdicts.items() if w == width}
        groups = {}
        for s, v in found.items():
            words = SUMMARY_WORDS[v]
            if v == "both are needed":
                closer = _closer(results.arm_edges(s), results.widths.index(width))
                words += f" ({closer} comes closer)" if closer else ""
            groups.setdefault(words, []).append(f"{s:g}")
        parts.append(f"at width {width}, " + ", ".join(
            f"{v} at s = {join(ss)}" for v, ss in groups.items()))
    total, mostly = kept_counts(results)
    return (f"What keeps the depth-{results.arm_depth()} stack alive (median edges): "
            + "; ".join(parts) + "." + (
                f" Alive means the stored fate: {mostly} of the {total} runs a half alone kept "
                f"(where scale 1 failed) end with the last block >={MOSTLY_DEAD:.0%} zeros."
                if mostly else ""))
