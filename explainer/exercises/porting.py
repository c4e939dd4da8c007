"""Exercises of ``05_porting``: NCHW shapes, the projection kernel's layout, BatchNorm variables."""

from __future__ import annotations

import numpy as np

from . import facts
from .core import exercise, read_int, read_shape

NOTEBOOK = "05_porting"
NHWC_TO_NCHW = (0, 3, 1, 2)
HWIO_TO_OIHW = (3, 2, 0, 1)  # Keras / slim conv kernel layout -> torch.nn.Conv2d.weight


def _weights() -> dict[str, np.ndarray]:
    from ..weights import block_weights

    return block_weights(facts.block("v1", 0.17))


def _bn_variables(scope: str = "Branch_0/Conv2d_1x1") -> list[str]:
    prefix = f"{scope}/BatchNorm/"
    return sorted(k.removeprefix(prefix) for k in _weights() if k.startswith(prefix))


@exercise("port_nchw_shape", NOTEBOOK,
          "PyTorch lays activations out as NCHW. What is the PyTorch shape of `up` for our "
          "input of shape (1, 35, 35, 256)?", "a shape tuple", "(1, 35, 35, 256)",
          solve=lambda: str(np.transpose(facts.traced()["up"].value, NHWC_TO_NCHW).shape))
def port_nchw_shape(answer: object) -> tuple[bool, str]:
    value = read_shape(answer, "(1, 256, 35, 35)")
    nhwc = facts.traced("v1", 0.17)["up"].value
    truth = np.transpose(nhwc, NHWC_TO_NCHW).shape
    if value == truth:
        return True, (f"{nhwc.shape} in NHWC is {truth} in NCHW: channels move in front of "
                      "height and width (transpose(0, 3, 1, 2)).")
    if value == nhwc.shape:
        return False, f"{value} is the TensorFlow (NHWC) shape; PyTorch puts C second."
    return False, f"{value} is not it. N stays first; where does C go in N, C, H, W?"


@exercise("port_kernel_shape", NOTEBOOK,
          "Our `Conv2d_1x1/weights` (the `up` projection) has the slim / Keras layout (height, "
          "width, in, out). What shape must torch.nn.Conv2d's weight have for it?",
          "a shape tuple", "(1, 1, 96, 256)",
          solve=lambda: str(np.transpose(_weights()["Conv2d_1x1/weights"], HWIO_TO_OIHW).shape))
def port_kernel_shape(answer: object) -> tuple[bool, str]:
    value = read_shape(answer, "(256, 96, 1, 1)")
    kernel = _weights()["Conv2d_1x1/weights"]
    truth = np.transpose(kernel, HWIO_TO_OIHW).shape
    if value == truth:
        return True, (f"slim's {kernel.shape} (H, W, in, out) becomes {truth} (out, in, H, W) "
                      "for torch: transpose(3, 2, 0, 1), not a reshape.")
    if value == kernel.shape:
        return False, f"{value} is the slim / Keras layout; torch wants (out, in, H, W)."
    if value == tuple(reversed(truth)) or sorted(value) == sorted(truth):
        return False, (f"{value} has the right sizes in the wrong order; torch's Conv2d weight "
                       "is (out_channels, in_channels, kernel_h, kernel_w).")
    return False, f"{value} is not it. Start from {kernel.shape} = (H, W, in, out)."


@exercise("port_bn_variables", NOTEBOOK,
          "How many BatchNorm variables does slim store for one branch convolution, e.g. "
          "Branch_0/Conv2d_1x1/BatchNorm/... ?", "a whole number", "2",
          solve=lambda: f"{len(_bn_variables())}: {', '.join(_bn_variables())}")
def port_bn_variables(answer: object) -> tuple[bool, str]:
    value = read_int(answer, "2")
    names = _bn_variables()
    if value == len(names):
        return True, (f"{len(names)}: {', '.join(names)}. slim's batch_norm has scale=False by "
                      "default, so there is no gamma: a port must use gamma = 1.")
    if value == len(names) + 1:
        return False, (f"{value} counts a gamma. Look at the variable names in "
                       "explainer.block_weights(block): is there a gamma?")
    return False, (f"{value} is not it. List the names under Branch_0/Conv2d_1x1/BatchNorm/ in "
                   "explainer.block_weights(block).")
