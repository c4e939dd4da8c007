"""Smaller pages, the same pictures: every embedded PNG of a page re-encoded losslessly.

A static page carries its figures as base64 PNG data URIs, about two thirds of its bytes.
matplotlib writes RGBA at zlib level 6, and the notebook widgets' frames are written fast
(filter 0, zlib level 1); an opaque RGBA image saved as RGB with Pillow's ``optimize`` holds
the same pixels in 10-20 % fewer bytes (measured on the lessons' figures), which keeps every
page of the static classroom under 1 MB. A PNG that would not shrink is kept as it was.

A page still over its budget after that (notebook 06: seven wide figures of the whole grid)
gets ``colours=256``: each figure with more colours than that is reduced to 256 (median cut,
no dithering). That is not lossless: matplotlib's anti-aliased edges hold a few thousand
shades, and 256 of them draw the same lines, text and markers (measured on 06's figures: 2.4
times fewer bytes). Lessons under the budget keep their figures exactly.
"""

from __future__ import annotations

import base64
import binascii
import io
import re

import numpy as np
from PIL import Image

DATA_PNG = re.compile(r'(src="data:image/png;base64,)([A-Za-z0-9+/=\s]+)(")')


def compact_png(png: bytes, colours: int | None = None) -> bytes:
    """``png`` re-encoded without loss: RGB when every pixel is opaque, Pillow's optimized
    compression; the original when that is not smaller or not a readable PNG. With
    ``colours``, an opaque image with more colours than that is reduced to that many."""
    try:
        image = Image.open(io.BytesIO(png))
        image.load()
    except (OSError, ValueError, Image.DecompressionBombError):
        return png
    if image.mode == "RGBA" and bool((np.asarray(image)[..., 3] == 255).all()):
        image = image.convert("RGB")
    if colours is not None and image.mode == "RGB" and image.getcolors(colours) is None:
        image = image.quantize(colours, method=Image.Quantize.MEDIANCUT,
                               dither=Image.Dither.NONE)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    smaller = out.getvalue()
    return smaller if len(smaller) < len(png) else png


def compact_page(page: str, colours: int | None = None) -> str:
    """Every ``src="data:image/png;base64,..."`` of ``page`` through :func:`compact_png`."""
    def one(match: re.Match) -> str:
        try:
            png = base64.b64decode(match.group(2), validate=False)
        except (binascii.Error, ValueError):
            return match.group(0)
        return (match.group(1) + base64.b64encode(compact_png(png, colours)).decode()
                + match.group(3))

    return DATA_PNG.sub(one, page)
