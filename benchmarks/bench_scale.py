"""Residual-scale sweep and slider speed (goals: sweep >= 30x faster than forwards; one slider
update, compute plus redraw, <= 30 ms at batch 1, 35x35).

1. A 101-point ``scale_sweep`` (one branch run, then the exact piecewise tail) against 101 full
   forwards, each of a real block built with that scale and the same weights, run through the
   block's own traced Keras forward (``explainer.forward``, the fastest plain path; blocks are
   built and warmed before timing). Also: the same sweep with one direct pass per scale.
2. ``ScaleExplorer.update(s)``: metrics at ``s`` from the cached tensors, two histograms, the
   blitted redraw and the PNG for the Image widget; split into its compute and redraw parts.
"""

from __future__ import annotations

import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
from _timing import median_ms  # noqa: E402

import explainer  # noqa: E402
from explainer.scaling.exact import direct_metrics
from explainer.widgets import scale_explorer

SCALES = np.round(np.linspace(0.0, 1.0, 101), 2)


def sweep_vs_forwards(variant: str, batch: int) -> None:
    block = explainer.build_block35(variant, scale=0.17, seed=0)
    x = explainer.sample_input(variant, batch=batch, size=35, seed=0)
    weights = explainer.block_weights(block)
    blocks = []
    for s in SCALES:
        b = explainer.build_block35(variant, scale=float(s), seed=1)
        explainer.set_block_weights(b, weights)
        explainer.forward(b, x)  # builds and warms its tf.function
        blocks.append(b)
    repeat = 7 if batch == 1 else 3
    sweep_ms = median_ms(lambda: explainer.scale_sweep(block, x, SCALES), repeat)
    forwards_ms = median_ms(lambda: [explainer.forward(b, x) for b in blocks], repeat, warmup=1)
    one_forward = forwards_ms / len(SCALES)
    sweep = explainer.scale_sweep(block, x, SCALES)
    direct_ms = median_ms(lambda: direct_metrics(sweep.net, sweep.up, SCALES, "relu"),
                          max(3, repeat // 2), warmup=1)
    worst = max(float(np.abs(sweep.net_out(s) - explainer.forward(b, x)).max())
                for s, b in zip(SCALES[::25], blocks[::25], strict=True))
    print(f"{variant:<8}{batch:>6}{sweep_ms:>11.1f}{forwards_ms:>14.1f}{one_forward:>10.2f}"
          f"{forwards_ms / sweep_ms:>9.1f}x{direct_ms:>13.1f}{worst:>12.1e}")


def slider(variant: str) -> None:
    block = explainer.build_block35(variant, scale=0.17, seed=0)
    x = explainer.sample_input(variant, batch=1, size=35, seed=0)
    app = scale_explorer(block, x)
    _, _, sweep, frame = app._pane(variant)
    moves = [float(s) for s in np.concatenate([SCALES, SCALES[::-1]])]
    for s in moves[:10]:
        app.update(s)
    times, compute, redraw = [], [], []
    for s in moves:
        t0 = time.perf_counter()
        app.update(s)
        times.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        values = sweep.at(s)
        t1 = time.perf_counter()
        frame.render(s, values)
        t2 = time.perf_counter()
        compute.append((t1 - t0) * 1000)
        redraw.append((t2 - t1) * 1000)
    forward_ms = median_ms(lambda: explainer.forward(block, x), 30)
    print(f"{variant:<8}{statistics.median(times):>14.1f}{statistics.median(compute):>12.1f}"
          f"{statistics.median(redraw):>11.1f}{np.percentile(times, 90):>10.1f}"
          f"{forward_ms:>15.2f}{len(app.image.value) / 1024:>10.0f}  runs={app.branch_runs}")


def main() -> None:
    print(f"cpu cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.2f}\n")
    print("1. 101-point sweep vs 101 full forwards (median ms)")
    print(f"{'variant':<8}{'batch':>6}{'sweep ms':>11}{'101 fwd ms':>14}{'1 fwd':>10}"
          f"{'speed-up':>10}{'direct ms':>13}{'max |diff|':>12}")
    for variant, batch in (("v1", 1), ("v2", 1), ("v1", 8)):
        sweep_vs_forwards(variant, batch)
    print("\n2. one slider update at batch 1, 35x35 (median ms over 202 moves)")
    print(f"{'variant':<8}{'update ms':>14}{'compute':>12}{'redraw':>11}{'p90 ms':>10}"
          f"{'1 forward ms':>15}{'PNG KiB':>10}")
    for variant in ("v1", "v2"):
        slider(variant)


if __name__ == "__main__":
    main()
