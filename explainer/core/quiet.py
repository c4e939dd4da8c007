"""Silence what native (C++) code writes to file descriptor 2.

TensorFlow's runtime logs start-up lines, CUDA probes and, when an eager op fails, a "Local
rendezvous is aborting" warning straight to fd 2, past Python's ``sys.stderr``. Where those
lines would only clutter a terminal or a notebook, this points fd 2 at /dev/null for a moment.
Python exceptions still surface: they are raised and printed after fd 2 is restored.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator


@contextlib.contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Within the block, anything written to fd 2 is discarded; fd 2 is restored after."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def load_tensorflow_quietly() -> None:
    """Import TensorFlow and probe its devices once, without its native start-up lines.

    Those lines (oneDNN notice, "Could not find cuda drivers", a cuInit error) would show as
    a red stderr box under a notebook's first cell and scare a learner. Set
    ``EXPLAINER_VERBOSE=1`` to see them.
    """
    import_quietly("tensorflow")


def import_quietly(module: str, package: str | None = None):
    """``importlib.import_module(module, package)`` with TensorFlow's native start-up lines
    silenced, should the module import TensorFlow; a module that does not stays light."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    name = importlib.util.resolve_name(module, package)
    settled = _PROBED or "tensorflow" not in sys.modules
    if os.environ.get("EXPLAINER_VERBOSE") or (name in sys.modules and settled):
        # nothing left to silence: fd 2 is not touched (repeat calls sit on hot paths)
        return importlib.import_module(module, package)
    with native_stderr_silenced():
        loaded = importlib.import_module(module, package)
        if "tensorflow" in sys.modules and not _PROBED:
            _probe_devices()
    return loaded


_PROBED = False


def _probe_devices() -> None:
    global _PROBED
    sys.modules["tensorflow"].config.list_physical_devices()  # CUDA logs here, once a process
    _PROBED = True
