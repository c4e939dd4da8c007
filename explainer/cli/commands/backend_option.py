"""``--backend {tensorflow,jax,torch}``: which Keras backend a command runs the block on.

Keras fixes its backend when it is first imported. ``python -m explainer --backend jax`` run as
a program sets ``KERAS_BACKEND`` before anything imports Keras; where Keras is already loaded
with another backend (``explainer.cli.main([...])`` called inside a notebook or a test), the
command runs again in a new process with that backend and its output is passed on.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from ...core.backend import BACKENDS, check_backend, keras_backend


def backend_type(text: str) -> str:
    try:
        return check_backend(text)
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_backend_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--backend", type=backend_type, default=None,
                        help=f"{', '.join(BACKENDS)}: {what} (default: KERAS_BACKEND, else "
                             "tensorflow)")


def select_backend(args, own_process: bool) -> None:
    """Set ``args.backend`` (None: this process' backend) and ``args.rerun``: True when the
    command must run in a new process because Keras is loaded here with another backend."""
    current = keras_backend()
    args.backend = args.backend or current
    args.rerun = False
    if args.backend == current:
        return
    if own_process and "keras" not in sys.modules:  # a program of our own: choose before import
        os.environ["KERAS_BACKEND"] = args.backend
    else:
        args.rerun = True


def rerun(argv: list[str], backend: str) -> int:
    """``python -m explainer ARGV`` in a new process on ``backend``; its output passed on."""
    env = {**os.environ, "KERAS_BACKEND": backend}
    done = subprocess.run([sys.executable, "-m", "explainer", *argv], capture_output=True,
                          text=True, env=env)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    return done.returncode
