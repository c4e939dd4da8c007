"""The scale sweep without TensorFlow: the lesson's block computed by the numpy engine.

:func:`numpy_scale_sweep` runs the numpy reference block35 (:mod:`explainer.core.reference`,
float64) on the lesson's input with the lesson's seeded weights, the same weights the Keras
block is built with, keeps ``net`` and ``up`` (as float32, as the Keras block holds them), and
computes every metric at every scale with the same tail arithmetic as
:func:`explainer.scaling.sweep.scale_sweep`. So a classroom kernel shows the block's numbers
after importing numpy only; the suite checks they equal the TensorFlow block's.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..core.lesson import lesson_setup
from ..core.reference import _block_forward
from ..core.schedule import BLOCK35_SCALE
from ..core.spec import BlockSpec
from ..core.validate import check_scales, check_variant
from .sweep import SLIDER_SCALES, ScaleSweep, tail_metrics

ENGINE = "numpy (explainer.core.reference, float64), no TensorFlow"


def numpy_net_up(variant: str = "v1") -> tuple[np.ndarray, np.ndarray]:
    """``net`` and ``up`` of the lesson's block of ``variant`` on the lesson's input, float32."""
    return _net_up(check_variant(variant))


@lru_cache(maxsize=2)  # one forward per variant per process (~20-40 ms each)
def _net_up(variant: str) -> tuple[np.ndarray, np.ndarray]:
    setup = lesson_setup(variant)  # the lesson's own input and weights: made right
    out = _block_forward(setup.x, setup.weights, variant, BLOCK35_SCALE, "relu")
    net = np.asarray(out["net"], dtype=np.float32)
    up = np.asarray(out["up"], dtype=np.float32)
    net.setflags(write=False)
    up.setflags(write=False)
    return net, up


def numpy_scale_sweep(variant: str = "v1", scales=SLIDER_SCALES) -> ScaleSweep:
    """The :class:`~explainer.scaling.sweep.ScaleSweep` of the lesson's block35 ``variant``
    (ReLU, seed 0, 35x35 input) at ``scales``, computed without TensorFlow.

    >>> numpy_scale_sweep("v1", [0.0, 0.17]).residual_ratio.round(4).tolist()  # doctest: +SKIP
    """
    return _numpy_scale_sweep(check_variant(variant), check_scales(scales))


def _numpy_scale_sweep(variant: str, values: np.ndarray) -> ScaleSweep:
    """:func:`numpy_scale_sweep` of a checked variant and scales (``check_scales``, or the
    constant slider positions): it trusts its caller, e.g. the classroom app, which checks
    the variant at its own entry."""
    net, up = _net_up(variant)
    setup = lesson_setup(variant)
    spec = BlockSpec(variant=variant, scale=setup.scale, activation=setup.activation,
                       seed=setup.seed, device="numpy")
    return ScaleSweep(spec=spec, scales=values,
                      metrics=tail_metrics(net, up, values, setup.activation),
                      net=net, up=up, activation=setup.activation)
