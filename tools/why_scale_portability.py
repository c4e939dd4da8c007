"""Measure what of the stored why-scale runs carries over to another float32 kernel path.

    python tools/why_scale_portability.py          # -> results/why_scale_portability.json

Reruns a sample of the stored runs (every depth-3 and depth-10 run of width 256, seed 0) in
fresh processes: as stored, and on two other kernel paths (:data:`PATHS`): another summation
order, as on another CPU.
For each it records the largest relative difference of the step-0 numbers, of the loss over
the first steps, the first step where the loss differs by more than 1e-3 (relative), and
whether the verdict (trained / died / diverged) is the same. Reruns are rounded as the file
stores them (6 significant figures), so "bit_identical" means every stored digit came back.
The tolerances of tests/test_why_scale_results.py come from this file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from explainer.scaling.why_scale.experiment import RESULTS_PATH  # noqa: E402
from explainer.scaling.why_scale.machine import machine_record  # noqa: E402

OUT = RESULTS_PATH.with_name("why_scale_portability.json")
# The stored path, and two others a different machine may take: oneDNN's kernels (TensorFlow's
# default on CPUs with AVX-512 VNNI / AMX) and one intra-op thread (another core count splits
# the sums differently).
PATHS = {"as_stored": {}, "onednn_on": {"TF_ENABLE_ONEDNN_OPTS": "1"},
         "one_thread": {"TF_NUM_INTRAOP_THREADS": "1"}}
EARLY = (3, 5, 10)  # the first steps compared
STEP0 = ("step0_grad_norm", "step0_residual_ratio", "step0_net_norm")

RERUN = """
import json, sys
from explainer.scaling.why_scale.training import train_trunk
for line in sys.stdin:
    run = train_trunk(**json.loads(line))
    print(json.dumps(run.to_dict()), flush=True)  # as stored: 6 significant figures
"""


def relative(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    both = np.isfinite(a) & np.isfinite(b)
    if not both.any():
        return 0.0
    return float(np.max(np.abs(a[both] - b[both]) / np.maximum(np.abs(b[both]), 1e-12)))


def compare(rerun: dict, stored: dict, steps: int) -> dict:
    loss_a = np.array([np.nan if v is None else v for v in rerun["loss"]], dtype=np.float64)
    loss_b = np.array([np.nan if v is None else v for v in stored["loss"]], dtype=np.float64)
    apart = np.flatnonzero(np.abs(loss_a - loss_b) > 1e-3 * np.abs(loss_b))
    out = {"step0_rel": max([relative(rerun[k], stored[k]) for k in STEP0]
                            + [relative(loss_a[0], loss_b[0])]),
           "first_step_apart_1e-3": int(apart[0]) if apart.size else None,
           "same_verdict": (rerun["died"], rerun["diverged"]) == (stored["died"],
                                                                  stored["diverged"]),
           "verdict": "diverged" if rerun["diverged"] else "died" if rerun["died"] else
           "trained", "stored_verdict": "diverged" if stored["diverged"] else "died" if
           stored["died"] else "trained",
           "bit_identical": rerun["loss"] == stored["loss"]}
    for k in EARLY:
        out[f"loss_rel_first_{k}"] = relative(loss_a[:k], loss_b[:k])
    return out


def main() -> int:
    stored = json.loads(RESULTS_PATH.read_text())
    sample = [r for r in stored["runs"] if r["width"] == 256 and r["depth"] in (3, 10)
              and r["seed"] == 0]
    parameters = ("width", "depth", "scale", "lr", "steps", "seed", "optimizer", "batch",
                  "stem_stride", "batchnorm", "stop_when_dead")
    stdin = "".join(json.dumps({k: r[k] for k in parameters}) + "\n" for r in sample)
    report = {"machine": machine_record(), "stored_machine": stored["machine"],
              "sample": [r["key"] for r in sample], "paths": {}}
    for path, env in PATHS.items():
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", RERUN], input=stdin, text=True,
                              capture_output=True, env={**os.environ, **env}, cwd=ROOT,
                              check=True)
        reruns = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
        rows = {r["key"]: compare(again, r, r["steps"]) for r, again in zip(sample, reruns,
                                                                              strict=True)}
        summary = {"seconds": round(time.perf_counter() - started, 1),
                   "max_step0_rel": max(v["step0_rel"] for v in rows.values()),
                   "verdicts_same": sum(v["same_verdict"] for v in rows.values()),
                   "bit_identical": sum(v["bit_identical"] for v in rows.values()),
                   "runs": len(rows)}
        for k in EARLY:
            summary[f"max_loss_rel_first_{k}"] = max(v[f"loss_rel_first_{k}"]
                                                     for v in rows.values())
        apart = [v["first_step_apart_1e-3"] for v in rows.values()
                 if v["first_step_apart_1e-3"] is not None]
        summary["earliest_step_apart_1e-3"] = min(apart) if apart else None
        report["paths"][path] = {"summary": summary, "runs": rows}
        print(path, json.dumps(summary), flush=True)
    OUT.write_text(json.dumps(report, indent=1) + "\n")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
