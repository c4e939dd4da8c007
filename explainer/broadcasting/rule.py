"""Broadcasting, axis by axis: the rule, then numpy and TensorFlow really running it.

Shapes are right-aligned; on each axis the sizes are equal, or one is 1 and stretches, or one
is missing and counts as 1, or they mismatch and the operation fails. :func:`explain_broadcast`
applies that rule and checks it against numpy and TensorFlow, without ever allocating arrays
bigger than :data:`SMALL` elements (a user may type ``(100000, 100000, 64)``): big operands
are zero-stride views (``numpy.broadcast_to``) and TensorFlow's own ``BroadcastArgs`` kernel
computes the shape. Shape text is parsed by :mod:`.shapes`;
TensorFlow is imported only inside :func:`explain_broadcast`.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass

import numpy as np

from ..core.quiet import load_tensorflow_quietly, native_stderr_silenced
from ..core.validate import error_text, shorten
from .shapes import (
    MAX_ELEMENTS,
    NUMPY_BROADCAST_RANK,
    as_shape,
    broadcast_shapes,
    count_text,
)

RULE_EQUAL = "equal"
RULE_STRETCH = "1 stretches"
RULE_MISSING = "missing counts as 1"
RULE_MISMATCH = "mismatch"

SMALL = 2**22  # largest array (elements) really allocated to run an operation
# why TensorFlow is asked about the shapes alone: the budget for arrays made to run an op
_SHAPES_ONLY = (f"tf.raw_ops.BroadcastArgs on the shapes: arrays are allocated only up to "
                f"{SMALL:,} elements (2**22, 16 MiB of float32), and these are bigger")


@dataclass(frozen=True)
class AxisRule:
    """One aligned axis: both sizes (``None`` where missing), the rule and the result size."""

    axis: int  # index into the result (0 = leftmost)
    a: int | None
    b: int | None
    rule: str
    result: int | None  # None on a mismatch
    stretched: str | None = None  # "a" or "b": which side is 1 (or missing) and stretches

    @property
    def text(self) -> str:
        if self.rule == RULE_MISMATCH:
            return f"{self.a} vs {self.b}: mismatch"
        if self.rule == RULE_EQUAL:
            return f"equal ({self.result})"
        return f"{self.stretched}: {self.rule} -> {self.result}"


@dataclass(frozen=True)
class Outcome:
    """What a library really did with arrays of the two shapes."""

    library: str
    ok: bool
    shape: tuple[int, ...] | None
    error: str | None  # "ErrorType: message" as raised
    how: str  # what was run
    unsupported: bool = False  # the rule allows it, but this library's kernel refuses it

    @property
    def message(self) -> str | None:
        """The error text without TensorFlow's ``{{function_node ...}}`` prefix."""
        if self.error is None:
            return None
        return re.sub(r"\{\{function_node [^}]*\}\}\s*", "", self.error).removesuffix(" name: ")


@dataclass(frozen=True)
class BroadcastExplanation:
    """The rule applied axis by axis and what numpy and TensorFlow did with it."""

    a: tuple[int, ...]
    b: tuple[int, ...]
    axes: tuple[AxisRule, ...]
    result_shape: tuple[int, ...] | None  # None when incompatible
    failing_axes: tuple[int, ...]  # every mismatched axis (result indices, left to right)
    numpy: Outcome
    tensorflow: Outcome | None  # None when TensorFlow was not asked (explain_broadcast_numpy)

    @property
    def compatible(self) -> bool:
        return self.result_shape is not None

    @property
    def failing_axis(self) -> int | None:
        """The rightmost mismatched axis (the first met when comparing right to left)."""
        return self.failing_axes[-1] if self.failing_axes else None

    @property
    def agrees(self) -> bool:
        """numpy and TensorFlow both did what the rule says (same shape, or both failed)."""
        return all(o.ok == self.compatible and o.shape == self.result_shape
                   for o in self.outcomes)

    @property
    def outcomes(self) -> tuple[Outcome, ...]:
        """What each library that was asked really did: numpy, then TensorFlow if asked."""
        return tuple(o for o in (self.numpy, self.tensorflow) if o is not None)

    @property
    def reason(self) -> str | None:
        """One line saying why the shapes do not broadcast (None when they do)."""
        if self.compatible:
            return None
        ax = self.axes[self.failing_axis]
        return (f"{self.a} and {self.b} do not broadcast: axis {ax.axis} (from the right "
                f"{ax.axis - len(self.axes)}) has {ax.a} vs {ax.b}, neither is 1")

    def to_dict(self) -> dict:
        out = asdict(self)
        out.update(compatible=self.compatible, failing_axis=self.failing_axis,
                   agrees=self.agrees, reason=self.reason)
        for outcome in self.outcomes:
            out[outcome.library]["message"] = outcome.message
        return out

    def __str__(self) -> str:
        def cell(v):
            return "-" if v is None else str(v)
        res = [cell(x.result) if x.result is not None else "X" for x in self.axes]
        rows = [("axis", [str(x.axis) for x in self.axes]), ("a", [cell(x.a) for x in self.axes]),
                ("b", [cell(x.b) for x in self.axes]), ("result", res)]
        width = max([len(c) for _, r in rows for c in r] + [1]) + 2
        lines = [f"a = {self.a}   b = {self.b}   (right-aligned, '-' = missing)"]
        lines += [f"{label:<8}" + "".join(c.rjust(width) for c in r) for label, r in rows]
        lines += [f"  axis {x.axis}: {x.text}" for x in self.axes]
        lines.append(f"=> result shape {self.result_shape}" if self.compatible
                     else f"=> incompatible: {self.reason}")
        for o in self.outcomes:
            got = str(o.shape) if o.ok else o.message
            lines.append(f"{o.library}: {got}   [{o.how}]")
        if any(o.unsupported for o in self.outcomes):
            lines.append("rule and libraries agree: no - numpy follows the rule; TensorFlow's "
                         "kernel does not support this broadcast at this rank")
        else:
            lines.append(f"rule and libraries agree: {'yes' if self.agrees else 'NO'}")
        return "\n".join(lines)


def _rule(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[AxisRule, ...]:
    rank = max(len(a), len(b))
    pa = (None,) * (rank - len(a)) + tuple(a)
    pb = (None,) * (rank - len(b)) + tuple(b)
    axes = []
    for i, (x, y) in enumerate(zip(pa, pb, strict=True)):
        if x is None or y is None:
            axes.append(AxisRule(i, x, y, RULE_MISSING, y if x is None else x,
                                 "a" if x is None else "b"))
        elif x == y:
            axes.append(AxisRule(i, x, y, RULE_EQUAL, x))
        elif x == 1 or y == 1:
            axes.append(AxisRule(i, x, y, RULE_STRETCH, y if x == 1 else x,
                                 "a" if x == 1 else "b"))
        else:
            axes.append(AxisRule(i, x, y, RULE_MISMATCH, None))
    return tuple(axes)


def _stand_in(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A small shape with the same broadcasting pattern (0 and 1 kept, bigger sizes -> 2)."""
    return tuple(d if d <= 1 else 2 for d in shape)


def _run_numpy(a, b) -> Outcome:
    if max(len(a), len(b)) > NUMPY_BROADCAST_RANK:
        return _run_numpy_high_rank(a, b)
    try:  # arrays of a zero-size dtype underneath: no data, any size
        shape, shape_error = np.broadcast_shapes(a, b), None
    except ValueError as err:
        shape, shape_error = None, err
    try:
        va = np.broadcast_to(np.float32(0), a)  # zero-stride views: no data of these shapes
        vb = np.broadcast_to(np.float32(0), b)
    except ValueError:  # more elements than numpy can index, even in a view
        how = "np.broadcast_shapes (numpy cannot index arrays this large, even as views)"
        if shape is None:
            return Outcome("numpy", False, None, error_text(shape_error), how)
        return Outcome("numpy", True, tuple(shape), None, how)
    if shape is None:
        try:  # shapes are checked before any output is allocated, so this is safe
            va * vb  # noqa: B018 - run for its real error text
        except ValueError as err:
            return Outcome("numpy", False, None, error_text(err), "a * b on zero-stride views")
        raise AssertionError(f"numpy multiplied {a} and {b} but broadcast_shapes refused")
    if math.prod(shape) <= SMALL:
        return Outcome("numpy", True, tuple((va * vb).shape), None,
                       "a * b on zero-stride views of these shapes")
    try:
        shape, how = np.broadcast(va, vb).shape, "np.broadcast of zero-stride views"
    except ValueError:  # the result is too large to index
        how = "np.broadcast_shapes (the result is too large for numpy to index)"
    how += f" (the product would hold {count_text(math.prod(shape))} elements)"
    sa, sb = _stand_in(a), _stand_in(b)
    if math.prod(broadcast_shapes(sa, sb)) <= SMALL:  # stand-ins stay small: run them too
        small = np.broadcast_to(np.float32(0), sa) * np.broadcast_to(np.float32(0), sb)
        how += f"; stand-ins {sa} * {sb} -> {small.shape}"
    return Outcome("numpy", True, tuple(shape), None, how)


def _run_numpy_high_rank(a, b) -> Outcome:
    """Past 32 dimensions numpy's ``np.broadcast_shapes`` and ``np.broadcast`` refuse, but its
    ufuncs run up to 64: ``a * b`` on zero-stride views when the product is small (or fails),
    else the rule's shape."""
    limit = f"np.broadcast_shapes stops at {NUMPY_BROADCAST_RANK} dimensions"
    try:
        shape = broadcast_shapes(a, b)
    except ValueError:
        shape = None
    try:
        va, vb = np.broadcast_to(np.float32(0), a), np.broadcast_to(np.float32(0), b)
    except ValueError:  # more elements than numpy can index, even in a view
        va = vb = None
    if va is not None and (shape is None or math.prod(shape) <= SMALL):
        try:  # a mismatch is found before any output is allocated
            return Outcome("numpy", True, tuple((va * vb).shape), None,
                           f"a * b on zero-stride views of these shapes ({limit}; ufuncs "
                           "run up to 64)")
        except ValueError as err:
            return Outcome("numpy", False, None, error_text(err),
                           "a * b on zero-stride views")
    how = f"the rule, axis by axis ({limit}; the arrays are too big to multiply here)"
    if shape is None:
        return Outcome("numpy", False, None, f"ValueError: {shorten(str(a))} and "
                       f"{shorten(str(b))} do not broadcast", how)
    return Outcome("numpy", True, shape, None, how)


def _run_tf(a, b, rule_ok: bool) -> Outcome:
    load_tensorflow_quietly()  # its first import here must not print native start-up lines
    import tensorflow as tf

    small_inputs = math.prod(a) <= SMALL and math.prod(b) <= SMALL
    if small_inputs and (not rule_ok or math.prod(broadcast_shapes(a, b)) <= SMALL):
        how = "tf.zeros(a) * tf.zeros(b)"
        try:
            ta, tb = tf.zeros(a), tf.zeros(b)
            with native_stderr_silenced():  # a failing eager op logs a C++ line to fd 2
                out = ta * tb
        except tf.errors.UnimplementedError as err:
            # TensorFlow's Mul kernel broadcasts only a limited pattern of stretched axes at
            # higher ranks: the rule allows it, the kernel does not. That is its real outcome.
            return Outcome("tensorflow", False, None, error_text(err),
                           f"{how}: TensorFlow's kernel does not support this broadcast at this "
                           "rank (the rule allows it)", unsupported=True)
        except (tf.errors.InvalidArgumentError, ValueError) as err:
            return Outcome("tensorflow", False, None, error_text(err), how)
        return Outcome("tensorflow", True, tuple(out.shape), None, how)
    try:
        shape = tf.raw_ops.BroadcastArgs(s0=tf.constant(a, tf.int64, shape=(len(a),)),
                                         s1=tf.constant(b, tf.int64, shape=(len(b),)))
    except tf.errors.InvalidArgumentError as err:
        return Outcome("tensorflow", False, None, error_text(err), _SHAPES_ONLY)
    return Outcome("tensorflow", True, tuple(int(d) for d in shape.numpy()), None, _SHAPES_ONLY)



def _explain(a: object, b: object, dims: dict, tensorflow: bool) -> BroadcastExplanation:
    sa, sb = as_shape(a, "a", **dims), as_shape(b, "b", **dims)
    axes = _rule(sa, sb)
    failing = tuple(x.axis for x in axes if x.rule == RULE_MISMATCH)
    result = None if failing else tuple(x.result for x in axes)
    for name, shape in (("a", sa), ("b", sb), ("a * b", result or ())):
        span = math.prod(max(d, 1) for d in shape)  # zero sizes aside, as numpy counts
        if span > MAX_ELEMENTS:
            raise ValueError(f"{name}: shape {shorten(shape, 100)} spans {count_text(span)} "
                             f"elements; numpy and TensorFlow index at most {MAX_ELEMENTS} "
                             "(2**63 - 1)")
    tf_outcome = _run_tf(sa, sb, not failing) if tensorflow else None
    return BroadcastExplanation(sa, sb, axes, result, failing, _run_numpy(sa, sb), tf_outcome)


def explain_broadcast_numpy(a: object, b: object, /, **dims: int) -> BroadcastExplanation:
    """:func:`explain_broadcast` without TensorFlow: the rule and numpy's outcome only
    (``tensorflow`` is None). For light kernels, such as the classroom apps."""
    return _explain(a, b, dims, tensorflow=False)


def explain_broadcast(a: object, b: object, /, **dims: int) -> BroadcastExplanation:
    """Explain how shapes ``a`` and ``b`` broadcast (as in ``a * b``), axis by axis.

    ``a`` and ``b`` may be shape tuples, shape text (names bound by ``dims``, e.g. ``N=2``),
    numpy arrays or tensors. Returns a :class:`BroadcastExplanation` whose ``result_shape`` is
    a tuple, or ``None`` with ``failing_axis`` set when the shapes are incompatible; its
    ``numpy`` and ``tensorflow`` outcomes are what those libraries really did.
    """
    return _explain(a, b, dims, tensorflow=True)
