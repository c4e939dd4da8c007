"""Shape text and shape-like values to tuples of ints, without ``eval``.

:func:`parse_shape` reads ``(2, 35, 35, 256)``, ``[2,35,35,256]``, ``2x35x35x256``, ``()``
and names bound by the caller (``N=2``); :func:`as_shape` also takes tuples, arrays and
tensors. numpy only: the CLI checks shapes with it before TensorFlow loads.
"""

from __future__ import annotations

import math
import numbers
import re

from ..core.validate import given, shorten

MAX_RANK = 64  # numpy 2's most dimensions; TensorFlow's kernels allow fewer
NUMPY_BROADCAST_RANK = 32  # np.broadcast_shapes and np.broadcast stop here (numpy 2.4)
MAX_DIM = 2**62
MAX_ELEMENTS = 2**63 - 1  # numpy's intp and TensorFlow's int64 element counts
_INT = re.compile(r"[0-9]+\Z")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DIM = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([0-9]{1,18})\s*\Z")
_EXAMPLES = "'(2, 35, 35, 256)', '[2,35,35,256]', '2x35x35x256', '()' or '(N, 256)' with N=2"

def count_text(count: int) -> str:
    """A whole number of any size in three significant digits, as ``f"{n:.3g}"`` writes a
    float ("1.84e+19"), without converting it to one: past 1e308 that conversion overflows."""
    count = int(count)
    if abs(count) < 10**15:
        return f"{count:.3g}"
    sign, digits = ("-" if count < 0 else ""), str(abs(count)) if abs(count) < 10**4000 \
        else None
    if digits is None:  # str() of more than 4,300 digits is refused: count them by log10
        exponent = int(math.log10(abs(count)))
        lead = abs(count) // 10**(exponent - 2)
        if lead < 100:  # log10 rounded up to a power of ten: one digit less
            exponent -= 1
            lead = abs(count) // 10**(exponent - 2)
    else:
        exponent, lead = len(digits) - 1, int(digits[:3])
        lead += int(digits[3]) >= 5 if len(digits) > 3 else 0  # round half up
    if lead >= 1000:  # rounded up to the next power of ten
        lead, exponent = lead // 10, exponent + 1
    mantissa = f"{lead // 100}.{lead % 100:02d}".rstrip("0").rstrip(".")
    return f"{sign}{mantissa}e+{exponent:02d}"


def broadcast_shapes(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    """The shape ``a * b`` broadcasts to, by the rule itself: right-aligned, equal sizes or a 1
    (or a missing axis) that stretches. Any rank: numpy's ``np.broadcast_shapes`` refuses more
    than :data:`NUMPY_BROADCAST_RANK` dimensions although its arrays may have 64. A mismatch
    is a ``ValueError`` worded as numpy's."""
    rank = max(len(a), len(b))
    pa, pb = (1,) * (rank - len(a)) + tuple(a), (1,) * (rank - len(b)) + tuple(b)
    if any(x != y and 1 not in (x, y) for x, y in zip(pa, pb, strict=True)):
        raise ValueError("shape mismatch: objects cannot be broadcast to a single shape.  "
                         f"Mismatch is between arg 0 with shape {shorten(tuple(a))} and arg 1 "
                         f"with shape {shorten(tuple(b))}.")
    return tuple(y if x == 1 else x for x, y in zip(pa, pb, strict=True))


def _check_dims(dims: dict) -> dict[str, int]:
    for key, value in dims.items():
        if (isinstance(value, bool) or not isinstance(value, numbers.Integral)
                or not 0 <= value <= MAX_DIM):
            raise ValueError(f"{key}: got {given(value)}; expected a whole number from 0 to "
                             f"{MAX_DIM} for the dimension named {key}")
    return {k: int(v) for k, v in dims.items()}


def _item(token: str, text: str, dims: dict[str, int]) -> int:
    token = token.strip()
    if _INT.match(token):
        if len(token.lstrip("0")) > 19 or int(token) > MAX_DIM:
            raise ValueError(f"shape: got {shorten(text)}; the size {shorten(token)} is too "
                             f"large, expected at most {MAX_DIM}")
        return int(token)
    if _NAME.match(token):
        if token not in dims:
            bound = f" (bound: {', '.join(sorted(dims))})" if dims else ""
            raise ValueError(f"shape: got {shorten(text)}; the name {shorten(token)} is not "
                             f"bound{bound}; bind it, e.g. {token if len(token) <= 20 else 'N'}=2")
        return dims[token]
    what = "an empty size" if not token else f"{shorten(token)}"
    raise ValueError(f"shape: got {shorten(text)}: {what} is not a whole number >= 0 or a "
                     f"bound name; expected e.g. {_EXAMPLES}")


def parse_dims(text: str) -> dict[str, int]:
    """``"N=2, C=256"`` -> ``{"N": 2, "C": 256}`` (no eval); ValueError on anything else."""
    if not isinstance(text, str):
        raise TypeError(f"dims: got {type(text).__name__}; expected text like 'N=2, C=256'")
    dims = {}
    for part in filter(str.strip, text.split(",")):
        m = _DIM.match(part)
        if not m:
            raise ValueError(f"dims: got {shorten(part.strip())}; expected NAME=whole number, e.g. "
                             "'N=2, H=35, W=35, C=256'")
        dims[m.group(1)] = int(m.group(2))
    return dims


def parse_shape(text: str, /, **dims: int) -> tuple[int, ...]:
    """Parse shape text into a tuple of ints, without ``eval``.

    Accepts ``(2, 35, 35, 256)``, ``[2,35,35,256]``, ``2x35x35x256``, ``(256,)``, ``256``,
    ``()`` and names bound by the caller: ``parse_shape("(N, 256)", N=2)``; any identifier is
    a dimension name (``text`` is positional-only, so ``text=3`` binds a dimension too).
    Anything else is a ``ValueError`` that quotes the text and says what is expected.
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
            raise ValueError(f"shape: got {shorten(text)}; brackets do not match, expected e.g. "
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
        raise ValueError(f"shape: got {len(shape)} dimensions in {shorten(text)}; expected at "
                         f"most {MAX_RANK}")
    return shape


def as_shape(value: object, name: str = "shape", /, **dims: int) -> tuple[int, ...]:
    """A shape from a tuple/list of ints, shape text, an array or tensor, or a Python float
    (a scalar value: shape ``()``)."""
    if isinstance(value, str):
        try:
            return parse_shape(value, **dims)
        except ValueError as err:
            raise ValueError(str(err).replace("shape:", f"{name}:", 1)) from None
    if isinstance(value, (bool, numbers.Integral)):
        raise TypeError(f"{name}: got the number {shorten(value)}; write ({value},) for a shape or "
                        f"{float(value)!r} for a scalar value")
    if isinstance(value, float):
        return ()
    if isinstance(value, (tuple, list)):
        if not all(isinstance(d, numbers.Integral) and not isinstance(d, bool) and 0 <= d
                   <= MAX_DIM for d in value) or len(value) > MAX_RANK:
            raise ValueError(f"{name}: got {shorten(value)}; expected whole numbers from 0 to "
                             f"{MAX_DIM}, at most {MAX_RANK} of them")
        return tuple(int(d) for d in value)
    shape = value if hasattr(value, "as_list") else getattr(value, "shape", None)  # TensorShape
    if shape is None:
        raise TypeError(f"{name}: got {type(value).__name__}; expected a shape tuple, shape "
                        "text, an array or a tensor")
    if hasattr(shape, "as_list") and getattr(shape, "rank", 0) is None:
        raise ValueError(f"{name}: got a TensorShape of unknown rank; expected a shape whose "
                         "rank and sizes are known, e.g. (2, 35, 35, 256)")
    dims_ = list(shape.as_list() if hasattr(shape, "as_list") else shape)
    if any(d is None for d in dims_):
        raise ValueError(f"{name}: got a tensor of partly unknown shape {shorten(dims_)}; "
                         "expected a fully known shape")
    if len(dims_) > MAX_RANK:
        raise ValueError(f"{name}: got rank {len(dims_)}; expected at most {MAX_RANK}")
    return tuple(int(d) for d in dims_)
