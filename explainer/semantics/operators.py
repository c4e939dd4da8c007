"""What ``scale * up`` and ``net += ...`` do, found by calling Python, numpy and TensorFlow.

Nothing here is typed in from memory: :func:`dispatch` calls ``type(scale).__mul__`` and
``type(up).__rmul__`` itself and watches (with ``sys.setprofile``) which TensorFlow functions
run; :func:`graph_ops` reads the ops out of a traced ``tf.function``; :func:`scale_gradient`
asks ``tf.GradientTape``; :func:`dtype_table` records results or the real error texts.
Graph ops (:mod:`.graph`), dtypes (:mod:`.dtypes`) and the in-place (``+=``) findings
(:mod:`.inplace`) live in their own modules.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import tensorflow as tf

from ..core.blocks import build_block35
from ..core.budget import check_block_run
from ..core.lesson import lesson_setup, sample_input
from ..core.schedule import BLOCK35_SCALE
from ..core.tracing import trace
from ..core.validate import (
    check_items,
    check_positive_int,
    check_scale,
    check_variant,
    error_text,
    given,
    shorten,
)
from .dtypes import (
    DtypeRow,
    dtype_table,
    format_dtype_table,
    scale_examples,
)
from .graph import PLUMBING_OPS, GraphOps, block_ops, graph_ops, last_line_ops
from .inplace import InplaceCase, inplace_semantics


def _describe(value: object) -> str:
    if value is NotImplemented:
        return "NotImplemented"
    if isinstance(value, BaseException):
        return error_text(value)
    if isinstance(value, (tf.Tensor, np.ndarray)):
        return f"{type(value).__name__} dtype={value.dtype.name} shape={tuple(value.shape)}"
    return f"{type(value).__name__} {shorten(value, 80)}"  # a broken __repr__ is shown too


def _label(value: object) -> str:
    """'float 0.17', 'numpy.float32 0.17', 'tf.Tensor float64 0.17', 'numpy 0-d float64 ...'."""
    if isinstance(value, tf.Tensor):
        return f"tf.constant({value.numpy()}, dtype=tf.{value.dtype.name})"
    if isinstance(value, np.ndarray):
        return f"np.{value!r}  # 0-d array"
    if isinstance(value, np.generic):
        return repr(value)
    return f"{type(value).__name__} {shorten(value, 80)}"


@dataclass
class Step:
    """One call Python makes while evaluating ``scale * up``."""

    call: str  # e.g. "float.__mul__(scale, up)"
    result: str  # "NotImplemented", "EagerTensor dtype=float32 ...", or "ErrorType: text"
    functions: tuple[str, ...] = ()  # TensorFlow functions that ran inside it, in order
    value: object = field(default=None, repr=False)


@dataclass
class Dispatch:
    """How ``scale * up`` resolved: the steps, the Python function and the graph op."""

    scale: str
    steps: list[Step]
    python_function: str | None  # "tf.math.multiply" when its code ran
    graph_op: str | None  # "Mul" when the expression traces to one compute op
    result_dtype: str | None
    error: str | None  # the real error text when `scale * up` raises
    matches_operator: bool  # the steps' outcome equals what `scale * up` itself gives

    def __str__(self) -> str:
        lines = [f"scale = {self.scale}"]
        for i, step in enumerate(self.steps, 1):
            lines.append(f"  {i}. {step.call} -> {step.result}")
            if step.functions:
                lines.append(f"     ran: {' -> '.join(step.functions)}")
        if self.error and len(self.steps) == 1:
            lines.append("     (an exception is not NotImplemented: Python does not go on to "
                         "up.__rmul__)")
        end = (f"error: {self.error}" if self.error else
               f"{self.python_function} emits graph op {self.graph_op!r}, "
               f"result dtype {self.result_dtype}")
        return "\n".join([*lines, f"  => {end}"])


def _traced_call(fn: Callable, *args) -> tuple[object, tuple[str, ...]]:
    """Call ``fn(*args)``; return its result (or the exception) and the TF ops-layer functions
    that ran, as 'module.function' in call order (from ``sys.setprofile``)."""
    seen: list[str] = []

    def profile(frame, event, arg):
        if event == "call":
            path = frame.f_code.co_filename.replace("\\", "/")
            if "tensorflow/python/ops/" in path or "override_binary_operator" in path:
                mod = path.rsplit("/", 1)[-1].removesuffix(".py")
                name = f"{mod}.{frame.f_code.co_name}"
                if name not in seen and not frame.f_code.co_name.startswith("<"):
                    seen.append(name)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result: object = fn(*args)
    except Exception as err:  # noqa: BLE001 - the error is the finding
        result = err
    finally:
        sys.setprofile(previous)
    return result, tuple(seen)


def _multiply_ran(functions: tuple[str, ...]) -> bool:
    code = inspect.unwrap(tf.math.multiply).__code__
    mod = code.co_filename.replace("\\", "/").rsplit("/", 1)[-1].removesuffix(".py")
    return f"{mod}.{code.co_name}" in functions


def _same_outcome(a: object, b: object) -> bool:
    if isinstance(a, BaseException) or isinstance(b, BaseException):
        return type(a) is type(b) and str(a) == str(b)
    if not all(isinstance(v, (tf.Tensor, np.ndarray)) for v in (a, b)):
        return False
    return (a.dtype == b.dtype and tuple(a.shape) == tuple(b.shape)
            and bool(np.array_equal(np.asarray(a), np.asarray(b))))


def dispatch(scale: object, up: object = None) -> Dispatch:
    """Evaluate ``scale * up`` step by step, as Python's binary-operator protocol does.

    First ``type(scale).__mul__(scale, up)``; if that returns ``NotImplemented`` (a Python or
    numpy scalar does, for a ``tf.Tensor``), then ``type(up).__rmul__(up, scale)``. An exception
    in the first step is not ``NotImplemented``: Python stops there. ``up`` defaults to the real
    ``up`` of the lesson's block on the lesson's input, shape (1, 35, 35, 256).
    """
    if up is None:
        up = lesson_up()
    if not isinstance(up, tf.Tensor):
        raise TypeError(f"up: got {type(up).__name__}; expected a tf.Tensor such as "
                        "tf.ones((1, 35, 35, 256))")
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.generic, np.ndarray,
                                                         tf.Tensor)):
        raise TypeError(f"scale: got {type(scale).__name__}; expected a Python, numpy or TF "
                        "number such as 0.17")
    steps = []
    mul_name = f"{type(scale).__name__}.__mul__(scale, up)"
    first, ran = _traced_call(type(scale).__mul__, scale, up)
    steps.append(Step(mul_name, _describe(first), ran, first))
    outcome = first
    if first is NotImplemented:
        second, ran = _traced_call(type(up).__rmul__, up, scale)
        steps.append(Step(f"{type(up).__name__}.__rmul__(up, scale)", _describe(second), ran,
                          second))
        outcome = second
    actual, _ = _traced_call(lambda s, u: s * u, scale, up)
    error = _describe(outcome) if isinstance(outcome, BaseException) else None
    expected = ("expected a Python, numpy or TF number such as 0.17, whose `*` with a "
                "tf.Tensor gives a tensor or an error")
    if error is None and not isinstance(outcome, (tf.Tensor, np.ndarray)):
        # a subclass whose __mul__ returns, say, a str: not a multiplication to explain
        raise TypeError(f"scale: got {given(scale)}, whose `scale * up` returned "
                        f"{_describe(outcome)[:80]}, not a tensor; {expected}")
    graph_op = None
    if error is None:
        spec = tf.TensorSpec(up.shape, up.dtype)
        try:
            ops = graph_ops(lambda u: scale * u, spec).compute_types
        except Exception as err:  # noqa: BLE001 - it ran eagerly; a tf.function refused it
            said = [line.strip() for line in str(err).splitlines() if line.strip()]
            raise TypeError(f"scale: got {given(scale)}; `scale * up` ran, but not inside a "
                            f"tf.function ({type(err).__name__}: "
                            f"{(said[-1] if said else '')[:120]}); {expected}") from None
        graph_op = ops[0] if len(ops) == 1 else None
    multiply = any(_multiply_ran(s.functions) for s in steps)
    return Dispatch(scale=_label(scale), steps=steps,
                    python_function="tf.math.multiply" if multiply and error is None else None,
                    graph_op=graph_op,
                    result_dtype=None if error else outcome.dtype.name, error=error,
                    matches_operator=_same_outcome(outcome, actual))


def dispatch_table(value: float = BLOCK35_SCALE) -> dict[str, Dispatch]:
    """:func:`dispatch` for every kind of scale in :func:`scale_examples`, by label, each
    against the lesson block's real ``up``."""
    value = check_scale(value, "value")
    return {label: dispatch(s) for label, s in scale_examples(value).items()}


@lru_cache(maxsize=1)
def lesson_up() -> tf.Tensor:
    """``up`` of the lesson's block on the lesson's input, traced once per process."""
    return tf.constant(lesson_setup().traced["up"].value)


def format_dispatch_table(table: dict[str, Dispatch]) -> str:
    """One line per scale kind: the calls Python made and what came out."""
    if not isinstance(table, dict):
        raise TypeError(f"table: got {given(table)}; expected the dict dispatch_table() returns")
    check_items("table", table, Dispatch, "dispatch_table()")
    lines = []
    for label, d in table.items():
        calls = " -> ".join(f"{s.call.split('(')[0]}: {s.result.split(':')[0].split(' ')[0]}"
                            for s in d.steps)
        end = d.error.split(":")[0] if d.error else f"{d.python_function} / {d.graph_op} / " \
                                                     f"{d.result_dtype}"
        lines.append(f"{label:<26}{calls:<64} => {end}")
    return "\n".join(lines)


@dataclass
class ScaleGradient:
    """``tf.GradientTape`` through ``relu(net + scale * up)`` on a real block's tensors."""

    scale: float
    relu_on_fraction: float  # share of elements where net + scale*up > 0
    d_up_values_on: tuple[float, ...]  # distinct d(net_out)/d(up) where the ReLU is on
    d_up_values_off: tuple[float, ...]  # ... and where it is off
    d_up_error: float  # max |tape d/dup - scale * upstream * on| with a random upstream
    d_scale: float  # tape d/dscale with that upstream
    d_scale_expected: float  # sum(up * upstream_at_sum), upstream_at_sum = upstream * on
    tail_matches_block: bool  # relu(net + scale*up) reproduces the block's own net_out

    def __str__(self) -> str:
        def values(vs: tuple[float, ...]) -> str:
            # float32's shortest repr: the tape's 0.17000000178813934 is float32(0.17), "0.17"
            return " and ".join(str(np.float32(v)) for v in vs) or "(no such element)"

        return (f"d(net_out)/d(up) = {values(self.d_up_values_on)} where the ReLU is on "
                f"({self.relu_on_fraction:.1%} of elements), {values(self.d_up_values_off)} "
                f"where it is off; d(net_out)/d(scale) = {self.d_scale:.6g} vs "
                f"sum(up * upstream) = {self.d_scale_expected:.6g}")


def scale_gradient(scale: float = BLOCK35_SCALE, variant: str = "v1", batch: int = 1, size: int = 9,
                   seed: int = 0) -> ScaleGradient:
    """Check the gradients of the block's last line with ``tf.GradientTape``.

    ``net`` and ``up`` come from tracing the real block; the tail ``relu(net + scale * up)`` is
    recomputed with ``scale`` as a variable so that its gradient exists too.
    """
    scale = check_scale(scale)
    batch, size = check_positive_int("batch", batch), check_positive_int("size", size)
    check_block_run(check_variant(variant), batch, size, size)  # from shapes, before building
    block = build_block35(variant, scale=scale, seed=seed, activation="relu")
    tr = trace(block, sample_input(variant, batch=batch, size=size, seed=seed))
    net, up = tf.constant(tr["net"].value), tf.constant(tr["up"].value)
    s = tf.Variable(scale, dtype=tf.float32)
    rng = np.random.default_rng([seed, 3])
    upstream = tf.constant(rng.standard_normal(up.shape).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(up)
        net_out = tf.nn.relu(net + s * up)
    d_up_ones = tape.gradient(net_out, up).numpy()  # upstream of ones: the Jacobian diagonal
    d_up, d_s = tape.gradient(net_out, [up, s], output_gradients=upstream)
    on = (net + s * up).numpy() > 0
    g_at_sum = upstream.numpy() * on
    with np.errstate(over="ignore", invalid="ignore"):  # a scale near float32's largest
        d_up_expected = np.float32(scale) * g_at_sum  # float32, as the tape: inf where it is
        got = d_up.numpy()
        d_up_error = np.where(got == d_up_expected, 0.0, np.abs(got - d_up_expected)).max()
    return ScaleGradient(
        scale=scale, relu_on_fraction=float(on.mean()),
        d_up_values_on=tuple(float(v) for v in np.unique(d_up_ones[on])),
        d_up_values_off=tuple(float(v) for v in np.unique(d_up_ones[~on])),
        d_up_error=float(d_up_error),
        d_scale=float(d_s.numpy()),
        d_scale_expected=float(np.sum(up.numpy().astype(np.float64) * g_at_sum)),
        tail_matches_block=bool(np.allclose(net_out.numpy(), tr["net_out"].value, atol=1e-5)))


__all__ = ["PLUMBING_OPS", "Dispatch", "DtypeRow", "GraphOps", "InplaceCase", "ScaleGradient",
           "Step", "block_ops", "dispatch", "dispatch_table", "dtype_table",
           "format_dispatch_table", "format_dtype_table", "graph_ops", "inplace_semantics",
           "last_line_ops", "scale_examples", "scale_gradient"]
