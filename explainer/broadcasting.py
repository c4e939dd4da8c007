"""Broadcasting, axis by axis: the rule, then numpy and TensorFlow really running it.

Shapes are right-aligned; on each axis the sizes are equal, or one is 1 and stretches, or one
is missing and counts as 1, or they mismatch and the operation fails. :func:`explain_broadcast`
applies that rule and checks it against numpy and TensorFlow, without ever allocating arrays
bigger than :data:`SMALL` elements (a user may type ``(100000, 100000, 64)``): big operands
are zero-stride views (``numpy.broadcast_to``) and TensorFlow's own ``BroadcastArgs`` kernel
computes the shape. This module needs TensorFlow only inside :func:`explain_broadcast`, so
:func:`parse_shape` can check command-line input before TensorFlow loads.
"""

from __future__ import annotations

import math
import numbers
import re
from dataclasses import asdict, dataclass

import numpy as np

RULE_EQUAL = "equal"
RULE_STRETCH = "1 stretches"
RULE_MISSING = "missing counts as 1"
RULE_MISMATCH = "mismatch"
RULES = (RULE_EQUAL, RULE_STRETCH, RULE_MISSING, RULE_MISMATCH)

SMALL = 2**22  # largest array (elements) really allocated to run an operation
MAX_RANK = 32
MAX_DIM = 2**62
MAX_ELEMENTS = 2**63 - 1  # numpy's intp and TensorFlow's int64 element counts
_INT = re.compile(r"[0-9]+\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9]{1,18})\s*\Z")
_EXAMPLES = "'(2, 35, 35, 256)', '[2,35,35,256]', '2x35x35x256', '()' or '(N, 256)' with N=2"


def _check_dims(dims: dict) -> dict[str, int]:
    for key, value in dims.items():
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
            raise ValueError(f"{key}: got {value!r}; expected a whole number >= 0 for the "
                             f"dimension named {key}")
    return {k: int(v) for k, v in dims.items()}


def _item(token: str, text: str, dims: dict[str, int]) -> int:
    token = token.strip()
    if _INT.match(token):
        if len(token.lstrip("0")) > 19 or int(token) > MAX_DIM:
            raise ValueError(f"shape: got {text!r}; the size {token} is too large, expected at "
                             f"most {MAX_DIM}")
        return int(token)
    if _NAME.match(token):
        if token not in dims:
            bound = f" (bound: {', '.join(sorted(dims))})" if dims else ""
            raise ValueError(f"shape: got {text!r}; the name {token!r} is not bound{bound}; "
                             f"bind it, e.g. {token}=2")
        return dims[token]
    what = "an empty size" if not token else f"{token!r}"
    raise ValueError(f"shape: got {text!r}: {what} is not a whole number >= 0 or a bound name; "
                     f"expected e.g. {_EXAMPLES}")


def parse_dims(text: str) -> dict[str, int]:
    """``"N=2, C=256"`` -> ``{"N": 2, "C": 256}`` (no eval); ValueError on anything else."""
    if not isinstance(text, str):
        raise TypeError(f"dims: got {type(text).__name__}; expected text like 'N=2, C=256'")
    dims = {}
    for part in filter(str.strip, text.split(",")):
        m = _DIM.match(part)
        if not m:
            raise ValueError(f"dims: got {part.strip()!r}; expected NAME=whole number, e.g. "
                             "'N=2, H=35, W=35, C=256'")
        dims[m.group(1)] = int(m.group(2))
    return dims


def parse_shape(text: str, **dims: int) -> tuple[int, ...]:
    """Parse shape text into a tuple of ints, without ``eval``.

    Accepts ``(2, 35, 35, 256)``, ``[2,35,35,256]``, ``2x35x35x256``, ``(256,)``, ``256``,
    ``()`` and names bound by the caller: ``parse_shape("(N, 256)", N=2)``. Anything else is a
    ``ValueError`` that quotes the text and says what is expected.
    """
    if not isinstance(text, str):
        raise TypeError(f"shape: got {type(text).__name__}; expected shape text such as "
                        f"{_EXAMPLES}")
    dims = _check_dims(dims)
    s = text.strip()
    if not s:
        raise ValueError(f"shape: got an empty text; expected e.g. {_EXAMPLES}")
    if s[0] in "([":
        close = ")" if s[0] == "(" else "]"
        if s[-1] != close or any(c in s[1:-1] for c in "()[]"):
            raise ValueError(f"shape: got {text!r}; brackets do not match, expected e.g. "
                             f"{_EXAMPLES}")
        s = s[1:-1].strip()
        if not s:
            return ()
    if "," in s:
        tokens = s.split(",")
        if tokens[-1].strip() == "" and len(tokens) > 1:  # one trailing comma, as in (256,)
            tokens = tokens[:-1]
    else:
        pieces = re.split(r"\s*[x\u00d7]\s*", s)
        usable = all(_INT.match(p) or p in dims for p in pieces)
        tokens = pieces if usable else [s]
    shape = tuple(_item(t, text, dims) for t in tokens)
    if len(shape) > MAX_RANK:
        raise ValueError(f"shape: got {len(shape)} dimensions in {text!r}; at most {MAX_RANK}")
    return shape


def as_shape(value: object, name: str = "shape", **dims: int) -> tuple[int, ...]:
    """A shape from a tuple/list of ints, shape text, an array or tensor, or a Python float
    (a scalar value: shape ``()``)."""
    if isinstance(value, str):
        try:
            return parse_shape(value, **dims)
        except ValueError as err:
            raise ValueError(str(err).replace("shape:", f"{name}:", 1)) from None
    if isinstance(value, (bool, numbers.Integral)):
        raise TypeError(f"{name}: got the number {value!r}; write ({value},) for a shape or "
                        f"{float(value)!r} for a scalar value")
    if isinstance(value, float):
        return ()
    if isinstance(value, (tuple, list)):
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and 0 <= d
                   <= MAX_DIM for d in value) or len(value) > MAX_RANK:
            raise ValueError(f"{name}: got {value!r}; expected whole numbers >= 0, at most "
                             f"{MAX_RANK} of them")
        return tuple(int(d) for d in value)
    shape = value if hasattr(value, "as_list") else getattr(value, "shape", None)  # TensorShape
    if shape is None:
        raise TypeError(f"{name}: got {type(value).__name__}; expected a shape tuple, shape "
                        "text, an array or a tensor")
    dims_ = list(shape.as_list() if hasattr(shape, "as_list") else shape)
    if any(d is None for d in dims_):
        raise ValueError(f"{name}: got a tensor of partly unknown shape {dims_}; expected a "
                         "fully known shape")
    return tuple(int(d) for d in dims_)


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
    tensorflow: Outcome

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
                   for o in (self.numpy, self.tensorflow))

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
        for key in ("numpy", "tensorflow"):
            out[key]["message"] = getattr(self, key).message
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
        for o in (self.numpy, self.tensorflow):
            got = str(o.shape) if o.ok else o.message
            lines.append(f"{o.library}: {got}   [{o.how}]")
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


def _err(err: BaseException) -> str:
    return f"{type(err).__name__}: {err}"


def _stand_in(shape: tuple[int, ...]) -> tuple[int, ...]:
    """A small shape with the same broadcasting pattern (0 and 1 kept, bigger sizes -> 2)."""
    return tuple(d if d <= 1 else 2 for d in shape)


def _run_numpy(a, b) -> Outcome:
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
            return Outcome("numpy", False, None, _err(shape_error), how)
        return Outcome("numpy", True, tuple(shape), None, how)
    if shape is None:
        try:  # shapes are checked before any output is allocated, so this is safe
            va * vb  # noqa: B018 - run for its real error text
        except ValueError as err:
            return Outcome("numpy", False, None, _err(err), "a * b on zero-stride views")
        raise AssertionError(f"numpy multiplied {a} and {b} but broadcast_shapes refused")
    if math.prod(shape) <= SMALL:
        return Outcome("numpy", True, tuple((va * vb).shape), None,
                       "a * b on zero-stride views of these shapes")
    small = (np.broadcast_to(np.float32(0), _stand_in(a)) * np.broadcast_to(np.float32(0),
                                                                            _stand_in(b)))
    try:
        shape, how = np.broadcast(va, vb).shape, "np.broadcast of zero-stride views"
    except ValueError:  # the result is too large to index
        how = "np.broadcast_shapes (the result is too large for numpy to index)"
    return Outcome("numpy", True, tuple(shape), None,
                   f"{how} (the product would hold {math.prod(shape):.3g} elements); "
                   f"stand-ins {_stand_in(a)} * {_stand_in(b)} -> {small.shape}")


def _run_tf(a, b, rule_ok: bool) -> Outcome:
    import tensorflow as tf

    small_inputs = math.prod(a) <= SMALL and math.prod(b) <= SMALL
    if small_inputs and (not rule_ok or math.prod(np.broadcast_shapes(a, b)) <= SMALL):
        try:
            out = tf.zeros(a) * tf.zeros(b)
        except (tf.errors.InvalidArgumentError, ValueError) as err:
            return Outcome("tensorflow", False, None, _err(err), "tf.zeros(a) * tf.zeros(b)")
        return Outcome("tensorflow", True, tuple(out.shape), None, "tf.zeros(a) * tf.zeros(b)")
    try:
        shape = tf.raw_ops.BroadcastArgs(s0=tf.constant(a, tf.int64, shape=(len(a),)),
                                         s1=tf.constant(b, tf.int64, shape=(len(b),)))
    except tf.errors.InvalidArgumentError as err:
        return Outcome("tensorflow", False, None, _err(err),
                       "tf.raw_ops.BroadcastArgs on the shapes (arrays too big to allocate)")
    return Outcome("tensorflow", True, tuple(int(d) for d in shape.numpy()), None,
                   "tf.raw_ops.BroadcastArgs on the shapes (arrays too big to allocate)")


def explain_broadcast(a: object, b: object, **dims: int) -> BroadcastExplanation:
    """Explain how shapes ``a`` and ``b`` broadcast (as in ``a * b``), axis by axis.

    ``a`` and ``b`` may be shape tuples, shape text (names bound by ``dims``, e.g. ``N=2``),
    numpy arrays or tensors. Returns a :class:`BroadcastExplanation` whose ``result_shape`` is
    a tuple, or ``None`` with ``failing_axis`` set when the shapes are incompatible; its
    ``numpy`` and ``tensorflow`` outcomes are what those libraries really did.
    """
    sa, sb = as_shape(a, "a", **dims), as_shape(b, "b", **dims)
    axes = _rule(sa, sb)
    failing = tuple(x.axis for x in axes if x.rule == RULE_MISMATCH)
    result = None if failing else tuple(x.result for x in axes)
    for name, shape in (("a", sa), ("b", sb), ("a * b", result or ())):
        span = math.prod(max(d, 1) for d in shape)  # zero sizes aside, as numpy counts
        if span > MAX_ELEMENTS:
            raise ValueError(f"{name}: shape {shape} spans {span:.3g} elements; numpy and "
                             f"TensorFlow index at most {MAX_ELEMENTS} (2**63 - 1)")
    return BroadcastExplanation(sa, sb, axes, result, failing, _run_numpy(sa, sb),
                                _run_tf(sa, sb, not failing))
