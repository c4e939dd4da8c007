"""The "why scale" conclusion, worded from the numbers of a results file.

Every sentence is computed: counts, medians and ranges over seeds, and comparisons whose
wording ("lower", "the same", "within the seeds' spread") follows from the numbers. Works on a
:class:`.results.WhyScaleResults` (passed in, not imported: that module uses this
one). The verdicts live in :mod:`.verdicts`, the tables and the accuracy answer in
:mod:`.tables`, the decomposition in :mod:`.decomposition`; their public
names are re-exported here.
"""

from __future__ import annotations

import numpy as np

from .decomposition import (  # noqa: F401 (re-exported)
    decomposition_lines,
    decomposition_summary,
    decomposition_verdicts,
)
from .tables import (  # noqa: F401 (re-exported)
    acc_text,
    accuracy_answer,
    accuracy_comparison,
    counts_text,
    grid_table_text,
    summary_rows,
    summary_text,
)
from .trunk_args import scale_label
from .verdicts import (  # noqa: F401 (re-exported)
    CONSTANT_SMALLER,
    MOSTLY_DEAD,
    MOSTLY_DEAD_VERDICT,
    NO_ARMS,
    PAPER_WIDTH,
    SHORT,
    VERDICTS,
    counts_line,
    edge_range,
    edge_text,
    final_dead,
    join,
    scale_indices,
    verdict,
)


def grid_line(results) -> str:
    cfg, meta = results.config, results.meta
    minutes = meta.get("seconds_all_runs", float("nan")) / 60
    arms = len(results.arm_runs)
    return (f"Grid: depths {list(results.depths)}, widths {list(results.widths)}, scales "
            f"{[scale_label(s) for s in results.scales]}, {cfg.optimizer} learning rates "
            f"{list(results.lrs)}, up to {cfg.steps} steps of batch {cfg.batch}, seeds "
            f"{list(results.seeds)}: {len(results.grid_runs)} runs"
            + (f" and {arms} runs of the decomposition arms at depth "
               f"{join([str(d) for d in results.arm_depths])}" if arms else "")
            + f", {minutes:.0f} minutes of training on "
            f"{meta.get('machine', {}).get('cpu_model') or 'an unrecorded CPU'}.")


def mechanism_lines(results) -> list[str]:
    """Forward growth at initialisation against depth, scale 1 against the smallest scale."""
    growth = np.median(results.step0("growth"), axis=-1)  # (depth, width, scale)
    labels, one, small = scale_indices(results)
    if one is None:
        return []
    lines = []
    for w, width in enumerate(results.widths):
        parts = [f"depth {d}: x{growth[i, w, one]:.2f} at scale 1"
                 + (f", x{growth[i, w, small[-1]]:.2f} at {labels[small[-1]]}" if small else "")
                 for i, d in enumerate(results.depths)]
        lines.append(f"At initialisation (width {width}), the stream's norm grows through the "
                     f"blocks by " + "; ".join(parts) + " (median over seeds).")
    return lines


def cell_words(results) -> dict:
    """(depth, width) -> how scale 1's median edge compares with the best of the smaller
    constant scales': "lower", "the same" or "higher" (empty without scale 1 or them)."""
    median, _, _ = results.edge_summary()
    _, one, small = scale_indices(results)
    if one is None or not small:
        return {}
    out = {}
    for d, depth in enumerate(results.depths):
        for w, width in enumerate(results.widths):
            best = max(median[d, w, j] for j in small)
            out[depth, width] = ("lower" if median[d, w, one] < best else
                                 "higher" if median[d, w, one] > best else "the same")
    return out


def _cells_text(cells: list[tuple[int, int]], widths: tuple) -> str:
    """[(3, 256), (10, 256), (20, 1088)] -> "width 256 (depths 3 and 10) and width 1088
    (depth 20)": every cell named, grouped by width."""
    parts = []
    for width in widths:
        depths = [str(d) for d, w in cells if w == width]
        if depths:
            parts.append(f"width {width} (depth{'s' if len(depths) > 1 else ''} "
                         f"{join(depths)})")
    return join(parts)


def cells_sentence(results) -> str:
    """Every (depth, width) cell, grouped by how scale 1's median edge compares."""
    words = cell_words(results)
    parts = []
    for word in ("lower", "the same", "higher"):
        cells = [cell for cell, found in words.items() if found == word]
        if cells:
            parts.append(f"{word} {'as' if word == 'the same' else 'than'} the best smaller "
                         f"scale's at {_cells_text(cells, results.widths)}")
    return "scale 1's median edge is " + "; ".join(parts) if parts else ""


def paper_sentence(results) -> str:
    """One sentence: where the scale mattered here, against the paper's width of trouble."""
    words = cell_words(results)
    narrow = [w for w in results.widths if w <= PAPER_WIDTH]
    wide = [w for w in results.widths if w > PAPER_WIDTH]
    if not words or not narrow or not wide:
        lacks = (f"no width on one side of {PAPER_WIDTH}" if words else
                 "no scale 1 beside a smaller constant scale")
        return (f"The paper saw the instability once the filters exceeded {PAPER_WIDTH}; this "
                f"grid has {lacks}, so it cannot say whether width matters.")

    def share(widths):
        cells = [c for c in words if c[1] in widths]
        return sum(words[c] == "lower" for c in cells), len(cells)

    (n_low, n_all), (w_low, w_all) = share(narrow), share(wide)
    n_name, w_name = (f"width {join([str(w) for w in ws])}" for ws in (narrow, wide))
    ratio_n, ratio_w = n_low / n_all, w_low / w_all
    how = ("more often in the narrow trunk than in the wide one, the opposite of the paper's "
           "framing" if ratio_n > ratio_w else
           "more often in the wide trunk, in line with the paper" if ratio_w > ratio_n else
           "as often in the narrow trunk as in the wide one, so width over 1000 is not what "
           "makes it matter here")
    return (f"The paper saw the instability once the filters exceeded {PAPER_WIDTH}; here "
            f"scale 1's edge is below the smaller scales' in {n_low} of {n_all} depths at "
            f"{n_name} and {w_low} of {w_all} at {w_name}: the scale matters {how}.")


def _deep_part(results) -> str:
    """The deepest depth: where scale 1 fails and the smaller constant scales train, with
    the runs counted (and "trained" qualified when a last block ended mostly zeros)."""
    median, _, _ = results.edge_summary()
    labels, one, small = scale_indices(results)
    deep, depth = len(results.depths) - 1, results.depths[-1]
    floor = [min(median[deep, w, j] for j in small) for w in range(len(results.widths))]
    if all(median[deep, w, one] == floor[w] for w in range(len(floor))):
        return f"at {depth} blocks, the scale does not move the stability edge"
    if not all(median[deep, w, one] < floor[w] for w in range(len(floor))) or min(floor) == 0:
        return (f"at {depth} blocks, scale 1's stability edge is below the smaller scales' at "
                "some widths only")
    lr = min(floor)
    k = list(results.lrs).index(lr)
    verdicts = results.verdicts()[deep, :, :, k, :]
    ones = verdicts[:, one, :]
    smalls = verdicts[:, small, :]
    failed = int(np.isin(ones, ("died", "diverged")).sum())
    verb = "dies" if (ones == "died").all() else "fails"
    trained = int(np.isin(smalls, ("trained", MOSTLY_DEAD_VERDICT)).sum())
    mostly = int((smalls == MOSTLY_DEAD_VERDICT).sum())
    names = join([labels[j] for j in small])
    return (f"at {depth} blocks, scale 1 {verb} at lr {lr:g} ({failed} of {ones.size} runs "
            f"failed) where {names} train ({trained} of {smalls.size} runs"
            + (f", {mostly} of them with the last block >={MOSTLY_DEAD:.0%} zeros" if mostly
               else "") + ")")


def headline(results) -> str:
    """The finding in one line (notebook 06's title): the deepest depth, then every (depth,
    width) cell grouped by how scale 1's median edge compares with the smaller scales'."""
    _, one, small = scale_indices(results)
    if one is None or not small:
        return "the stability edge per depth, width and scale"
    text = _deep_part(results) + "; " + cells_sentence(results)
    return text[0].upper() + text[1:]


def edge_lines(results) -> list[str]:
    """Every scale's stability edge per depth and width (ReZero and LayerScale beside the
    constants)."""
    median, low, high = results.edge_summary()
    labels, _, _ = scale_indices(results)
    lines = ["Stability edge (largest learning rate that trained, with every smaller one; "
             f">={results.lrs[-1]:g}: the largest trained), median over seeds and the range "
             "where they differ:"]
    for d, depth in enumerate(results.depths):
        for w, width in enumerate(results.widths):
            edges = "; ".join(
                f"{labels[j]}: {edge_text(median[d, w, j], results.lrs)}"
                + ("" if low[d, w, j] == high[d, w, j] else
                   f" ({edge_range(low[d, w, j], high[d, w, j], results.lrs)})")
                for j in range(len(labels)))
            lines.append(f"  depth {depth}, width {width}: {edges}.")
    sentence = cells_sentence(results)
    if sentence:
        lines.append(sentence[0].upper() + sentence[1:] + ".")
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
            parts = [f"{scale_label(scale)} {acc_text(mean[d, w, j], low[d, w, j], high[d, w, j])}"
                     for j, scale in enumerate(results.scales)]
            lines.append(f"  depth {depth}, width {width}: " + ", ".join(parts) + ".")
    return lines


def conclusion(results) -> str:
    verdicts = results.verdicts()
    lines = [f"In short: {headline(results)} (medians over seeds).", paper_sentence(results),
             grid_line(results), f"Verdicts: {counts_line(verdicts)}."]
    for d, depth in enumerate(results.depths):
        lines.append(f"  depth {depth}: {counts_line(verdicts[d])}.")
    lines += mechanism_lines(results)
    lines += edge_lines(results)
    lines.append(decomposition_summary(results))
    lines += decomposition_lines(results)[int(not results.arm_values()):]
    lines += death_lines(results)
    lines += accuracy_lines(results)
    lines.append(accuracy_answer(results))
    return "\n".join(lines)
