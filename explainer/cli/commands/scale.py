"""`python -m explainer scale`: sweep the residual scale and print what it does.

    python -m explainer scale --variant v2 --scales 0,0.1,0.17,0.2,1
    python -m explainer scale --plot sweep.png      # also writes the figure
    python -m explainer scale --json                 # only the JSON document

TensorFlow is imported inside :func:`run`, after argparse has checked every argument.
"""

from __future__ import annotations

import argparse
import os

from ...core.lesson import sample_input
from ...core.schedule import REAL_SCALES
from ...core.validate import shorten
from ...scaling.sweep import scale_sweep
from ..jsonout import dumps
from .argtypes import add_block_options, block_kind, scales

DEFAULT_SCALES = "0,0.05,0.1,0.17,0.2,0.3,0.5,1"
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_path(text: str) -> str:
    """An argparse type: a writable .png / .svg / .pdf path (tried before any work)."""
    if not text.lower().endswith(PLOT_SUFFIXES):
        raise argparse.ArgumentTypeError(f"plot: got {shorten(text)}; expected a file name "
                                         f"ending in {', '.join(PLOT_SUFFIXES)}")
    folder = os.path.dirname(os.path.abspath(text))
    if not os.path.isdir(folder):
        raise argparse.ArgumentTypeError(f"plot: got {shorten(text)}; its folder "
                                         f"{shorten(folder)} does not exist")
    existed = os.path.exists(text)
    try:  # open it now, before anything is computed: a late failure would waste the run
        with open(text, "ab"):
            pass
    except OSError as err:
        raise argparse.ArgumentTypeError(f"plot: got {shorten(text)}, which cannot be written "
                                         f"({err.strerror}); expected a writable file "
                                         "name") from None
    if not existed:
        os.remove(text)  # leave nothing behind if the run fails later
    return text


def add_arguments(parser) -> None:
    add_block_options(parser, scale_default=None)  # None: the chosen block's real scale
    parser.add_argument("--block", type=block_kind, default="block35",
                        help="block35 (default), block17 or block8; without --scale, the "
                             "block's own scale in the real nets (0.17, 0.1, 0.2)")
    parser.add_argument("--scales", type=scales, default=scales(DEFAULT_SCALES),
                        help=f"comma-separated scales to tabulate ({DEFAULT_SCALES})")
    parser.add_argument("--plot", type=plot_path, metavar="FILE.png",
                        help="also write the sweep figure (101 scales over 0..1 and yours, "
                             "marker at --scale)")


def run(args) -> int:
    import numpy as np

    from ...core.blocks import build_block

    if args.scale is None:
        args.scale = REAL_SCALES[args.block]
    block = build_block(args.block, args.variant, scale=args.scale, activation=args.activation,
                        seed=args.seed, device=args.device)
    x = sample_input(args.variant, batch=args.batch, size=args.size, seed=args.seed,
                     block=args.block)
    sweep = scale_sweep(block, x, args.scales)
    if args.plot:
        from ...plots.sweep import plot_sweep

        lo, hi = min(0.0, min(args.scales)), max(1.0, max(args.scales))
        fine = np.union1d(np.linspace(lo, hi, 101), args.scales)
        plot_sweep(scale_sweep(block, x, fine), scale=args.scale).savefig(args.plot)
    if args.json:
        print(dumps({**sweep.to_dict(), "plot": args.plot}))
        return 0
    print(f"{args.block} {args.variant}, activation={sweep.activation}, input {tuple(x.shape)}, "
          f"seed {args.seed}: the branches ran once, every scale comes from net and up\n")
    print(sweep)
    print("\nratio = ||scale*up|| / ||net||; out change = ||f(net+scale*up) - f(net)|| / "
          "||f(net)||;\nflips = fraction of units whose ReLU on/off state differs from scale 0")
    if args.plot:
        print(f"\nwrote {args.plot}")
    return 0
