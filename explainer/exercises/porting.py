"""Exercises of ``05_porting``: a swapped BatchNorm port, the v2 text's changes, torch layout."""

from __future__ import annotations

from functools import cache

import numpy as np

from ..core.lesson import lesson_setup
from ..core.weights import block_weights
from . import facts
from .core import (
    ANSWER,
    NUMBER,
    exercise,
    otherwise,
    when_at_most,
    when_close,
    when_equal,
    when_same_sizes,
)

NOTEBOOK = "05_porting"
HWIO_TO_OIHW = (3, 2, 0, 1)  # Keras / slim conv kernel layout -> torch.nn.Conv2d.weight


def _weights() -> dict[str, np.ndarray]:
    return block_weights(facts.block())


@cache  # measured once per process, when first asked
def _swap_difference() -> tuple[float, float]:
    """(max |net_out| difference slim vs port with beta and moving_mean swapped, and without),
    on the lesson's input with every default argument, as the question writes it."""
    from ..core.tracing import forward
    from ..ports.keras_port import from_slim
    from ..ports.legacy import run_slim_block35

    x = lesson_setup().x
    run = run_slim_block35(x)
    swapped = dict(run.variables)
    for name in run.variables:
        if name.endswith("/BatchNorm/beta"):
            mean = name.removesuffix("beta") + "moving_mean"
            swapped[name], swapped[mean] = run.variables[mean], run.variables[name]
    diffs = [float(np.max(np.abs(forward(from_slim(v), x) - run.net_out)))
             for v in (swapped, run.variables)]
    return diffs[0], diffs[1]


@cache  # measured once per process, when first asked
def _changes_needed(variant: str) -> tuple[int, list[tuple[str, str]]]:
    """How many text changes the original needs before it runs (counted by running it)."""
    from ..ports.translation import original_errors

    stages = original_errors(variant)
    runs = [i for i, (_, outcome) in enumerate(stages) if outcome == "runs"]
    return (runs[0] if runs else -1), stages


@exercise("port_swap_bn", NOTEBOOK,
          "Run the original code on the lesson's input, `x = explainer.lesson_setup().x; run = "
          "explainer.ports.legacy.run_slim_block35(x)`, then swap `beta` and `moving_mean` of "
          "every BatchNorm in `run.variables` and port them, `explainer.ports.from_slim(swapped)` "
          "(default arguments throughout). What is the max abs difference between "
          "`explainer.forward(ported, x)` and `run.net_out`?",
          NUMBER, "1e-6", solve=lambda: f"{_swap_difference()[0]:.4f}")
def port_swap_bn():
    swapped, faithful = _swap_difference()
    return [
        when_close(swapped, True, f"max |diff| = {swapped:.4f} with the swap, {faithful:.1e} "
                   "without: far above the 1e-5 a correct port reaches. With the initial "
                   "statistics (beta = moving_mean = 0) the swap exchanges two zeros and changes "
                   "nothing, so only non-trivial statistics can catch it."),
        when_at_most(1e-5, False, f"{ANSWER} is what a correct port gives ({faithful:.1e}). Did "
                     "the swap happen? With all-zero beta and moving_mean it would change "
                     "nothing; the seeded statistics are not zero."),
        otherwise(False, f"{ANSWER} is not it. Run legacy.run_slim_block35, swap the two arrays "
                  "for each BatchNorm, port.from_slim, and compare net_out."),
    ]


@exercise("port_v2_changes", NOTEBOOK,
          "How many changes to its text does tf-models' v2 block35 need before it runs on "
          "TF 2.21 (see translation.original_errors('v2'))?", "a whole number", "5",
          reader="whole",
          solve=lambda: str(_changes_needed("v2")[0]))
def port_v2_changes():
    needed, stages = _changes_needed("v2")
    v1 = _changes_needed("v1")[0]
    first = stages[0][1]
    return [
        when_equal(needed, True, f"{needed} (v1 needs {v1}). The original v2 text first fails "
                   f"with {first}; it already writes tf.concat(axis=3, values=...), the TF 1.0 "
                   "argument order, so the concat change facenet's v1 needs is not there."),
        when_equal(v1, False, f"{ANSWER} is what facenet's v1 needs. Which of its changes does "
                   "the v2 text, written later, already have?"),
        otherwise(False, f"{ANSWER} is not it. Count the stages of "
                  "translation.original_errors('v2') before the one that runs."),
    ]


@exercise("port_kernel_shape", NOTEBOOK,
          "Our `Conv2d_1x1/weights` (the `up` projection) has the slim / Keras layout (height, "
          "width, in, out). What shape must torch.nn.Conv2d's weight have for it?",
          "a shape tuple", "(1, 1, 96, 256)", reader="shape",
          solve=lambda: str(np.transpose(_weights()["Conv2d_1x1/weights"], HWIO_TO_OIHW).shape))
def port_kernel_shape():
    kernel = _weights()["Conv2d_1x1/weights"]
    truth = tuple(np.transpose(kernel, HWIO_TO_OIHW).shape)
    return [
        when_equal(truth, True, f"slim's {kernel.shape} (H, W, in, out) becomes {truth} (out, "
                   "in, H, W) for torch: transpose(3, 2, 0, 1), not a reshape."),
        when_equal(tuple(kernel.shape), False, f"{ANSWER} is the slim / Keras layout; torch "
                   "wants (out, in, H, W)."),
        when_same_sizes(truth, False, f"{ANSWER} has the right sizes in the wrong order; torch's "
                        "Conv2d weight is (out_channels, in_channels, kernel_h, kernel_w)."),
        otherwise(False, f"{ANSWER} is not it. Start from {kernel.shape} = (H, W, in, out)."),
    ]
