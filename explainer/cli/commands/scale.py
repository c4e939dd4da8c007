"""`python -m explainer scale`: sweep the residual scale and print what it does.

    python -m explainer scale --variant v2 --scales 0,0.1,0.17,0.2,1
    python -m explainer scale --plot sweep.png      # also writes the figure
    python -m explainer scale --json                 # only the JSON document

TensorFlow is imported inside :func:`run`, after argparse has checked every argument.
"""

from __future__ import annotations

import argparse

from ...core.budget import check_block_run
from ...core.lesson import _sample_input
from ...core.schedule import REAL_SCALES
from ...core.validate import FLOAT32_MAX, atomic_output, check_output_path, shorten
from ...scaling.sweep import _scale_sweep
from ..jsonout import dumps
from .argtypes import add_block_options, block_kind, scales

DEFAULT_SCALES = "0,0.05,0.1,0.17,0.2,0.3,0.5,1"
PLOT_SUFFIXES = (".png", ".svg", ".pdf")


def plot_path(text: str) -> str:
    """An argparse type: a .png / .svg / .pdf file name in a writable folder, checked before
    any work and never opened here (a FIFO would block); never a symlink, so the ending
    typed is the file's own. :func:`check` refuses an existing file without ``--force``; the
    figure is written atomically."""
    try:
        check_output_path("plot", text)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not text.lower().endswith(PLOT_SUFFIXES):
        raise argparse.ArgumentTypeError(f"plot: got {shorten(text)}; expected a file name "
                                         f"ending in {', '.join(PLOT_SUFFIXES)}")
    return text


def add_arguments(parser) -> None:
    add_block_options(parser, scale_default=None)  # None: the chosen block's real scale
    parser.add_argument("--block", type=block_kind, default="block35",
                        help="block35 (default), block17 or block8; without --scale, the "
                             "block's own scale in the real nets (0.17, 0.1, 0.2)")
    parser.add_argument("--scales", type=scales, default=DEFAULT_SCALES,  # parsed when used
                        help=f"comma-separated scales to tabulate ({DEFAULT_SCALES})")
    parser.add_argument("--plot", type=plot_path, metavar="FILE.png",
                        help="also write the sweep figure (101 scales from min(0, the "
                             "smallest of --scales) to max(1, the largest), and yours, "
                             "marker at --scale); an existing file only with --force")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --plot file (never a read-only one, never "
                             "through a symlink)")


def check(args) -> None:
    """The block's real scale as default, and the budget from the shapes alone: before
    TensorFlow loads and anything is built."""
    if args.scale is None:
        args.scale = REAL_SCALES[args.block]
    if args.plot:
        check_output_path("plot", args.plot, replace=args.force)
    check_block_run(args.variant, args.batch, args.size, args.size, block=args.block,
                    what=f"sweeping {args.block} {args.variant}")


def _check_plottable(drawn, sweep, scale: float) -> None:
    """Refuse (one line, before anything is printed or written) a plot whose curves leave
    float32: past about FLOAT32_MAX / max|up| the residual is inf and the ratios undefined,
    and no axis can hold them."""
    import numpy as np

    drawn_keys = ("residual_ratio", "output_change", "relu_flips")  # the curves and title
    finite = np.ones(drawn.scales.shape, bool)
    for key in drawn_keys:
        finite &= np.isfinite(np.asarray(drawn[key], dtype=np.float64))
    at = drawn.at(scale)
    marked = all(np.isfinite(at[key]) for key in drawn_keys)
    if finite.all() and marked:
        return
    bad = np.append(drawn.scales[~finite], [] if marked else [scale])
    worst = float(bad[np.argmin(np.abs(bad))])
    largest = float(np.max(np.abs(sweep.up)))
    limit = FLOAT32_MAX / largest if largest > 0 else FLOAT32_MAX
    raise ValueError(f"plot: the curves are undefined from scale {worst:.3g} on (scale * up "
                     f"leaves float32's range, largest {FLOAT32_MAX:.4g}); expected --scales "
                     f"and --scale within about +-{limit:.3g} for --plot")


def run(args) -> int:
    """Every argument was checked by its argparse type and by :func:`check` (the budget):
    the block, its input and the sweep trust them."""
    import numpy as np

    from ...core.blocks import _spec, build_from_spec

    block = build_from_spec(_spec(args.block, args.variant, args.scale, args.activation,
                                  args.seed, args.device))
    x = _sample_input(args.variant, args.batch, args.size, args.seed, args.block)
    values = np.asarray(args.scales, dtype=np.float64)
    sweep = _scale_sweep(block, x, values, args.activation)
    if args.plot:
        from ...plots.sweep import plot_sweep

        lo, hi = min(0.0, values.min()), max(1.0, values.max())
        fine = np.union1d(np.linspace(lo, hi, 101), values)
        drawn = _scale_sweep(block, x, fine, args.activation)
        _check_plottable(drawn, sweep, args.scale)
        figure = plot_sweep(drawn, scale=args.scale)
        # no partial file if the write fails; nothing replaced without --force
        with atomic_output("plot", args.plot, replace=args.force) as tmp:
            figure.savefig(tmp)
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
