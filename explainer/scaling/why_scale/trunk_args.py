"""The trunk's arguments, their bounds and labels, without Keras: what a grid, a results file or
a table needs before any trunk is built (so the CLI refuses a bad grid before TensorFlow loads).
The trunk itself is :mod:`explainer.scaling.trunk`.
"""

from __future__ import annotations

from ...core.budget import check_memory
from ...core.validate import check_positive_int, check_scale, given, shorten

TRAINED_SCALES = {"rezero": 0.0, "layerscale": 0.1}  # kind -> its starting value
IMAGE_SHAPE = (8, 8, 1)
CLASSES = 10
BN_MOMENTUM = 0.9  # moving statistics settle within a few hundred steps (slim: 0.995)
TRAIN_IMAGES = 1437  # load_digits' training split (see .training.digits_split)
# Bounds checked before any arithmetic: a typo such as depth=10**9 gets one sentence at once.
LIMITS = {"width": 8192, "depth": 100, "steps": 1_000_000, "batch": TRAIN_IMAGES,
          "seed": 2**32 - 1}
STEM_STRIDES = (1, 2, 4, 8)
# Work bound: multiply-adds of all steps (forward + backward ~ 3x forward). Measured here:
# about 1.6e10 a second (depth 10, width 1088, batch 16, 2 cores), so 6e13 is about an hour.
MAX_WORK = 6e13


def check_trunk_scale(scale: object) -> float | str:
    """A finite number, "rezero" or "layerscale"; else a TypeError / ValueError."""
    if isinstance(scale, str):
        key = scale.strip().lower()
        if key in TRAINED_SCALES:
            return key
        raise ValueError(f"scale: got {given(scale)}; expected a number such as 0.17, "
                         "'rezero' or 'layerscale'")
    return check_scale(scale, example="0.17, 'rezero' or 'layerscale'")


def block_macs(width: int, batch: int, positions: int) -> int:
    """Multiply-adds of one block's forward pass: 1x1 convs from and to the stream, and the
    3x3 convs of the 32-wide branches."""
    per_position = 3 * 32 * width + 96 * width + 3 * 32 * 32 * 9
    return batch * positions * per_position


def check_trunk_arguments(width: object, depth: object, scale: object, seed: object = 0,
                          stem_stride: object = 2, batchnorm: object = True,
                          steps: object = 1, batch: object = 16) -> dict:
    """The checked arguments of a trunk (and its training), or one ValueError / TypeError.

    Every integer is compared with its bound before any arithmetic; then the memory of the
    weights, optimizer state and activations is estimated and held to the budget, and the
    work of all steps to :data:`MAX_WORK`.
    """
    args = {name: check_positive_int(name, value, minimum=0 if name == "seed" else 1,
                                     maximum=LIMITS[name])
            for name, value in (("width", width), ("depth", depth), ("seed", seed),
                                ("steps", steps), ("batch", batch))}
    stride = check_positive_int("stem_stride", stem_stride, maximum=max(STEM_STRIDES))
    if stride not in STEM_STRIDES:
        raise ValueError(f"stem_stride: got {shorten(stride)}; expected one of "
                         f"{', '.join(map(str, STEM_STRIDES))}")
    args["stem_stride"] = stride
    if not isinstance(batchnorm, bool):
        raise TypeError(f"batchnorm: got {given(batchnorm)}; expected True or False")
    args["batchnorm"] = batchnorm
    args["scale"] = check_trunk_scale(scale)
    side = -(-IMAGE_SHAPE[0] // args["stem_stride"])
    width, depth, batch = args["width"], args["depth"], args["batch"]
    params = depth * (3 * 32 * width + 96 * width + 3 * 32 * 32 * 9 + 2 * width) + 10 * width
    # training keeps every block's activations for the backward pass (and their gradients);
    # the test pass (360 images) keeps one block's at a time
    kept = batch * side * side * depth * (4 * width + 12 * 32 + 96)
    test_pass = 360 * side * side * (4 * width + 12 * 32 + 96)
    asked = f"width={width}, depth={depth}, batch={batch}"
    check_memory(4 * (5 * params + 2 * kept + 2 * test_pass), asked, "training this trunk")
    work = 3 * args["steps"] * depth * block_macs(width, batch, side * side)
    if work > MAX_WORK:
        raise ValueError(f"{asked}, steps={args['steps']}: about {work:.2g} multiply-adds, "
                         f"expected at most {MAX_WORK:.0e} (about an hour on 2 CPU cores); "
                         "fewer steps, blocks or channels")
    return args


def scale_label(scale: float | str) -> str:
    """How a scale is written in tables and plots: "1", "0.17", "rezero"."""
    return scale if isinstance(scale, str) else f"{scale:g}"


def gain_values(scale: float | str) -> tuple[float, float, bool, bool]:
    """(gain, channel_gain, gain trained?, channel_gain trained?) of a checked scale."""
    if scale == "rezero":
        return TRAINED_SCALES["rezero"], 1.0, True, False
    if scale == "layerscale":
        return 1.0, TRAINED_SCALES["layerscale"], False, True
    return float(scale), 1.0, False, False
