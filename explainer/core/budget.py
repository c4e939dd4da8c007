"""A memory budget: requests are estimated before anything is allocated, and refused past it.

A learner who types ``--size 10000`` should get one sentence, not a machine out of memory. The
estimates are deliberately generous (every traced tensor in float32, kept twice: TensorFlow's
copy and numpy's, plus the convolution's working space) and count bytes, not seconds. The
budget is 2 GiB unless ``EXPLAINER_MEMORY_BUDGET`` (bytes, or with K / M / G) says otherwise.
"""

from __future__ import annotations

import math
import os
import re

from .block_tables import convs_of, in_channels, mixed_channels
from .validate import shorten

DEFAULT_BUDGET = 2 * 2**30
ENV = "EXPLAINER_MEMORY_BUDGET"
COPIES = 3  # traced tensors: TensorFlow's, numpy's, and working space of the same order
MAX_BUDGET = 2**63 - 1
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_budget() -> int:
    """The budget in bytes: ``EXPLAINER_MEMORY_BUDGET`` if set (e.g. ``512M``), else 2 GiB."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return DEFAULT_BUDGET
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([KMGT]?)i?B?", text, re.I)
    if not match:
        raise ValueError(f"{ENV}: got {shorten(text, 40)}; expected bytes such as 2147483648 "
                         "or 2G")
    whole, _, part = match.group(1).partition(".")
    # bounded before any arithmetic (310 digits), and exact: in a float, 2**63 - 1 would
    # round up to 2**63 and be refused as larger than itself
    part = part[:20]
    nbytes = ((int(whole) * 10**len(part) + int(part or "0")) * _UNITS[match.group(2).upper()]
              // 10**len(part) if len(whole.lstrip("0")) <= 20 else math.inf)
    if nbytes > MAX_BUDGET:
        raise ValueError(f"{ENV}: got {shorten(text, 40)}, which is too large; expected at "
                         f"most {MAX_BUDGET} bytes (8 EiB), such as 2147483648 or 2G")
    return int(nbytes)


def readable(nbytes: float) -> str:
    """1536 -> '1.5 KiB'; 3 * 2**30 -> '3 GiB'."""
    if nbytes >= 2**1000:  # an estimate from huge whole numbers: no float conversion
        return "more than 1e+285 PiB"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if nbytes < 1024 or unit == "PiB":
            return f"{nbytes:.3g} {unit}"
        nbytes /= 1024
    raise AssertionError("unreachable")


def check_memory(nbytes: int, asked: str, what: str) -> None:
    """Refuse a request whose estimate ``nbytes`` is over the budget.

    ``asked`` names the arguments as given (``"batch=100000, size=35"``); ``what`` says what
    would need the memory (``"running block35 v1"``).
    """
    _within_budget(nbytes, asked, what)


def _within_budget(nbytes: int, asked: str, what: str) -> None:
    """:func:`check_memory`'s work, shared with the checks that estimate a request first
    (:func:`check_block_run`, :func:`~.inputs.check_block_input`): one check, not two."""
    budget = memory_budget()
    if nbytes > budget:
        raise ValueError(f"{asked}: {what} needs about {readable(nbytes)} of memory; expected "
                         f"at most the budget of {readable(budget)} (a smaller batch or size, "
                         f"or set {ENV})")


def tensor_bytes(batch: int, height: int, width: int, channels: int, copies: int = 1) -> int:
    """Bytes of ``copies`` float32 tensors of shape (batch, height, width, channels)."""
    return batch * height * width * channels * 4 * copies


def traced_channels(variant: str, block: str = "block35") -> int:
    """Channels of every tensor a trace keeps, added up (block35 v1: 1,568 per pixel)."""
    width = in_channels(block, variant)
    # net, each branch conv, mixed, then up, scaled_up, net_sum, net_out (all C wide)
    return width + sum(c.filters for c in convs_of(block, variant)) \
        + mixed_channels(variant, block) + 4 * width


def check_block_run(variant: str, batch: int, height: int, width: int,
                    block: str = "block35", what: str | None = None) -> None:
    """Refuse running a block on (batch, height, width) when the traced tensors would not fit."""
    nbytes = tensor_bytes(batch, height, width, traced_channels(variant, block), COPIES)
    asked = f"batch={batch}, size={height}" + ("" if height == width else f"x{width}")
    _within_budget(nbytes, asked, what or f"running {block} {variant}")
