"""`python -m explainer why-scale`: train the miniature trunk over the grid (Szegedy et al. §3.3).

    python -m explainer why-scale                 # the full grid -> results/why_scale.json
    python -m explainer why-scale --quick         # smoke test, < 60 s -> build/why_scale_quick.json
    python -m explainer why-scale --out my.json   # somewhere else

Interrupt it (Ctrl-C) and run the same command again: finished runs are kept in
``<out>.partial.jsonl`` and skipped. ``--out`` is checked before TensorFlow loads, and so is
what it holds: a file holding another grid's results (or no results) is replaced only with
``--force``. TensorFlow loads after :func:`check`, before :func:`run` (``cli.main``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from ...core.validate import check_output_path
from ...scaling.experiment import GRIDS, existing_results, partial_path, read_partial, run_grid
from ...scaling.why_scale_results import results_from_dict

DEFAULT_OUT = {"full": os.path.join("results", "why_scale.json"),
               "quick": os.path.join("build", "why_scale_quick.json")}


def json_path(text: str) -> str:
    """An argparse type: a .json file name in a writable folder (checked before any work)."""
    try:
        check_output_path("out", text, suffix=".json")
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test of the machinery (a tiny grid, < 60 s); it shows "
                             "nothing about the scale")
    parser.add_argument("--out", type=json_path, metavar="FILE.json",
                        help=f"results file (default {DEFAULT_OUT['full']}, or "
                             f"{DEFAULT_OUT['quick']} with --quick)")
    parser.add_argument("--force", action="store_true",
                        help="replace an --out file that holds another grid's results")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _grid_and_out(args) -> tuple[str, str]:
    grid = "quick" if args.quick else "full"
    return grid, args.out or DEFAULT_OUT[grid]


def check(args) -> None:
    """Refuse an ``--out`` that holds another grid's results, or no results, without
    ``--force`` (a ValueError: one line, exit 2), before TensorFlow loads."""
    grid, out = _grid_and_out(args)
    if not args.force:
        existing_results(Path(out), GRIDS[grid].hash())


def run(args) -> int:
    from tqdm import tqdm

    grid, out = _grid_and_out(args)
    config = GRIDS[grid]
    if args.out is None:
        os.makedirs(os.path.dirname(out), exist_ok=True)
    total = len(config.runs())
    bar = tqdm(total=total, unit="run", disable=args.no_progress, file=sys.stderr,
               desc=f"why-scale {grid}")
    resumed = len(read_partial(Path(out), config.hash(), bar.write))
    if resumed:
        bar.write(f"resuming: {resumed} of {total} runs already in {partial_path(Path(out))}")

    def on_run(key, run):
        bar.update(1)
        if run is not None:
            bar.set_postfix_str(f"{key}: {run.fate} ({run.seconds:.0f} s)")

    command = "python -m explainer why-scale" + (" --quick" if args.quick else "") + \
        (f" --out {args.out}" if args.out else "")
    try:
        document = run_grid(config, out, command=command, on_run=on_run, force=args.force,
                            note=bar.write)
    finally:
        bar.close()
    print(f"{out}: {total} runs, config hash {document['config_hash']}\n")
    if args.quick:
        print("This was a smoke test: one tiny trunk, one seed, 10 steps. It checks that the "
              "machinery runs and says nothing about the scale. The findings come from the "
              "full grid: `make experiment`, or notebook 06 on the stored results.")
        return 0
    print(results_from_dict(document).conclusion())
    return 0
