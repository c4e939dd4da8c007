"""Exercises of ``06_why_scale``: read the stored experiment (results/why_scale.json).

The truth is computed from the results file when you check, with the same code the notebook's
figures use; the file itself is produced by ``make experiment`` and checked by the tests.
TensorFlow and the results load only when an exercise is checked.
"""

from __future__ import annotations

from functools import lru_cache

from ..scaling.why_scale.results import load_why_scale_results
from .core import ANSWER, NUMBER, exercise, otherwise, when_close, when_equal

NOTEBOOK = "06_why_scale"
RATIO_WIDTH = 1088  # the width the first question asks about
DEEPEST = 20  # the depth the questions ask about: the real v1 net's number of blocks


@lru_cache(maxsize=1)
def _results():
    return load_why_scale_results()


def _step0_ratios(width: int = RATIO_WIDTH) -> tuple[float, float]:
    """Block 1's ||scale*up|| / ||net|| at step 0 for scale 1 and scale 0.1."""
    results = _results()
    lr, seed = results.lrs[0], results.seeds[0]
    one = results.get(DEEPEST, width, 1.0, lr, seed).step0_residual_ratio[0]
    tenth = results.get(DEEPEST, width, 0.1, lr, seed).step0_residual_ratio[0]
    return float(one), float(tenth)


@exercise("why_scale_step0_ratio", NOTEBOOK,
          f"At step 0, block 1 of the depth-{DEEPEST}, width-{RATIO_WIDTH} trunk has a "
          "residual ratio ||scale*up|| / ||net|| at scale 1 and at scale 0.1 (same seed, so "
          "the same weights). How many times larger is it at scale 1? (read the stored runs: "
          "results.get(depth, width, scale, lr, seed).step0_residual_ratio[0])",
          NUMBER, "3.0",
          solve=lambda: f"{_step0_ratios()[0] / _step0_ratios()[1]:.4f}")
def why_scale_step0_ratio():
    one, tenth = _step0_ratios()
    truth = one / tenth
    return [
        when_close(truth, True, f"stored: {one:.5g} / {tenth:.5g} = {truth:.4f}. At step 0 "
                   "nothing has been trained: block 1 sees the same input and has the same "
                   "weights at both scales, so only the factor in front of `up` differs."),
        when_close(truth ** 2, False, f"{ANSWER} is the growth of the squared norm; the ratio "
                   "of norms is linear."),
        when_close(one, False, f"{ANSWER} is the ratio itself at scale 1; the question asks "
                   "for a factor."),
        otherwise(False, f"{ANSWER} is not it. Does block 1's `up` depend on the scale before "
                  "the first update? Then what is ||1*up|| / ||0.1*up||?"),
    ]


def _failures(scale: float = 1.0) -> tuple[int, int, int]:
    """(failed, died, diverged) depth-20 runs at ``scale`` over every width, rate and seed."""
    results = _results()
    runs = [results.get(DEEPEST, w, scale, lr, seed) for w in results.widths
            for lr in results.lrs for seed in results.seeds]
    died = sum(r.died and not r.diverged for r in runs)
    diverged = sum(r.diverged for r in runs)
    return died + diverged, died, diverged


@exercise("why_scale_failures", NOTEBOOK,
          f"How many of the stored depth-{DEEPEST} scale-1 runs failed, that is died (last "
          "block >= 99 % zeros to the end) or diverged (non-finite loss), over every width, "
          "learning rate and seed of the grid? (The grid's runs at a constant scale: leave out "
          "the decomposition arms, whose up_init or up_lr is not 1.)", "a whole number", "4",
          reader="whole",
          solve=lambda: str(_failures()[0]))
def why_scale_failures():
    failed, died, diverged = _failures()
    results = _results()
    total = len(results.widths) * len(results.lrs) * len(results.seeds)
    tenth = _failures(0.1)[0]
    partial = [when_equal(count, False, f"{ANSWER} counts only the runs that {verb}; add the "
                          "others.") for count, verb in ((died, "died"), (diverged, "diverged"))
               if died and diverged]
    return [
        when_equal(failed, True, f"{failed} of {total} scale-1 runs failed ({died} died, "
                   f"{diverged} diverged); at scale 0.1, {tenth} did."),
        *partial,
        when_equal(tenth, False, f"{ANSWER} is the count at scale 0.1; the question is about "
                   "scale 1."),
        otherwise(False, f"{ANSWER} is not it. Count the depth-{DEEPEST} scale-1 runs whose "
                  "fate is not 'trained': results.fates(), or run.fate for each run."),
    ]
