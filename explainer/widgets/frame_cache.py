"""Slider frames shared by every kernel of a class: a PNG drawn once is read by the others.

All students' kernels show the same block (same weights, same input), so the figure at slider
position 0.18 is the same picture in each. :class:`SharedFrames` keeps the PNGs of the slider
positions in a folder (``$EXPLAINER_FRAME_CACHE``, default ``<tmp>/explainer-classroom-frames``)
under a key made of the tensors the figure is drawn from and the code that draws it, so a
changed block or figure never reads an old picture. Files are written whole and renamed into
place, so a kernel never reads half a frame; a folder that cannot be written is simply unused.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import matplotlib
import numpy as np

from ..plots import sweep as sweep_plots


def cache_root() -> Path:
    """The folder of all shared frames."""
    folder = os.environ.get("EXPLAINER_FRAME_CACHE")
    return Path(folder) if folder else Path(tempfile.gettempdir()) / "explainer-classroom-frames"


def frames_key(sweep, drawing_code: Path) -> str:
    """A digest of what a frame depends on: net, up, the variant, the drawing code, matplotlib."""
    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(sweep.net), np.ascontiguousarray(sweep.up)):
        digest.update(part.tobytes())
    digest.update(sweep.spec.variant.encode())
    for code in (drawing_code, Path(sweep_plots.__file__), Path(__file__)):
        digest.update(code.read_bytes())
    digest.update(matplotlib.__version__.encode())
    return digest.hexdigest()[:24]


class SharedFrames:
    """PNG frames by slider index (0 .. 100), in a folder every kernel of the machine reads."""

    def __init__(self, sweep, drawing_code: Path):
        self.folder = cache_root() / frames_key(sweep, drawing_code)

    def get(self, index: int) -> bytes | None:
        try:
            return (self.folder / f"{index:03d}.png").read_bytes()
        except OSError:
            return None

    def put(self, index: int, png: bytes) -> None:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(png)
            os.replace(tmp, self.folder / f"{index:03d}.png")
        except OSError:
            pass  # a read-only or full disk: each kernel draws its own frames
