"""argparse ``type=`` functions: parse and check a value, or raise ArgumentTypeError (one line)."""

from __future__ import annotations

import argparse
import re
import unicodedata

from ...core.block_tables import check_block_kind
from ...core.schedule import BLOCK35_SCALE, REAL_SCALES
from ...core.validate import (
    MAX_WHOLE,
    check_activation,
    check_device,
    check_positive_int,
    check_scale,
    check_scales,
    check_variant,
    shorten,
)


def _wrap(check, text: str):
    try:
        return check(text)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _number(text: str) -> float:
    """``text`` as a float, not yet checked (``nan`` and ``1e39`` read as numbers)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"scale: got {shorten(text)}; expected a number such "
                                         "as 0.17") from None


def scale(text: str) -> float:
    return _wrap(check_scale, _number(text))


def scales(text: str) -> list[float]:
    """Comma-separated scales, read one by one and checked together (one check)."""
    parts = [p for p in text.replace(" ", "").split(",") if p]
    if not parts:
        raise argparse.ArgumentTypeError(f"scales: got {shorten(text)}; expected e.g. "
                                         "0,0.1,0.17,1")
    values = [_number(p) for p in parts]
    return _wrap(lambda v: check_scales(v, each="scale"), values).tolist()


def _significant(digits: str) -> str:
    """``digits`` without its leading zeros (any script's: int() reads them all)."""
    start = 0
    while start < len(digits) and unicodedata.decimal(digits[start]) == 0:
        start += 1
    return digits[start:]


def _int(name: str, minimum: int):
    def parse(text: str) -> int:
        plain = re.fullmatch(r"\s*([+-]?)(\d+)\s*", text)
        if plain:  # digits counted before int(): no arithmetic on 120,000 of them
            sign, digits = plain.group(1), _significant(plain.group(2))
            if len(digits) > len(str(MAX_WHOLE)):
                wanted = (f"a whole number >= {minimum}" if sign == "-" else
                          f"a whole number from {minimum} to {MAX_WHOLE:,}")
                too = "" if sign == "-" else ", which is too large"
                raise argparse.ArgumentTypeError(f"{name}: got {shorten(text)}{too}; expected "
                                                 f"{wanted}")
            text = sign + (digits or "0")  # 0000...1 is 1
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name}: got {shorten(text)}; expected a whole "
                                             "number") from None
        return _wrap(lambda v: check_positive_int(name, v, minimum), value)
    return parse


batch = _int("batch", 1)
size = _int("size", 1)
seed = _int("seed", 0)
depth = _int("depth", 1)


def variant(text: str) -> str:
    return _wrap(check_variant, text)


def activation(text: str) -> str | None:
    return _wrap(check_activation, text)


def device(text: str) -> str:
    return _wrap(check_device, text)


def block_kind(text: str) -> str:
    """'block35', 'block17' or 'block8'."""
    return _wrap(check_block_kind, text)


def add_block_options(parser: argparse.ArgumentParser, variant_default: str = "v1",
                      scale_default: float | None = BLOCK35_SCALE) -> None:
    """The options every command that builds a block shares. ``scale_default=None``: the
    chosen block's real scale (for commands with ``--block``)."""
    parser.add_argument("--variant", type=variant, default=variant_default,
                        help="v1 (facenet, 256 ch) or v2 (tf-slim/keras apps, 320 ch)")
    real = ", ".join(f"{k} {v:g}" for k, v in REAL_SCALES.items())
    parser.add_argument("--scale", type=scale, default=scale_default,
                        help=f"residual scale ({BLOCK35_SCALE:g})" if scale_default is not None
                        else f"residual scale (default: the block's real one: {real})")
    parser.add_argument("--batch", type=batch, default=1, help="batch size N (1)")
    parser.add_argument("--size", type=size, default=35, help="height = width (35)")
    parser.add_argument("--seed", type=seed, default=0, help="seed of weights and input (0)")
    parser.add_argument("--device", type=device, default="auto", help="auto, cpu or gpu")
    parser.add_argument("--activation", type=activation, default="relu",
                        help="relu, relu6 or none")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")
