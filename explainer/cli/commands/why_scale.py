"""`python -m explainer why-scale`: train the miniature trunk over the grid (Szegedy et al. §3.3).

    python -m explainer why-scale                 # the full grid -> results/why_scale.json
    python -m explainer why-scale --quick         # smoke test, < 60 s -> build/why_scale_quick.json
    python -m explainer why-scale --out my.json   # somewhere else
    python -m explainer why-scale --depths 3,10 --widths 64 --scales 1,0.1 --lrs 0.1 \\
        --seeds 0,1 --steps 20 --arms up_init=0.1,up_lr=0.01 --workers 2 --out mine.json

Each grid flag replaces that axis of the default grid (the full one, or the quick one with
``--quick``). Runs are keyed by their own arguments: every run already in ``--out`` (or in its
``<out>.partial.jsonl`` after an interruption) is reused and the line ``reused N of M runs``
says how many; ``--force`` trains every run again. Interrupt it (Ctrl-C) and run the same
command again to resume. ``--workers N`` (N >= 2) trains on a Dask LocalCluster of N
single-threaded worker processes, ``--scheduler ADDRESS`` on an existing Dask cluster.
``--out`` is checked before TensorFlow loads, and locked: a second why-scale on the same file
is refused at once. Notices and the progress bar go to stderr, the results to stdout.
TensorFlow loads after :func:`check`, before :func:`run` (``cli.main``).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from ...core.validate import check_output_path, shorten
from ...scaling.why_scale.experiment import (
    GRIDS,
    GridConfig,
    acquire_lock,
    existing_results,
    partial_path,
    release_lock,
    run_grid,
)
from ...scaling.why_scale.results import results_from_dict
from ...scaling.why_scale.training import check_lr, check_multiplier
from ...scaling.why_scale.trunk_args import LIMITS, check_trunk_scale

DEFAULT_OUT = {"full": os.path.join("results", "why_scale.json"),
               "quick": os.path.join("build", "why_scale_quick.json")}
MAX_AXIS = 100  # values in one axis: a grid is their product, so each axis stays small
MAX_WORKERS = 256


def json_path(text: str) -> str:
    """An argparse type: a .json file name in a writable folder (checked before any work)."""
    try:
        check_output_path("out", text, suffix=".json")
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    return text


def _items(name: str, text: str, example: str) -> list[str]:
    parts = [p.strip() for p in text.split(",")]
    if not text.strip() or any(not p for p in parts):
        raise argparse.ArgumentTypeError(f"{name}: got {shorten(text)}; expected a comma list "
                                         f"such as {example}")
    if len(parts) > MAX_AXIS:
        raise argparse.ArgumentTypeError(f"{name}: got {len(parts):,} values; expected at most "
                                         f"{MAX_AXIS}")
    return parts


def _whole(name: str, text: str, minimum: int, maximum: int) -> int:
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 12:
        raise argparse.ArgumentTypeError(f"{name}: got {shorten(text)}; expected a whole number "
                                         f"from {minimum} to {maximum:,}")
    value = int(text)
    if not minimum <= value <= maximum:
        raise argparse.ArgumentTypeError(f"{name}: got {value:,}; expected a whole number from "
                                         f"{minimum} to {maximum:,}")
    return value


def _number(name: str, text: str, check) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{name}: got {shorten(text)}; expected a number such "
                                         "as 0.1") from None
    try:
        return check(value)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(f"{name}: {err}") from None


def _whole_list(name: str, minimum: int, maximum: int, example: str):
    def parse(text: str) -> tuple:
        values = [_whole(name, p, minimum, maximum) for p in _items(name, text, example)]
        return tuple(dict.fromkeys(values))
    return parse


def scales_axis(text: str) -> tuple:
    """Numbers, "rezero", "layerscale"."""
    out = []
    for part in _items("scales", text, "1,0.17,rezero"):
        if part.lower() in ("rezero", "layerscale"):
            out.append(part.lower())
            continue
        out.append(_number("scales", part, check_trunk_scale))
    return tuple(dict.fromkeys(out))


def lrs_axis(text: str) -> tuple:
    return tuple(dict.fromkeys(_number("lrs", p, check_lr)
                               for p in _items("lrs", text, "0.03,0.1")))


def arms_axis(text: str) -> tuple:
    """Arms at scale 1: ``up_init=0.1`` (a small start), ``up_lr=0.01`` (a slow step), or both
    joined by ``+`` (``up_init=0.1+up_lr=0.01``: scale 0.1's reparametrisation under SGD);
    ``none`` for no arms."""
    if text.strip().lower() == "none":
        return ()
    arms = []
    for part in _items("arms", text, "up_init=0.1,up_lr=0.01"):
        values = {"up_init": 1.0, "up_lr": 1.0}
        for term in part.split("+"):
            name, _, value = term.partition("=")
            name = name.strip().lower()
            if name not in values or not value.strip():
                raise argparse.ArgumentTypeError(
                    f"arms: got {shorten(part)}; expected up_init=X, up_lr=Y or "
                    "up_init=X+up_lr=Y (multipliers on every block's `up` conv), or none")
            values[name] = _number("arms", value.strip(),
                                   lambda v, n=name: check_multiplier(n, v))
        arms.append((values["up_init"], values["up_lr"]))
    return tuple(dict.fromkeys(arms))


def workers_count(text: str) -> int:
    return _whole("workers", text, 1, MAX_WORKERS)


def add_arguments(parser) -> None:
    parser.add_argument("--quick", action="store_true",
                        help="a smoke test of the machinery (a tiny grid, < 60 s); it shows "
                             "nothing about the scale")
    parser.add_argument("--out", type=json_path, metavar="FILE.json",
                        help=f"results file (default {DEFAULT_OUT['full']}, or "
                             f"{DEFAULT_OUT['quick']} with --quick)")
    parser.add_argument("--force", action="store_true",
                        help="train every run again, and replace an --out file that is not a "
                             "why-scale results file")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    axes = parser.add_argument_group("the grid (each flag replaces that axis of the default)")
    axes.add_argument("--depths", type=_whole_list("depths", 1, LIMITS["depth"], "3,10,20"),
                      help="residual blocks, e.g. 3,10,20")
    axes.add_argument("--widths", type=_whole_list("widths", 1, LIMITS["width"], "256,1088"),
                      help="channels of the residual stream, e.g. 256,1088")
    axes.add_argument("--scales", type=scales_axis,
                      help="numbers, rezero, layerscale, e.g. 1,0.3,0.1,rezero")
    axes.add_argument("--lrs", type=lrs_axis, help="SGD learning rates, e.g. 0.03,0.1,0.3")
    axes.add_argument("--seeds", type=_whole_list("seeds", 0, LIMITS["seed"], "0,1,2"),
                      help="seeds of the weights and batches, e.g. 0,1,2")
    axes.add_argument("--steps", type=lambda t: _whole("steps", t, 1, LIMITS["steps"]),
                      help="SGD steps of every run")
    axes.add_argument("--arms", type=arms_axis, metavar="ARMS",
                      help="decomposition arms at scale 1: up_init=0.1 (a small start), "
                           "up_lr=0.01 (a slow step), up_init=0.1+up_lr=0.01, or none")
    axes.add_argument("--arm-depths", type=_whole_list("arm-depths", 1, LIMITS["depth"], "20"),
                      help="the depths the arms run at (default: 20, or the deepest of "
                           "--depths when 20 is not among them)")
    where = parser.add_argument_group("where the runs train")
    where.add_argument("--workers", type=workers_count, nargs="?", const=os.cpu_count() or 1,
                       metavar="N", help="train on a Dask LocalCluster of N single-threaded "
                                         "worker processes (no N: one per core); 1 or no flag: "
                                         "in this process")
    where.add_argument("--scheduler", metavar="ADDRESS",
                       help="train on an existing Dask cluster, e.g. tcp://10.0.0.5:8786")


AXES = ("depths", "widths", "scales", "lrs", "seeds", "steps", "arms", "arm_depths")


def grid_of(args) -> tuple[str, GridConfig]:
    """The grid's name ("full", "quick" or "custom") and its config: the default grid with
    every axis given as a flag replaced."""
    name = "quick" if args.quick else "full"
    changes = {axis: getattr(args, axis) for axis in AXES if getattr(args, axis) is not None}
    if not changes:
        return name, GRIDS[name]
    config = dataclasses.replace(GRIDS[name], **changes)
    if config.arms and args.arm_depths is None and not set(config.arm_depths) & set(
            config.depths):  # the default arm depth is not in --depths: the deepest given
        config = dataclasses.replace(config, arm_depths=(max(config.depths),))
    return "custom", config


def _out(args) -> str:
    return args.out or DEFAULT_OUT["quick" if args.quick else "full"]


def check(args) -> None:
    """Before TensorFlow loads: refuse an ``--out`` that is not a results file (without
    ``--force``), bound the grid's size, and lock the file (a second why-scale on it exits 2
    here, before any training)."""
    _, config = grid_of(args)
    runs = len(config.runs())
    if runs > 100_000:
        raise ValueError(f"grid: {runs:,} runs; expected at most 100,000 (fewer values per flag)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise ValueError("scheduler: got ''; expected a Dask scheduler address such as "
                         "tcp://127.0.0.1:8786")
    out = Path(_out(args))
    if args.out is None:
        os.makedirs(out.parent, exist_ok=True)
    if not args.force:
        existing_results(out, config.hash())
    acquire_lock(out)


def run(args) -> int:
    from tqdm import tqdm

    name, config = grid_of(args)
    out = _out(args)
    total = len(config.runs())
    bar = tqdm(total=total, unit="run", disable=args.no_progress, file=sys.stderr,
               desc=f"why-scale {name}")

    def note(text: str) -> None:
        bar.write(text, file=sys.stderr)

    def on_run(key, run):
        bar.update(1)
        if run is not None:
            bar.set_postfix_str(f"{key}: {run.fate} ({run.seconds:.0f} s)")

    command = "python -m explainer " + (" ".join(sys.argv[1:]) if sys.argv[1:2] == ["why-scale"]
                                        else "why-scale")
    try:
        document = run_grid(config, out, command=command, on_run=on_run, force=args.force,
                            note=note, workers=args.workers or 1, scheduler=args.scheduler)
    except KeyboardInterrupt:
        bar.close()
        kept = partial_path(Path(out))
        print("why-scale: interrupted; " + (
            f"the finished runs are kept in {kept}: run the same command again to resume"
            if kept.exists() else "no run had finished, nothing was written"), file=sys.stderr)
        return 130
    finally:
        bar.close()
        release_lock(Path(out))  # taken by check(); run_grid keeps it while it works
    print(f"{out}: {total} runs, config hash {document['config_hash']}\n")
    if name == "quick":
        print("This was a smoke test: one tiny trunk, one seed, 10 steps. It checks that the "
              "machinery runs and says nothing about the scale. The findings come from the "
              "full grid: `make experiment`, or notebook 06 on the stored results.")
        return 0
    if name == "custom":
        print("A grid of your own: the conclusion below is computed from its runs alone.")
    try:
        print(results_from_dict(document).conclusion())
    except (ValueError, KeyError, IndexError) as err:
        print(f"(no conclusion for this grid: {shorten(str(err), 200)})")
    return 0
