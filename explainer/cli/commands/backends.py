"""`python -m explainer backends`: the blocks on every installed Keras backend, compared.

Each backend runs in its own process (Keras fixes its backend at import): block35, block17
and block8 in v1 and v2 on the same seeded weights and input, then the max |difference| of
each from TensorFlow's block and from the numpy reference; each child also computes the
five-line answer on its backend (``python -m explainer --backend B`` prints the same).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json

from ...core.backend_run import compare_backends, format_report, run_here
from ..jsonout import dumps
from . import answer
from .argtypes import size as size_type
from .backend_option import backend_type


def add_arguments(parser) -> None:
    parser.add_argument("--backends", type=backend_type, nargs="+", default=None,
                        metavar="BACKEND", help="tensorflow, jax, torch (default: all installed)")
    parser.add_argument("--size", type=size_type, default=5,
                        help="height = width of the compared blocks' input (5; at most 35)")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")


def check(args) -> None:
    if args.size > 35:
        raise ValueError(f"size: got {args.size}; expected a whole number from 1 to 35")


def needs_tensorflow(args) -> bool:
    return False  # this process only starts the backends' processes and compares numbers


def child(out_path: str, size: int) -> dict:
    """A backend's process: the blocks (``run_here``), then this CLI's own answer command
    (``--json``) run here on the same backend, its five lines kept."""
    found = run_here(out_path, size)
    parser = argparse.ArgumentParser()
    answer.add_arguments(parser)
    args = parser.parse_args(["--json", "--backend", found["backend"]])
    args.own_process = False
    answer.check(args)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        answer.run(args)
    doc = json.loads(printed.getvalue())
    return {**found, "answer": doc["answer"], "residual_ratio": doc["residual_ratio"]}


def run(args) -> int:
    report = compare_backends(args.backends, size=args.size, child=child)
    if args.json:
        print(dumps(report))
        return 0
    print(format_report(report))
    for backend, entry in report["backends"].items():
        if "answer" in entry:
            print(f"\n{backend}: {entry['answer'][1]}\n{' ' * len(backend)}  {entry['answer'][3]}")
    return 0
