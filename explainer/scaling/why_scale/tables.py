"""The "why scale" grid as tables and the accuracy question answered: the summary table
(every depth x width x scale), every run seed by seed, and "Does the scale cost accuracy?" in
words, each computed from a :class:`.results.WhyScaleResults`."""

from __future__ import annotations

import numpy as np

from .trunk_args import scale_label
from .verdicts import (
    CONSTANT_SMALLER,
    SHORT,
    VERDICTS,
    edge_range,
    edge_text,
    final_dead,
    join,
    scale_indices,
    verdict,
    verdict_key,
)


def acc_text(mean: float, low: float, high: float) -> str:
    return "undefined (a seed diverged)" if np.isnan(mean) else \
        f"{mean:.3f} ({low:.3f}-{high:.3f})"


def _compare(results, mean, low, high) -> tuple[dict, tuple | None]:
    """Each smaller constant scale against scale 1 in every cell, by the seeds' ranges:
    word -> count ("less accurate", "more accurate", "within the seeds' spread"), and the
    largest drop (depth, width, label, its mean, scale 1's mean)."""
    labels, one, small = scale_indices(results)
    counts = {"less accurate": 0, "more accurate": 0, "within the seeds' spread": 0}
    worst = None
    for d, w in np.ndindex(mean.shape[:2]):
        for j in small:
            if np.isnan(mean[d, w, j]) or np.isnan(mean[d, w, one]):
                continue
            word = ("less accurate" if high[d, w, j] < low[d, w, one] else
                    "more accurate" if low[d, w, j] > high[d, w, one] else
                    "within the seeds' spread")
            counts[word] += 1
            gap = mean[d, w, one] - mean[d, w, j]
            if worst is None or gap > worst[0]:
                worst = (gap, results.depths[d], results.widths[w], labels[j], mean[d, w, j],
                         mean[d, w, one])
    return counts, worst


def accuracy_comparison(results) -> dict | None:
    """Each smaller constant scale against scale 1 in every cell, by the seeds' ranges, at the
    shared rate ("at_lr") and each at its own best rate ("at_best"): word -> count, and the
    largest drop of each ("worst_lr", "worst_best"). None without scale 1 or a smaller one."""
    _, one, small = scale_indices(results)
    if one is None or not small:
        return None
    lr = results.shared_lr()
    at_lr, worst = _compare(results, *results.accuracy_at(lr))
    best_mean, best_low, best_high, _ = results.best_accuracy()
    at_best, worst_best = _compare(results, best_mean, best_low, best_high)
    return {"lr": lr, "at_lr": at_lr, "worst_lr": worst, "at_best": at_best,
            "worst_best": worst_best}


def counts_text(counts: dict) -> str:
    return ", ".join(f"{word} in {count}" for word, count in counts.items())


def accuracy_answer(results) -> str:
    """"Does the scale cost accuracy?", answered from the numbers: each smaller constant
    scale against scale 1 in every cell, at the shared rate and at each one's best rate."""
    found = accuracy_comparison(results)
    if found is None:
        return "Does the scale cost accuracy? This grid has no scale 1 and smaller constant " \
               "scale to compare."
    n = sum(found["at_lr"].values())

    def told(counts, worst):
        text = counts_text(counts)
        if worst is not None and worst[0] > 0:
            text += (f" (largest drop: depth {worst[1]}, width {worst[2]}, scale {worst[3]} "
                     f"{worst[4]:.3f} against scale 1's {worst[5]:.3f})")
        return text

    best_less = found["at_best"]["less accurate"]
    verdict = (
        f"yes: even at its own best rate a smaller scale is less accurate in {best_less} of {n}"
        if 2 * best_less > n else
        "no: at its own best rate a smaller scale is never less accurate beyond the seeds' "
        "spread" if best_less == 0 else
        f"not as a rule: at its own best rate a smaller scale is less accurate in {best_less} of "
        f"{n}, as accurate (within the seeds' spread) or more in {n - best_less}")
    return (f"Does the scale cost accuracy? After {results.config.steps} steps at the shared lr "
            f"{found['lr']:g}, a smaller constant scale "
            f"({join([str(x) for x in CONSTANT_SMALLER])}) compared with scale 1 in the same "
            f"cell ({n} comparisons, by the seeds' ranges) is "
            f"{told(found['at_lr'], found['worst_lr'])}. Each at its own best learning rate of "
            f"the grid, it is {told(found['at_best'], found['worst_best'])}. So, after "
            f"{results.config.steps} steps: {verdict}.")


def summary_rows(results) -> list[dict]:
    """The summary table: one row per depth, width and scale, with the edge (median and the
    seeds' range), the verdicts over every lr and seed, the accuracy at the shared rate and at
    the setting's best rate."""
    median, low, high = results.edge_summary()
    verdicts = results.verdicts()
    lr = results.shared_lr()
    acc, acc_low, acc_high = results.accuracy_at(lr)
    best, best_low, best_high, best_lr = results.best_accuracy()
    rows = []
    for d, w, j in np.ndindex(median.shape):
        row = {"depth": results.depths[d], "width": results.widths[w],
               "scale": scale_label(results.scales[j]),
               "edge": edge_text(median[d, w, j], results.lrs)
               + ("" if low[d, w, j] == high[d, w, j] else
                  f" ({edge_range(low[d, w, j], high[d, w, j], results.lrs)})")}
        row["verdicts " + "/".join(SHORT.values())] = "/".join(
            str(int((verdicts[d, w, j] == v).sum())) for v in VERDICTS)
        row[f"accuracy at lr {lr:g}"] = acc_text(acc[d, w, j], acc_low[d, w, j],
                                                 acc_high[d, w, j])
        row["best accuracy (lr)"] = (
            "undefined" if np.isnan(best[d, w, j]) else
            f"{acc_text(best[d, w, j], best_low[d, w, j], best_high[d, w, j])} at "
            f"{best_lr[d, w, j]:g}")
        rows.append(row)
    return rows


def _table(rows: list[dict]) -> str:
    heads = list(rows[0])
    widths = [max(len(str(h)), *(len(str(r[h])) for r in rows)) for h in heads]
    line = "  ".join(f"{h:<{n}}" for h, n in zip(heads, widths, strict=True))
    body = ["  ".join(f"{r[h]!s:<{n}}" for h, n in zip(heads, widths, strict=True))
            for r in rows]
    return "\n".join([line.rstrip(), "-" * len(line.rstrip()), *(b.rstrip() for b in body)])


def summary_text(results) -> str:
    """:func:`summary_rows` as a text table (every depth x width x scale cell)."""
    return (f"Per setting, over {len(results.lrs)} learning rates x {len(results.seeds)} "
            f"seeds: the edge (median, seeds' range), the verdicts ({verdict_key()}), test "
            "accuracy (mean, seeds' range) at the shared rate and at the setting's best rate.\n"
            + _table(summary_rows(results)))


def _seed_cell(run) -> str:
    """One run as the whole-grid table writes it: verdict, dead fraction at its end, accuracy."""
    accuracy = run.test_accuracy
    return (f"{SHORT[verdict(run)]:<3} {final_dead(run):4.0%} "
            + ("  -  " if np.isnan(accuracy) else f"{accuracy:.3f}"))


def grid_table_text(results) -> str:
    """Every run: per depth, width, scale and lr of the constant-scale grid, then per arm of
    the decomposition (scale 1 with its up_init / up_lr) at its depth, each seed's verdict,
    the last block's dead fraction at its end and the test accuracy."""
    settings = [(d, w, s, 1.0, 1.0) for d in results.depths for w in results.widths
                for s in results.scales]
    depth = results.arm_depth()
    if depth is not None:
        settings += [(depth, w, 1.0, float(a), float(b)) for w in results.widths
                     for a, b in results.arms]
    rows = []
    for d, w, scale, up_init, up_lr in settings:
        name = scale_label(scale) + "".join(
            f" {label} {value:g}" for label, value in (("up_init", up_init), ("up_lr", up_lr))
            if value != 1.0)
        for lr in results.lrs:
            row = {"depth": d, "width": w, "scale": name, "lr": f"{lr:g}"}
            for seed in results.seeds:
                row[f"seed {seed}"] = _seed_cell(results.get(d, w, scale, lr, seed, up_init,
                                                             up_lr))
            rows.append(row)
    return (f"Each seed: verdict ({verdict_key()}), the last block's dead fraction at its last "
            "measured step, test accuracy (- where it diverged); the decomposition's arms "
            "last.\n" + _table(rows))
