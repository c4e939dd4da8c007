"""Run a block and keep every intermediate tensor under the snippet's own variable names.

(The module is `tracing`, not `trace`, so that it never hides the function `explainer.trace`.)
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from .backend import require_tensorflow, tensorflow_or_none
from .block_tables import TRACE_NAMES_BY_BLOCK
from .budget import check_block_run
from .inputs import check_block_input
from .portable import intermediates_model, run_block, summary_row
from .spec import UP_SCOPE, BlockSpec, block_spec
from .validate import given

# None under Keras' JAX and PyTorch backends: the block then runs through Keras' own
# predict_on_batch (.portable), and a trace holds numpy arrays instead of tf.Tensors.
tf = tensorflow_or_none()


def scopes_and_code(spec: BlockSpec) -> dict[str, tuple[str, str]]:
    """Trace name -> (slim scope or TF op name in the original graph, the line of the snippet)."""
    rows = {"net": ("input", f"def {spec.block}(net, scale=1.0, activation_fn=tf.nn.relu, ...)")}
    for c in spec.convs:
        rows[c.name] = (c.scope, f"{c.name} = slim.conv2d({c.source}, {c.filters}, "
                                 f"{c.slim_kernel}, scope='{c.scope.split('/')[1]}')")
    rows["mixed"] = ("concat", f"mixed = tf.concat([{', '.join(spec.mixed_from)}], 3)")
    rows["up"] = (UP_SCOPE, "up = slim.conv2d(mixed, net.get_shape()[3], 1, normalizer_fn=None, "
                            "activation_fn=None, scope='Conv2d_1x1')")
    clip = "  # then clip_by_value(-6, 6)" if spec.activation == "relu6" else ""
    rows["scaled_up"] = ("mul", f"scale * up{clip}")
    rows["net_sum"] = ("add", "net += scale * up")
    act = {"relu": "Relu", "relu6": "Relu6", None: "(no activation)"}[spec.activation]
    rows["net_out"] = (act, f"net = activation_fn(net)  # {spec.activation}")
    return rows


def _summary(t: tf.Tensor) -> tf.Tensor:
    """[mean, std, l2, min, max] of a whole tensor, reduced by TensorFlow (multi-threaded)."""
    mean = tf.reduce_mean(t)
    return tf.stack([mean, tf.sqrt(tf.reduce_mean(tf.square(t - mean))),
                     tf.sqrt(tf.reduce_sum(tf.square(t))), tf.reduce_min(t), tf.reduce_max(t)])


def _stack_summaries(tensors: list[tf.Tensor]) -> tf.Tensor:
    """The summaries of all the trace's tensors, shape (number of tensors, 5)."""
    return tf.stack([_summary(t) for t in tensors])


# one graph per number of traced tensors (block35: 12, block17 and block8: 10), any shapes
_SUMMARIES = {} if tf is None else {
    n: tf.function(_stack_summaries, input_signature=[[tf.TensorSpec(None, tf.float32)] * n])
    for n in sorted({len(names) for names in TRACE_NAMES_BY_BLOCK.values()})}


def _summaries(tensors: list[tf.Tensor]) -> tf.Tensor:
    """The summaries of all the trace's tensors in one graph call."""
    return _SUMMARIES[len(tensors)](tensors)


class _TraceStats:
    """Statistics of every record of one trace, computed together on the first request
    (one graph call instead of twelve: the call overhead, not the arithmetic, dominates)."""

    def __init__(self, tensors: list[tf.Tensor]):
        self._tensors = tensors
        self._rows: np.ndarray | None = None

    def row(self, index: int) -> list[float]:
        if self._rows is None:
            with np.errstate(over="ignore", invalid="ignore"):  # inf in, inf or undefined out
                self._rows = (np.array([summary_row(t) for t in self._tensors]) if tf is None
                              else _summaries(self._tensors).numpy().astype(np.float64))
                # float32's sums overflow before its values do (at scale 1e20 the squares
                # pass 3.4e38): those rows again in float64, as under the other backends
                for i in np.flatnonzero(~np.isfinite(self._rows).all(axis=1)):
                    self._rows[i] = summary_row(np.asarray(self._tensors[i]))
        return [float(v) for v in self._rows[index]]


@dataclass
class TensorRecord:
    """One named tensor of a block run.

    The tensor stays a ``tf.Tensor`` (``.tensor``; a numpy array under Keras' JAX and PyTorch
    backends); ``.value`` (numpy) and the statistics are computed on first access, so
    recording all twelve tensors costs little more than a plain forward pass.
    """

    name: str
    scope: str
    code: str
    tensor: tf.Tensor = field(repr=False)
    device: str
    _shared: _TraceStats | None = field(default=None, repr=False, compare=False)
    _index: int = field(default=0, repr=False, compare=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(d) for d in self.tensor.shape)

    @property
    def dtype(self) -> str:
        return self.tensor.dtype.name

    @cached_property
    def value(self) -> np.ndarray:
        """The tensor as a numpy array."""
        return self.tensor if isinstance(self.tensor, np.ndarray) else self.tensor.numpy()

    @cached_property
    def _stats(self) -> list[float]:
        if self._shared is None:  # a record made on its own, outside trace()
            if isinstance(self.tensor, np.ndarray):
                return summary_row(self.tensor)
            return [float(v) for v in _summary(self.tensor).numpy()]
        return self._shared.row(self._index)

    @property
    def mean(self) -> float:
        return self._stats[0]

    @property
    def std(self) -> float:
        return self._stats[1]

    @property
    def l2(self) -> float:
        """Euclidean norm of the whole tensor (all samples together)."""
        return self._stats[2]

    @property
    def min(self) -> float:
        return self._stats[3]

    @property
    def max(self) -> float:
        return self._stats[4]

    def summary(self) -> dict:
        """Everything but the array, as plain Python values (for JSON)."""
        return {"name": self.name, "scope": self.scope, "shape": list(self.shape),
                "dtype": self.dtype, "mean": self.mean, "std": self.std, "l2": self.l2,
                "min": self.min, "max": self.max, "device": self.device}


def _cell(value: float, width: int, places: int) -> str:
    """A table cell of ``width`` with at least one space before it: fixed-point when it fits,
    else fewer digits in exponent form (1e38 stays one cell), "inf", or "undef" for NaN."""
    if math.isnan(value):
        return f"{'undef':>{width}}"
    fixed = f"{value:.{places}f}"
    if len(fixed) < width or math.isinf(value):
        return f"{fixed:>{width}}"
    for digits in range(places, -1, -1):
        text = f"{value:.{digits}e}"
        if len(text) < width:
            return f"{text:>{width}}"
    return f"{value:>{width}.0e}"


class Trace:
    """The ordered records of one block run: iterate, ``trace.names``, ``trace["up"]``."""

    def __init__(self, spec: BlockSpec, records: list[TensorRecord]):
        self.spec = spec
        self._records = records
        self._by_name = {r.name: r for r in records}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self._records)

    def __iter__(self) -> Iterator[TensorRecord]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __getitem__(self, name: str) -> TensorRecord:
        if name not in self._by_name:
            raise KeyError(f"trace has no tensor {name!r}; it has {list(self.names)}")
        return self._by_name[name]

    @property
    def device(self) -> str:
        return self._records[-1].device

    @property
    def residual_ratio(self) -> float | None:
        """||scaled_up||_2 / ||net||_2: how big the added residual is next to the shortcut.

        None (undefined) when ``net`` is all zeros (there is no shortcut to compare with) or
        when ``scale * up`` overflowed float32."""
        net, residual = self["net"].l2, self["scaled_up"].l2
        return residual / net if net and math.isfinite(residual) else None

    def to_dict(self) -> dict:
        return {"block": self.spec.block, "variant": self.spec.variant, "scale": self.spec.scale,
                "activation": self.spec.activation, "seed": self.spec.seed,
                "device": self.device, "residual_ratio": self.residual_ratio,
                "tensors": [r.summary() for r in self._records]}

    def __str__(self) -> str:
        head = (f"{'name':<14}{'scope':<24}{'shape':<20}{'mean':>9}{'std':>9}"
                f"{'l2':>10}{'min':>9}{'max':>9}")
        lines = [head, "-" * len(head)]
        for r in self._records:
            lines.append(f"{r.name:<14}{r.scope:<24}{str(r.shape):<20}"
                         + "".join(_cell(v, width, places) for v, width, places in (
                             (r.mean, 9, 4), (r.std, 9, 4), (r.l2, 10, 2), (r.min, 9, 3),
                             (r.max, 9, 3))))
        if any(not math.isfinite(v) for r in self._records for v in r._stats):
            lines.append("inf: the tensor holds values past float32's range (inf); undef: "
                         "undefined (inf - inf has no value)")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"<Trace {self.spec.block} {self.spec.variant} scale={self.spec.scale} "
                f"{len(self)} tensors>")


class _InferenceCall:
    """``t -> model(t, training=False)``, one object per model, for :func:`inference_function`."""

    def __init__(self, model) -> None:
        self.model = model

    def __call__(self, t: tf.Tensor) -> tf.Tensor:
        return self.model(t, training=False)


def inference_function(model, in_channels: int):
    """``tf.function`` running ``model`` in inference mode on (N, H, W, in_channels) float32.

    It wraps an object, not a lambda: TensorFlow counts "triggered tf.function retracing" per
    wrapped ``__code__``, so one lambda wrapped once per block looked like one function retraced
    for every new block, and it warned after five blocks. An object has no ``__code__``, so
    each block's function is counted on its own, and each is traced once.
    """
    if tf is None:
        require_tensorflow("a tf.function of the block (the scale sweep's compiled runs)")
    signature = [tf.TensorSpec([None, None, None, in_channels], tf.float32)]
    return tf.function(_InferenceCall(model), input_signature=signature)


_COMPILED: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _compiled(block, spec: BlockSpec, which: str):
    """One tf.function per block: "forward" (net_out only) or "trace" (all intermediates).

    Built once and reused, because eager Keras calls cost several times a traced graph.
    """
    fns = _COMPILED.setdefault(block, {})
    if which not in fns:
        model = intermediates_model(block, spec) if which == "trace" else block
        fns[which] = inference_function(model, spec.in_channels)
    return fns[which]


def forward(block, x) -> np.ndarray:
    """``net_out`` of the block for input ``x`` (N, H, W, C_in), as a numpy array."""
    spec = block_spec(block)
    x = check_block_input(x, spec.in_channels,  # the budget from the shape, before the values
                          budget=lambda shape: check_block_run(spec.variant, *shape[:3],
                                                               block=spec.block))
    if tf is None:  # Keras on JAX or PyTorch
        return run_block(block, spec, x)
    with tf.device(spec.device):
        return _compiled(block, spec, "forward")(tf.constant(x)).numpy()


def trace(block, x) -> Trace:
    """Run ``block`` on ``x`` and record every intermediate tensor, named as in the snippet."""
    spec = block_spec(block)
    x = check_block_input(x, spec.in_channels,  # the budget from the shape, before the values
                          budget=lambda shape: check_block_run(spec.variant, *shape[:3],
                                                               block=spec.block))
    return _trace(block, spec, x)


def _trace(block, spec: BlockSpec, x: np.ndarray) -> Trace:
    """:func:`trace` of a float32 input checked for ``spec`` and within the budget of
    ``check_block_run`` (e.g. :func:`explainer.explain_block`'s own input): it trusts its
    caller."""
    if tf is None:  # Keras on JAX or PyTorch: numpy arrays, on the spec's device
        net, outputs = x, run_block(block, spec, x, intermediates=True)
    else:
        with tf.device(spec.device):
            net = tf.constant(x)
            outputs = _compiled(block, spec, "trace")(net)
    rows = scopes_and_code(spec)
    tensors = [net, *outputs]
    stats = _TraceStats(tensors)
    records = [TensorRecord(name, rows[name][0], rows[name][1], t,
                            spec.device if tf is None else t.device, stats, i)
               for i, (name, t) in enumerate(zip(spec.trace_names, tensors, strict=True))]
    return Trace(spec, records)


def branch_summary(tr: Trace) -> list[dict]:
    """Per-branch rows of a trace: each tensor's shape along the path from `net` to `net_out`."""
    if not isinstance(tr, Trace):
        raise TypeError(f"tr: got {given(tr)}; expected a Trace, as trace(block, x) returns")
    rows = []
    branches: dict[str, list[str]] = {}
    for conv in tr.spec.convs:
        branches.setdefault(conv.scope.split("/")[0], []).append(conv.name)
    branches["merge"] = ["mixed", "up", "scaled_up", "net_sum", "net_out"]
    for branch, names in branches.items():
        path = names if branch == "merge" else ["net", *names]  # the merge starts at concat
        rows.append({"branch": branch, "path": " -> ".join(path),
                     "shapes": " -> ".join(str(tr[n].shape) for n in path),
                     "out_channels": tr[names[-1]].shape[-1]})
    return rows
