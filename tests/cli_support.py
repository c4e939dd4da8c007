"""Run ``python -m explainer`` the way a user does: a fresh process, its exit code and output."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m explainer ARGS...`` in a new process; text stdout / stderr captured."""
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=timeout)
