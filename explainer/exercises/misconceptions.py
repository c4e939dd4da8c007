"""Four misreadings of ``net += scale * up``, each graded by running what it would compute.

- ``scale_on_shortcut``: ``scale * net + up`` (the reading of fchollet/deep-learning-models #99);
- ``scale_after_sum``: ``scale * (net + up)`` (a real bug, krasserm/super-resolution #25);
- ``scale_per_sample_vs_channel``: a per-image scale of shape (N,) meets C when N == C;
- ``relu6_clip``: what ``clip_by_value(scale * up, -6, 6)`` of the relu6 block changes, and when.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from ..core.reference import tail
from ..core.schedule import BLOCK35_SCALE, SCHEDULE
from . import facts
from .core import ANSWER, NUMBER, exercise, otherwise, when_close, when_equal

SHORTCUT_NOTEBOOK = "01_what_does_star_do"
CLIP_NOTEBOOK = "03_residual_scaling"
BROADCAST_NOTEBOOK = "04_broadcasting"
DROP_SHAPE = (256, 4, 4, 256)  # N == C: the coincidence that hides the mistake
CLIP = 6.0  # relu6's bound, which the v2 code also clips scale * up to
FRACTION_FIGURES = 3  # 255/256 = 0.996: two figures (1.0) would round away the dropped channel


def _v1_block35_repeats() -> int:
    return next(s.repeats for s in SCHEDULE["v1"] if s.block == "block35")


def _net_up() -> tuple[np.ndarray, np.ndarray, float]:
    """The lesson block's own ``net`` and ``up`` (float64) and its scale."""
    tr = facts.traced()
    return tr["net"].value.astype(np.float64), tr["up"].value.astype(np.float64), tr.spec.scale


def _norm(a: np.ndarray) -> float:
    return float(np.linalg.norm(a))


def _shortcut_reading() -> dict[str, float]:
    net, up, scale = _net_up()
    real = tail(net, up, scale, "relu")
    wrong = tail(up, net, scale, "relu")  # relu(scale * net + up): the scale on the shortcut
    return {"wrong_ratio": _norm(up) / _norm(scale * net),
            "real_ratio": _norm(scale * up) / _norm(net),
            "unscaled": _norm(up) / _norm(net), "scale": scale,
            "out_change": _norm(wrong - real) / _norm(real)}


@exercise("scale_on_shortcut", SHORTCUT_NOTEBOOK,
          "Misreading the line as `net = scale * net + up` (as in fchollet/deep-learning-models "
          "#99) puts the scale on the shortcut. With the block's own `net`, `up` and `scale`, "
          "how big would the added branch be next to the shortcut then: "
          "||up|| / ||scale * net||?",
          NUMBER, "0.5", solve=lambda: f"{_shortcut_reading()['wrong_ratio']:.4f}")
def scale_on_shortcut():
    m = _shortcut_reading()
    n = _v1_block35_repeats()
    return [
        when_close(m["wrong_ratio"], True, f"{m['wrong_ratio']:.2f}: the branch would "
                   f"outweigh the shortcut, where the real line keeps it at "
                   f"{m['real_ratio']:.4f}, {m['wrong_ratio'] / m['real_ratio']:.0f} times "
                   "smaller. The block's output (after the ReLU) would move by "
                   f"{m['out_change']:.0%} of its size, and over facenet's {n} block35 the "
                   f"identity path would carry only {m['scale']:g}^{n} = {m['scale'] ** n:.1e} "
                   "of the input."),
        when_close(m["real_ratio"], False, f"{ANSWER} is the block's own ratio ||scale*up|| / "
                   "||net||. Under the misreading, which of the two tensors does scale "
                   "multiply?"),
        when_close(m["unscaled"], False, f"{ANSWER} is ||up|| / ||net||, with no scale "
                   "anywhere. The misreading shrinks `net`: divide by ||scale * net||."),
        otherwise(False, f"{ANSWER} is not it. Compute np.linalg.norm(up) / "
                  "np.linalg.norm(scale * net) with the trace's arrays."),
    ]


def _after_sum() -> dict[str, float]:
    net, up, scale = _net_up()
    real, wrong = tail(net, up, scale, None), scale * (net + up)
    return {"ratio": _norm(wrong) / _norm(real), "scale": scale,
            "shortcut": _norm(net + up) / _norm(real)}


@exercise("scale_after_sum", SHORTCUT_NOTEBOOK,
          "krasserm/super-resolution #25 wrote `scale * (net + up)`: the scale after the sum. "
          "With the block's own `net`, `up` and `scale`, how big is that sum next to the "
          "block's own `net + scale * up`: ||scale * (net + up)|| / ||net + scale * up||?",
          NUMBER, "0.9", solve=lambda: f"{_after_sum()['ratio']:.4f}")
def scale_after_sum():
    m = _after_sum()
    n = _v1_block35_repeats()
    return [
        when_close(m["ratio"], True, f"{m['ratio']:.3f}: the shortcut is scaled too, so every "
                   f"block shrinks the whole signal to about {m['ratio']:.0%} (the ReLU after it "
                   f"does not undo a positive factor: relu(s*z) = s*relu(z)). Over {n} such "
                   f"blocks the input reaches the end multiplied by {m['scale']:g}^{n} = "
                   f"{m['scale'] ** n:.1e}: no identity path is left, which is what the scale "
                   "was meant to keep."),
        when_close(m["scale"], False, f"{ANSWER} is the scale itself. The sum inside the "
                   f"brackets adds `up` unscaled, so it is {m['shortcut']:.3f} times the "
                   "block's sum before the scale multiplies it."),
        when_close(1.0, False, "1 would mean nothing changed. Here `net` is multiplied by "
                   "scale too: compute both sums from the trace's arrays and divide their "
                   "norms."),
        otherwise(False, f"{ANSWER} is not it. Compute np.linalg.norm(scale * (net + up)) / "
                  "np.linalg.norm(net + scale * up) with the trace's arrays."),
    ]


@cache  # measured once per process, when first asked
def _drop_path() -> dict[str, float]:
    """Drop image 0 with keep = (0, 1, ..., 1) of shape (N,), written ``keep * up``."""
    import tensorflow as tf

    n, c = DROP_SHAPE[0], DROP_SHAPE[-1]
    keep = np.ones(n, np.float32)
    keep[0] = 0.0
    up = tf.ones(DROP_SHAPE)
    flat = (tf.constant(keep) * up).numpy()  # what TensorFlow does with the (N,) vector
    meant = (tf.constant(keep.reshape(n, 1, 1, 1)) * up).numpy()
    return {"kept_of_image_0": float(np.count_nonzero(flat[0]) / flat[0].size),
            "meant": float(np.count_nonzero(meant[0]) / meant[0].size),
            "others_lose": float(1 - np.count_nonzero(flat[1:]) / flat[1:].size), "c": c}


@exercise("scale_per_sample_vs_channel", BROADCAST_NOTEBOOK,
          f"Drop-path should drop image 0 of a batch: keep = (0, 1, 1, ..., 1), one number per "
          f"image, N = {DROP_SHAPE[0]}. `up` has shape {DROP_SHAPE}, so N == C. Written "
          "`keep * up` with keep of shape (N,), what fraction of image 0's values stay "
          "non-zero?",
          f"a number from 0 to 1, to {FRACTION_FIGURES} or more significant figures", "0.5",
          solve=lambda: f"{_drop_path()['kept_of_image_0']:.4f}")
def scale_per_sample_vs_channel():
    m = _drop_path()
    return [
        when_close(m["kept_of_image_0"], True, f"{m['kept_of_image_0']:.4f} (= "
                   f"{int(m['c']) - 1}/{int(m['c'])}): (N,) is right-aligned with the channel "
                   "axis, so keep[0] = 0 zeroes channel 0 of every image, and image 0 keeps the "
                   "rest. No error: N == C. Shaped (N, 1, 1, 1) it keeps "
                   f"{m['meant']:.0%} of image 0, as meant.", figures=FRACTION_FIGURES),
        when_close(m["meant"], False, "0 is what drop-path means to do, and what keep of shape "
                   "(N, 1, 1, 1) gives. Right-align (N,) under (N, H, W, C): which axis does it "
                   "meet?"),
        otherwise(False, f"{ANSWER} is not it. Multiply keep by np.ones({DROP_SHAPE}) and count "
                  "the non-zero values of image 0."),
    ]


@cache  # measured once per process, when first asked
def _clip_facts() -> dict[str, float]:
    """Values the relu6 block's clip changes on the lesson input, and on amplified inputs."""
    from ..core.tracing import trace

    relu6 = facts.traced("v1", BLOCK35_SCALE, "relu6")
    scale = relu6.spec.scale
    net, up = relu6["net"].value, relu6["up"].value
    unclipped = tail(net, up, scale, None, parts=True)["scaled_up"]  # scale * up, no clip
    changed = int(np.sum(relu6["scaled_up"].value != unclipped))
    block, x = facts.block("v1", BLOCK35_SCALE, "relu6"), facts.block_input("v1")
    gain, bites = 1.0, changed
    while bites == 0 and gain < 2 ** 12:
        gain *= 2
        tr = trace(block, x * np.float32(gain))
        bites = int(np.sum(np.abs(np.float32(scale) * tr["up"].value) > CLIP))
    return {"changed": changed, "max": float(np.abs(unclipped).max()), "scale": scale,
            "threshold": CLIP / scale, "gain": gain, "bites": bites,
            "size": int(unclipped.size)}


@exercise("relu6_clip", CLIP_NOTEBOOK,
          "The relu6 block clips `scale * up` to [-6, 6] before the add (tf-models' v2 code; "
          "our block with activation='relu6'). On the lesson's input, how many of the "
          "values of `scale * up` does the clip change?",
          "a whole number", "1000", reader="whole",
          solve=lambda: str(_clip_facts()["changed"]))
def relu6_clip():
    m = _clip_facts()
    when = (f"It changes values only where |up| > 6 / {m['scale']:g} = {m['threshold']:.1f}; "
            f"the same block on the input times {m['gain']:g} clips {m['bites']:,} of "
            f"{m['size']:,}.")
    return [
        when_equal(m["changed"], True, f"{m['changed']}: the largest |scale * up| is "
                   f"{m['max']:.3f}, far below 6, so the clip changes nothing here. {when} "
                   "Where it bites, relu6's output no longer follows scale linearly."),
        otherwise(False, "measured otherwise. Compare relu6['scaled_up'].value with "
                  f"{m['scale']:g} * relu6['up'].value: how many values differ?"),
    ]
