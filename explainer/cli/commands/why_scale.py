"""`python -m explainer why-scale`: train the miniature trunk over the grid (Szegedy et al. §3.3).

    python -m explainer why-scale                 # the full grid -> results/why_scale.json
    python -m explainer why-scale --quick         # small grid, < 60 s -> build/why_scale_quick.json
    python -m explainer why-scale --out my.json   # somewhere else

Interrupt it (Ctrl-C) and run the same command again: finished runs are kept in
``<out>.partial.jsonl`` and skipped. TensorFlow is imported inside :func:`run`.
"""

from __future__ import annotations

import argparse
import os
import sys

DEFAULT_OUT = {"full": os.path.join("results", "why_scale.json"),
               "quick": os.path.join("build", "why_scale_quick.json")}


def json_path(text: str) -> str:
    """An argparse type: a .json path (its folder is created when the grid starts)."""
    if not text.lower().endswith(".json"):
        raise argparse.ArgumentTypeError(f"out: got {text!r}; expected a file name ending in .json")
    return text


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="a small grid (one width, two scales, two learning rates; < 60 s)")
    parser.add_argument("--out", type=json_path, metavar="FILE.json",
                        help=f"results file (default {DEFAULT_OUT['full']}, or "
                             f"{DEFAULT_OUT['quick']} with --quick)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    from tqdm import tqdm

    from ...scaling.experiment import GRIDS, partial_path, read_partial, run_grid
    from ...scaling.why_scale_results import results_from_dict

    grid = "quick" if args.quick else "full"
    config = GRIDS[grid]
    out = args.out or DEFAULT_OUT[grid]
    total = len(config.runs())
    resumed = len(read_partial(_path(out), config.hash()))
    if resumed:
        print(f"resuming: {resumed} of {total} runs already in {partial_path(_path(out))}")
    bar = tqdm(total=total, unit="run", disable=args.no_progress, file=sys.stderr,
               desc=f"why-scale {grid}")

    def on_run(key, run):
        bar.update(1)
        if run is not None:
            fate = ("diverged" if run.diverged else "died" if run.died else
                    f"test acc {run.test_accuracy:.2f}")
            bar.set_postfix_str(f"{key}: {fate} ({run.seconds:.0f} s)")

    command = "python -m explainer why-scale" + (" --quick" if args.quick else "") + \
        (f" --out {args.out}" if args.out else "")
    try:
        document = run_grid(config, out, command=command, on_run=on_run)
    finally:
        bar.close()
    print(f"wrote {out} ({total} runs, config hash {document['config_hash']})\n")
    print(results_from_dict(document).conclusion())
    return 0


def _path(text: str):
    from pathlib import Path

    return Path(text)
