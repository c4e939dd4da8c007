"""Residual scaling: every value of ``scale`` from one run of the block's branches.

In ``net += scale * up`` neither the branches nor ``up`` depend on ``scale``: it enters only
after the projection. So :func:`scale_sweep` runs the block once, keeps ``net`` and ``up``, and
computes the tail ``f(net + scale * up)`` for each scale (f = the block's activation) in
numpy, in float32 as TensorFlow does. For many scales of a ReLU or linear block it uses the
exact piecewise form of the tail (:mod:`explainer.scaling.exact`) instead of one pass per scale.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field

import numpy as np

from ..core.budget import check_block_run
from ..core.inputs import check_block_input
from ..core.reference import tail
from ..core.spec import UP_SCOPE, BlockSpec, block_spec, keras_name
from ..core.validate import FLOAT32_MAX, check_activation, check_scale, check_scales, shorten
from .exact import direct_metrics, fast_metrics, tail_statics

METRICS = ("residual_ratio", "output_change", "relu_flips", "net_out_mean", "net_out_std",
           "net_out_max")
SLIDER_SCALES = np.round(np.arange(101) * 0.01, 2)  # a slider's positions, 0.00 .. 1.00
DIRECT_BELOW = 8  # fewer scales than this: one direct pass each is cheaper than the exact form

_DOC = {
    "residual_ratio": "||scale*up||_2 / ||net||_2 (after the relu6 clip where it applies)",
    "output_change": "||f(net + scale*up) - f(net)||_2 / ||f(net)||_2",
    "relu_flips": "fraction of units whose activation state (on / off) differs from scale 0",
    "net_out_mean": "mean of net_out", "net_out_std": "standard deviation of net_out",
    "net_out_max": "largest value of net_out",
}


@dataclass(frozen=True, eq=False)
class ScaleSweep:
    """The numbers of one block and input at many scales, aligned with ``scales``.

    Read a metric as an attribute or by name: ``sweep.residual_ratio``,
    ``sweep["output_change"]``; each is a float64 array with one value per scale.
    ``net`` and ``up`` are the cached tensors; :meth:`net_out` and :meth:`at` recompute the
    tail at any other scale from them without running the branches again.
    """

    spec: BlockSpec
    scales: np.ndarray
    metrics: dict = field(repr=False)
    net: np.ndarray = field(repr=False)
    up: np.ndarray = field(repr=False)  # times channel_scale when one was given
    activation: str | None = "relu"
    channel_scale: np.ndarray | None = field(default=None, repr=False)
    _statics: dict = field(default_factory=dict, repr=False)

    names = METRICS
    descriptions = _DOC

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self.metrics:
            raise KeyError(f"sweep has no metric {name!r}; it has {list(METRICS)}")
        return self.metrics[name]

    def __len__(self) -> int:
        return len(self.scales)

    residual_ratio = property(lambda self: self.metrics["residual_ratio"],
                              doc=_DOC["residual_ratio"])
    output_change = property(lambda self: self.metrics["output_change"],
                             doc=_DOC["output_change"])
    relu_flips = property(lambda self: self.metrics["relu_flips"], doc=_DOC["relu_flips"])
    net_out_mean = property(lambda self: self.metrics["net_out_mean"], doc=_DOC["net_out_mean"])
    net_out_std = property(lambda self: self.metrics["net_out_std"], doc=_DOC["net_out_std"])
    net_out_max = property(lambda self: self.metrics["net_out_max"], doc=_DOC["net_out_max"])

    def scaled_up(self, scale: float) -> np.ndarray:
        """``scale * up`` (clipped to [-6, 6] for relu6), float32, from the cached ``up``."""
        return self._tail(check_scale(scale))["scaled_up"]

    def net_out(self, scale: float) -> np.ndarray:
        """The block's output at ``scale``, computed from the cached ``net`` and ``up``."""
        return tail(self.net, self.up, check_scale(scale), self.activation)

    def _tail(self, scale: float) -> dict[str, np.ndarray]:
        """``{"scaled_up", "net_sum", "net_out"}`` at a scale already checked, from one pass of
        the tail over the cached tensors (the figures of a slider move: it trusts its caller)."""
        return tail(self.net, self.up, scale, self.activation, parts=True)

    def values_at(self, index: int) -> dict[str, float]:
        """Every metric at ``scales[index]``, read from the sweep's arrays."""
        return {k: float(self.metrics[k][index]) for k in METRICS}

    def at(self, scale: float) -> dict[str, float]:
        """Every metric at one scale (one direct pass over the cached tensors)."""
        return self._at(check_scale(scale))

    def _at(self, scale: float) -> dict[str, float]:
        """:meth:`at` of a scale already checked (a slider position the widget read with
        ``check_scale``): it trusts its caller, so a slider move checks its value once."""
        if not self._statics:  # what all scales share, computed on the first call
            self._statics.update(tail_statics(self.net, self.up, self.activation))
        values = direct_metrics(self.net, self.up, np.array([scale]), self.activation,
                                self._statics)
        return {k: float(v[0]) for k, v in values.items()}

    @property
    def undefined(self) -> dict[str, str]:
        """Metric -> why some of its values are undefined (NaN in the arrays), e.g. an input
        of norm 0 has no residual ratio, and an output of norm 0 at scale 0 (every unit off)
        no relative change. Empty when every value is defined."""
        why = {"residual_ratio": "||net|| = 0: the input is all zeros",
               "output_change": "||f(net)|| = 0: the block's output at scale 0 is all zeros"}
        found = {}
        for k in METRICS:
            values = self.metrics[k]
            if np.isinf(values).any() or (np.isnan(values).any() and k not in why):
                found[k] = "scale * up overflows float32 (beyond 3.4e38) at some scales"
            elif np.isnan(values).any():
                found[k] = why[k]
        return found

    def to_dict(self) -> dict:
        """Plain Python values for strict JSON: the block, the scales and every metric
        (undefined values are None, and :attr:`undefined` says why)."""
        return {"variant": self.spec.variant, "block_scale": self.spec.scale,
                "activation": self.activation, "input_shape": list(self.net.shape),
                "scales": self.scales.tolist(),
                "metrics": {k: [v if np.isfinite(v) else None for v in self.metrics[k].tolist()]
                            for k in METRICS},
                "undefined": self.undefined, "descriptions": dict(_DOC)}

    def __str__(self) -> str:
        head = (f"{'scale':>8}{'ratio':>10}{'out change':>12}{'flips':>9}"
                f"{'out mean':>10}{'out std':>9}{'out max':>9}")
        lines = [head, "-" * len(head)]
        widths = (10, 12, 9, 10, 9, 9)
        for i, s in enumerate(self.scales):
            cells = [("undefined" if not np.isfinite(v := self.metrics[k][i]) else
                      f"{v:.{3 if k == 'net_out_max' else 4}f}").rjust(w)
                     for k, w in zip(METRICS, widths, strict=True)]
            lines.append(f"{s:>8.3f}" + "".join(cells))
        lines += [f"undefined {k}: {why}" for k, why in self.undefined.items()]
        if self.activation is None:  # no ReLU here: say what "flips" counts then
            lines += ["no activation: flips counts the units whose net + s*up is > 0 at s and "
                      "not at s = 0, or the other way round",
                      "(the on/off a ReLU would have); nothing is cut off, so out change is "
                      "||s*up|| / ||net||"]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<ScaleSweep {self.spec.variant} {len(self)} scales "
                f"[{self.scales.min():g}..{self.scales.max():g}] input {self.net.shape}>")


def _check_channel_scale(channel_scale, channels: int) -> np.ndarray | None:
    if channel_scale is None:
        return None
    if isinstance(channel_scale, (str, bytes)):
        raise TypeError(f"channel_scale: got {shorten(channel_scale)}; expected {channels} "
                        "numbers (one per channel of up) or None")
    try:
        vec = np.asarray(channel_scale, dtype=np.float64)
    except OverflowError:  # e.g. 10**400: too large for a float
        raise ValueError(f"channel_scale: got {shorten(channel_scale)}, with a number too large "
                         f"for a float; expected {channels} finite numbers") from None
    except (TypeError, ValueError):
        raise TypeError(f"channel_scale: got {type(channel_scale).__name__}; expected "
                        f"{channels} numbers (one per channel of up) or None") from None
    if vec.shape != (channels,):
        raise ValueError(f"channel_scale: got shape {vec.shape}; expected ({channels},), "
                         "one factor per channel of up")
    if not np.all(np.isfinite(vec)):
        raise ValueError("channel_scale: got a NaN or infinite entry; expected finite numbers")
    return vec.astype(np.float32)


_UP_FUNCTIONS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _up_function(block, spec: BlockSpec):
    """``x -> up`` of ``block`` as numpy: the block's own layers up to ``Conv2d_1x1``, traced
    once per block (the branches run; nothing after the projection does)."""
    if block not in _UP_FUNCTIONS:
        import keras
        import tensorflow as tf

        from ..core.tracing import inference_function

        model = keras.Model(block.inputs, block.get_layer(keras_name(UP_SCOPE)).output)
        fn = inference_function(model, spec.in_channels)

        def run(x: np.ndarray) -> np.ndarray:
            with tf.device(spec.device):
                return fn(tf.constant(x)).numpy()

        _UP_FUNCTIONS[block] = run
    return _UP_FUNCTIONS[block]


def scale_sweep(block, x, scales, *, channel_scale=None, activation: str | None = "block"
                ) -> ScaleSweep:
    """Run ``block`` once on ``x`` and compute the metrics at every scale in ``scales``.

    Args:
        block: a block made by :func:`explainer.build_block35`; its own scale does not matter.
        x: input of shape (N, H, W, C_in).
        scales: a non-empty list of finite numbers (NaN, strings and [] are refused).
        channel_scale: optional per-channel factors (C_in,) multiplying ``up`` first, as
            LayerScale's diagonal does; the metrics then describe ``scale * (lam * up)``.
        activation: "block" (default, the block's own), or "relu", "relu6", None to ask what
            the same branches would do with another tail (ReZero has none after the add).

    With the defaults, ``sweep.net_out(s)`` equals a forward of the block built with scale
    ``s`` and the same weights.
    """
    spec = block_spec(block)
    values = check_scales(scales)
    act = spec.activation if activation == "block" else check_activation(activation)
    x = check_block_input(x, spec.in_channels)
    check_block_run(spec.variant, *x.shape[:3], block=spec.block,
                    what=f"sweeping {len(values)} scales of {spec.block} {spec.variant}")
    lam = _check_channel_scale(channel_scale, spec.in_channels)
    return _scale_sweep(block, x, values, act, lam)


def _scale_sweep(block, x: np.ndarray, values: np.ndarray, activation: str | None,
                 channel_scale: np.ndarray | None = None) -> ScaleSweep:
    """:func:`scale_sweep` of arguments already checked (``x`` a float32 block input within
    the memory budget, ``values`` a float64 array of finite scales as ``check_scales`` returns,
    a checked activation): it trusts its caller, e.g. the scale explorer and the CLI's
    ``scale``, which check their arguments once, at their own entry."""
    spec = block_spec(block)
    net, up = x, _up_function(block, spec)(x)  # TensorFlow loads here, after the checks
    if channel_scale is not None:
        up = up * channel_scale
    return ScaleSweep(spec=spec, scales=values, metrics=tail_metrics(net, up, values, activation),
                      net=net, up=up, activation=activation, channel_scale=channel_scale)


def tail_metrics(net: np.ndarray, up: np.ndarray, scales: np.ndarray,
                 activation: str | None) -> dict[str, np.ndarray]:
    """Every metric at every scale, by whichever form is right: one direct pass per scale for
    a few scales, relu6, or products that overflow float32 (the exact form is float64
    arithmetic); the exact piecewise form otherwise."""
    overflows = np.max(np.abs(scales)) * float(np.max(np.abs(up), initial=0.0)) > FLOAT32_MAX
    if len(scales) < DIRECT_BELOW or activation == "relu6" or overflows:
        return direct_metrics(net, up, scales, activation)
    return fast_metrics(net, up, scales, activation)
