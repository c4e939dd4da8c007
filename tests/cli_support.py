"""Run ``python -m explainer`` the way a user does: a fresh process, its exit code and output;
or in this process, where the process itself proves nothing (a fresh one costs seconds)."""

from __future__ import annotations

import subprocess
import sys

# ``python -m explainer`` with TensorFlow unimportable: a command that imports it fails with a
# traceback, so a clean one-line answer shows that it was given before TensorFlow loads.
_WITHOUT_TENSORFLOW = ("import runpy, sys; sys.modules['tensorflow'] = None; "
                       "sys.argv = ['explainer', *sys.argv[1:]]; "
                       "runpy.run_module('explainer', run_name='__main__', alter_sys=True)")


def run_cli_without_tensorflow(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """``python -m explainer ARGS...`` in a new process where ``import tensorflow`` fails: for
    answers that must come before TensorFlow loads (bad arguments, budgets)."""
    return subprocess.run([sys.executable, "-c", _WITHOUT_TENSORFLOW, *args],
                          capture_output=True, text=True, timeout=timeout)


def run_in_process(argv: list[str]) -> tuple[int, str, str]:
    """``explainer.cli.main(argv)`` in this process (a fresh process costs seconds): its exit
    code, stdout and stderr. argparse's own exits (errors, --help) count as their codes.
    Warnings raised meanwhile are written to stderr, as Python does in a process of its own
    (here pytest would otherwise collect them)."""
    import contextlib
    import io
    import warnings

    from explainer.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # each distinct warning once, as in a fresh process
        try:
            code = main(argv)
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 2
    for w in caught:
        err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno, w.line))
    return code, out.getvalue(), err.getvalue()


def run_here(*args: str) -> subprocess.CompletedProcess:
    """:func:`run_in_process` shaped like :func:`run_cli`'s result, for tests of what the CLI
    prints and returns (a fresh process is kept for what only a process shows: its stderr
    free of TensorFlow's native start-up lines, imports before TensorFlow loads)."""
    code, out, err = run_in_process(list(args))
    return subprocess.CompletedProcess(["explainer", *args], code, out, err)
