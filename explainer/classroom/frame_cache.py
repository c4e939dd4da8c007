"""Slider frames shared by every kernel of a class: a PNG drawn once is read by the others.

All students' kernels show the same block (same weights, same input), so the figure at slider
position 0.18 is the same picture in each. :class:`SharedFrames` keeps the PNGs of the slider
positions in a folder (``$EXPLAINER_FRAME_CACHE``, default ``<tmp>/explainer-classroom-frames``)
under a key made of the tensors the figure is drawn from and the code and library versions
that draw it, so a changed block or figure never reads an old picture. Files are written whole
and renamed into place, so a kernel never reads half a frame; in a kernel, a folder that
cannot be used is simply unused (it draws its own frames), while ``make classroom``'s first
step (:func:`check_cache_root`) refuses it in one line. Nothing here imports matplotlib: a
kernel that finds its frames drawn never loads it.
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


CACHE_VARIABLE = "EXPLAINER_FRAME_CACHE"


def default_cache_root() -> Path:
    return Path(tempfile.gettempdir()) / "explainer-classroom-frames"


def cache_root() -> Path:
    """The folder of all shared frames."""
    folder = os.environ.get(CACHE_VARIABLE)
    return Path(folder) if folder else default_cache_root()


def check_cache_root() -> Path:
    """:func:`cache_root`, made if missing, once a file could be written in it; a folder that
    cannot be used (a name too long, no permission, a file in the way) is a ValueError of one
    line that names ``$EXPLAINER_FRAME_CACHE`` and what it holds, shortened."""
    root = cache_root()
    try:
        if root.exists() and not root.is_dir():
            raise NotADirectoryError(0, "a file, not a folder")
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=root):
            pass
    except (OSError, ValueError) as err:
        given = os.environ.get(CACHE_VARIABLE)
        what = (f"{CACHE_VARIABLE}: got {shorten(given)!r}" if given else
                f"the default folder {str(root)!r} ({CACHE_VARIABLE} is not set)")
        why = getattr(err, "strerror", None) or str(err)
        raise ValueError(f"{what}; cannot keep the slider frames there ({why}); expected a "
                         "folder this user can write (or unset it: the default is "
                         f"{str(default_cache_root())!r})") from None
    return root


def shorten(text: str, keep: int = 60) -> str:
    """``text`` as the first ``keep`` characters, with its length when cut."""
    return text if len(text) <= keep else f"{text[:keep]}… ({len(text)} characters)"


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
        try:
            return self._path(index).is_file()
        except (OSError, ValueError):  # a name too long, a NUL: an unusable folder
            return False

    def get(self, index: int) -> bytes | None:
        try:
            return self._path(index).read_bytes()
        except (OSError, ValueError):
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
        except (OSError, ValueError):
            return False
        return True
