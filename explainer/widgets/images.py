"""Show a PNG in an ``ipywidgets.Image`` at a fixed CSS width, never stretched by the page.

A figure rendered at ``density`` times its CSS size stays sharp on a projector or a HiDPI
screen; the width attribute stops JupyterLab and Voilà from scaling it up (and blurring it).
"""

from __future__ import annotations

import struct

import ipywidgets as widgets


def png_size(png: bytes) -> tuple[int, int]:
    """(width, height) in pixels, read from a PNG's IHDR chunk."""
    if png[:8] != b"\x89PNG\r\n\x1a\n" or len(png) < 24:
        raise ValueError("png: got bytes that are not a PNG image")
    return struct.unpack(">II", png[16:24])


def show_png(image: widgets.Image, png: bytes, density: float = 1.0) -> None:
    """Put ``png`` into ``image``, displayed at its pixel width divided by ``density``."""
    image.value = png
    if png:
        image.width = str(round(png_size(png)[0] / density))
