"""The "why scale" conclusion, worded from the numbers of a results file.

Every sentence is computed: counts, medians and ranges over seeds, and comparisons whose
wording ("lower", "the same", "within the seeds' spread") follows from the numbers. Works on a
:class:`.why_scale_results.WhyScaleResults` (passed in, not imported: that module uses this
one).
"""

from __future__ import annotations

import numpy as np

from .trunk_args import scale_label

CONSTANT_SMALLER = (0.3, 0.17, 0.1)


def edge_text(value: float, lrs: tuple) -> str:
    """An edge as written: "0.1"; "<0.03" when even the smallest rate failed; ">=0.3" when
    the largest trained (the edge lies at or beyond the grid)."""
    return f"<{lrs[0]:g}" if value == 0 else f">={value:g}" if value == lrs[-1] else f"{value:g}"


def _edge_range(low: float, high: float, lrs: tuple) -> str:
    if low == high:
        return edge_text(low, lrs)
    return f"{edge_text(low, lrs)} to {edge_text(high, lrs)}"


def _counts(fates: np.ndarray) -> str:
    return ", ".join(f"{int((fates == f).sum())} {f}" for f in ("trained", "died", "diverged"))


def grid_line(results) -> str:
    cfg, meta = results.config, results.meta
    minutes = meta.get("seconds_all_runs", float("nan")) / 60
    return (f"Grid: depths {list(results.depths)}, widths {list(results.widths)}, scales "
            f"{[scale_label(s) for s in results.scales]}, {cfg.optimizer} learning rates "
            f"{list(results.lrs)}, up to {cfg.steps} steps of batch {cfg.batch}, seeds "
            f"{list(results.seeds)}: {len(results.runs)} runs, {minutes:.0f} minutes of "
            f"training on {meta.get('machine', {}).get('cpu_model') or 'an unrecorded CPU'}.")


def mechanism_lines(results) -> list[str]:
    """Forward growth at initialisation against depth, scale 1 against the smallest scale."""
    growth = np.median(results.step0("growth"), axis=-1)  # (depth, width, scale)
    labels = [scale_label(s) for s in results.scales]
    if "1" not in labels:
        return []
    one = labels.index("1")
    small = [labels.index(scale_label(s)) for s in CONSTANT_SMALLER if scale_label(s) in labels]
    lines = []
    for w, width in enumerate(results.widths):
        parts = [f"depth {d}: x{growth[i, w, one]:.2f} at scale 1"
                 + (f", x{growth[i, w, small[-1]]:.2f} at {labels[small[-1]]}" if small else "")
                 for i, d in enumerate(results.depths)]
        lines.append(f"At initialisation (width {width}), the stream's norm grows through the "
                     f"blocks by " + "; ".join(parts) + " (median over seeds).")
    return lines


def edge_lines(results) -> list[str]:
    """Every scale's stability edge per depth and width (ReZero and LayerScale beside the
    constants), then scale 1 against the smaller constant scales."""
    median, low, high = results.edge_summary()
    labels = [scale_label(s) for s in results.scales]
    one = labels.index("1") if "1" in labels else None
    small = [labels.index(scale_label(s)) for s in CONSTANT_SMALLER if scale_label(s) in labels]
    lines = ["Stability edge (largest learning rate that trained, with every smaller one; "
             f">={results.lrs[-1]:g}: the largest trained), median over seeds and the range "
             "where they differ:"]
    verdicts = {"lower": [], "higher": [], "the same": []}
    for d, depth in enumerate(results.depths):
        for w, width in enumerate(results.widths):
            where = f"depth {depth}, width {width}"
            edges = "; ".join(
                f"{labels[j]}: {_edge_range(median[d, w, j], median[d, w, j], results.lrs)}"
                + ("" if low[d, w, j] == high[d, w, j] else
                   f" ({_edge_range(low[d, w, j], high[d, w, j], results.lrs)})")
                for j in range(len(labels)))
            lines.append(f"  {where}: {edges}.")
            if one is not None and small:
                best = max(median[d, w, j] for j in small)
                word = ("lower" if median[d, w, one] < best else
                        "higher" if median[d, w, one] > best else "the same")
                verdicts[word].append(where)
    if one is not None and small:
        for word, where in verdicts.items():
            if where:
                lines.append(f"Scale 1's median edge is {word} "
                             + ("as" if word == "the same" else "than")
                             + " the best of the smaller constant scales at "
                             + "; ".join(where) + ".")
    return lines


def death_lines(results) -> list[str]:
    """How many runs died per scale, and when."""
    lines = []
    for label, steps in results.death_steps().items():
        if len(steps) == 1:
            lines.append(f"Scale {label}: 1 run died, at step {steps[0]}.")
        elif steps:
            lines.append(f"Scale {label}: {len(steps)} runs died, at steps "
                         f"{int(np.min(steps))}-{int(np.max(steps))} "
                         f"(median {np.median(steps):g}).")
        else:
            lines.append(f"Scale {label}: no run died.")
    return lines


def accuracy_lines(results) -> list[str]:
    """Test accuracy at the shared learning rate, mean and range over seeds."""
    lr = results.shared_lr()
    mean, low, high = results.accuracy_at(lr)
    lines = [f"Test accuracy at the shared learning rate {lr:g} (mean, range over seeds):"]
    for d, depth in enumerate(results.depths):
        for w, width in enumerate(results.widths):
            parts = []
            for j, scale in enumerate(results.scales):
                label = scale_label(scale)
                parts.append(f"{label} undefined (a seed diverged)" if np.isnan(mean[d, w, j])
                             else f"{label} {mean[d, w, j]:.3f} ({low[d, w, j]:.3f}-"
                                  f"{high[d, w, j]:.3f})")
            lines.append(f"  depth {depth}, width {width}: " + ", ".join(parts) + ".")
    return lines


def headline(results) -> str:
    """The finding in one line (notebook 06's title): scale 1's median edge against the
    smaller constant scales' at the deepest depth, and the cells where the scale changed
    nothing."""
    median, _, _ = results.edge_summary()
    labels = [scale_label(s) for s in results.scales]
    small = [labels.index(scale_label(s)) for s in CONSTANT_SMALLER if scale_label(s) in labels]
    if "1" not in labels or not small:
        return "the stability edge per depth, width and scale"
    one, deep = labels.index("1"), len(results.depths) - 1
    floor = [min(median[deep, w, j] for j in small) for w in range(len(results.widths))]
    depth = results.depths[deep]
    if all(median[deep, w, one] < floor[w] for w in range(len(floor))):
        names = ", ".join(labels[j] for j in small[:-1]) + f" and {labels[small[-1]]}"
        k = list(results.lrs).index(min(floor))
        verb = "dies" if (results.fates()[deep, :, one, k, :] == "died").all() else "fails"
        text = (f"at {depth} blocks, scale 1 {verb} at a learning rate ({min(floor):g}) "
                f"where {names} train")
    elif all(median[deep, w, one] == floor[w] for w in range(len(floor))):
        text = f"at {depth} blocks, the scale does not move the stability edge"
    else:
        text = f"at {depth} blocks, scale 1's stability edge differs at some widths only"
    same = [f"{results.depths[d]}" for d in range(len(results.depths))
            for w in range(len(results.widths))
            if median[d, w, one] == max(median[d, w, j] for j in small)]
    widths = {results.widths[w] for d in range(len(results.depths))
              for w in range(len(results.widths))
              if median[d, w, one] == max(median[d, w, j] for j in small)}
    if same and len(widths) == 1:
        text += (f"; at {' and '.join(same)} blocks of width {widths.pop()} it makes no "
                 "difference")
    elif same:
        text += f"; in {len(same)} shallower cells it makes no difference"
    return text[0].upper() + text[1:]


def conclusion(results) -> str:
    fates = results.fates()
    lines = [f"In short: {headline(results)} (medians over seeds).", grid_line(results),
             f"Fates: {_counts(fates)}."]
    for d, depth in enumerate(results.depths):
        lines.append(f"  depth {depth}: {_counts(fates[d])}.")
    lines += mechanism_lines(results)
    lines += edge_lines(results)
    lines += death_lines(results)
    lines += accuracy_lines(results)
    return "\n".join(lines)
