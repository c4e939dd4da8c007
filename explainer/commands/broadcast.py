"""`python -m explainer broadcast A B`: how two shapes broadcast, axis by axis.

Malformed shapes are found before TensorFlow is imported; incompatible shapes print the
explanation (with numpy's and TensorFlow's real error texts) and exit 2 with a one-line reason
on stderr.
"""

from __future__ import annotations

import json
import os
import sys


def start_tensorflow_quietly() -> None:
    """Import TensorFlow and initialise its devices with file descriptor 2 pointed at
    /dev/null, so that its C++ start-up lines (printed before absl honours
    TF_CPP_MIN_LOG_LEVEL) do not bury the one-line error contract on stderr."""
    sys.stderr.flush()
    saved, null = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 2)
    try:
        import tensorflow as tf

        tf.config.list_physical_devices()
        tf.zeros(1).numpy()
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(null)


def add_arguments(parser) -> None:
    parser.add_argument("a", help="first shape, e.g. '(2,35,35,256)', '2x35x35x256' or '(N,H,W,C)'")
    parser.add_argument("b", help="second shape, e.g. '(256,)' or '()'")
    parser.add_argument("--dims", default="",
                        help="sizes for names used in the shapes, e.g. 'N=2,H=35,W=35,C=256'")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")


def run(args) -> int:
    from ..broadcasting import as_shape, explain_broadcast, parse_dims

    dims = parse_dims(args.dims)  # a ValueError here is one line on stderr, exit 2 (cli.main)
    a = as_shape(args.a, "a", **dims)
    b = as_shape(args.b, "b", **dims)
    start_tensorflow_quietly()
    e = explain_broadcast(a, b)
    if args.json:
        print(json.dumps(e.to_dict(), indent=2))
    else:
        print(e)
    if not e.compatible:
        print(f"python -m explainer: error: {e.reason}; numpy says: "
              f"{(e.numpy.message or '').strip()}", file=sys.stderr)
        return 2
    return 0
