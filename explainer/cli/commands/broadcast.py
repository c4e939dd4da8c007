"""`python -m explainer broadcast A B`: how two shapes broadcast, axis by axis.

The shape texts' syntax is checked by argparse, and the names they use are bound by ``--dims``
in ``check``: a bad shape or ``--dims`` is one line on stderr before TensorFlow is imported.
Incompatible shapes are an answer too: the explanation (with numpy's and TensorFlow's real
error texts) on stdout and exit status 1, as ``cmp`` exits 1 when files differ; 2 is kept for
bad arguments.
"""

from __future__ import annotations

import argparse
import re

from ...broadcasting.rule import explain_broadcast
from ...broadcasting.shapes import as_shape, parse_dims, parse_shape
from ..jsonout import dumps

_NAMES = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def shape_text(text: str) -> str:
    """argparse type: the text must parse as a shape (any names allowed until --dims binds
    them); returned unchanged."""
    try:
        parse_shape(text, **{name: 1 for name in _NAMES.findall(text)})
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err).replace("shape: ", "", 1)) from None
    return text


def add_arguments(parser) -> None:
    parser.add_argument("a", type=shape_text,
                        help="first shape, e.g. '(2,35,35,256)', '2x35x35x256' or '(N,H,W,C)'")
    parser.add_argument("b", type=shape_text, help="second shape, e.g. '(256,)' or '()'")
    parser.add_argument("--dims", default="",
                        help="sizes for names used in the shapes, e.g. 'N=2,H=35,W=35,C=256'")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")
    parser.epilog = EXIT_STATUS


EXIT_STATUS = ("exit status (as cmp's): 0 when the shapes broadcast, 1 when they do not (the "
               "explanation printed is the answer), 2 for a bad argument")


def check(args) -> None:
    """Bind the names of the shapes by ``--dims`` (a ValueError is one line on stderr, exit 2,
    in ``cli.main``), before TensorFlow loads."""
    dims = parse_dims(args.dims)
    args.shapes = (as_shape(args.a, "a", **dims), as_shape(args.b, "b", **dims))


def run(args) -> int:
    e = explain_broadcast(*args.shapes)
    print(dumps(e.to_dict()) if args.json else e)
    return 0 if e.compatible else 1  # not broadcasting is an answer, not an error
