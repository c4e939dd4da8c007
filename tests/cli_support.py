"""Run ``python -m explainer`` the way a user does: a fresh process, its exit code and output."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m explainer ARGS...`` in a new process; text stdout / stderr captured."""
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=timeout)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """``explainer.cli.main(argv)`` in this process (a fresh process costs seconds): its exit
    code, stdout and stderr. argparse's own exits (errors, --help) count as their codes."""
    import contextlib
    import io

    from explainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    return code, out.getvalue(), err.getvalue()


def run_here(*args: str) -> subprocess.CompletedProcess:
    """:func:`run_in_process` shaped like :func:`run_cli`'s result, for tests of what the CLI
    prints and returns (a fresh process is kept for what only a process shows: its stderr
    free of TensorFlow's native start-up lines, imports before TensorFlow loads)."""
    code, out, err = run_in_process(list(args))
    return subprocess.CompletedProcess(["explainer", *args], code, out, err)
