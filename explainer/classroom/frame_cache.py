"""Slider frames shared by every kernel of a class: a PNG drawn once is read by the others.

All students' kernels show the same block (same weights, same input), so the figure at slider
position 0.18 is the same picture in each. :class:`SharedFrames` keeps the PNGs of the slider
positions in a folder (``$EXPLAINER_FRAME_CACHE``, default ``<tmp>/explainer-classroom-frames``)
under a key made of the tensors the figure is drawn from and the code and library versions
that draw it, so a changed block or figure never reads an old picture. Files are written whole
and renamed into place, so a kernel never reads half a frame; a folder that cannot be written
is simply unused. Nothing here imports matplotlib: a kernel that finds its frames drawn never
loads it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from importlib.metadata import version
from pathlib import Path

import numpy as np

PACKAGE = Path(__file__).resolve().parents[1]
# the code a frame is drawn by (read as files: importing it would load matplotlib)
DRAWING_CODE = (PACKAGE / "classroom" / "figure.py", PACKAGE / "plots" / "sweep.py",
                Path(__file__))


def cache_root() -> Path:
    """The folder of all shared frames."""
    folder = os.environ.get("EXPLAINER_FRAME_CACHE")
    return Path(folder) if folder else Path(tempfile.gettempdir()) / "explainer-classroom-frames"


def frames_key(sweep, drawing_code=DRAWING_CODE) -> str:
    """A digest of what a frame depends on: net, up, the variant, the drawing code, and the
    versions of matplotlib and Pillow."""
    digest = hashlib.sha256()
    for part in (np.ascontiguousarray(sweep.net), np.ascontiguousarray(sweep.up)):
        digest.update(part.tobytes())
    digest.update(sweep.spec.variant.encode())
    for code in drawing_code:
        digest.update(Path(code).read_bytes())
    for library in ("matplotlib", "pillow"):
        digest.update(version(library).encode())
    return digest.hexdigest()[:24]


class SharedFrames:
    """PNG frames by slider index (0 .. 100), in a folder every kernel of the machine reads."""

    def __init__(self, sweep, drawing_code=DRAWING_CODE):
        self.folder = cache_root() / frames_key(sweep, drawing_code)

    def _path(self, index: int) -> Path:
        return self.folder / f"{index:03d}.png"

    def has(self, index: int) -> bool:
        return self._path(index).is_file()

    def get(self, index: int) -> bytes | None:
        try:
            return self._path(index).read_bytes()
        except OSError:
            return None

    def put(self, index: int, png: bytes) -> bool:
        """Store a frame; False when the folder cannot be written (each kernel then draws
        its own frames)."""
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".part")
            with os.fdopen(fd, "wb") as out:
                out.write(png)
            os.replace(tmp, self._path(index))
        except OSError:
            return False
        return True
