"""`python -m explainer star`: what `*` and `+=` do in `net += scale * up`, found by running.

Prints the line as four sources write it (facenet's `net += scale * up`, tf-models' current
`scaled_up = up * scale`, keras.applications' `inputs[0] + inputs[1] * self.scale`, timm's
`out * self.scale + x`: each source's own text, run on the block's `net` and `up`, with the
operator methods it called), how Python dispatches `scale * up` for each kind of scale, the
graph ops of the block's last line and of the whole block, the gradient check, the `+=`
experiments and the dtype table.
``--backend jax`` / ``torch``: the same questions asked of JAX or PyTorch (dispatch, the jaxpr
primitive or aten op, the gradient, what `+=` does), no TensorFlow and no Keras involved.
"""

from __future__ import annotations

from dataclasses import asdict

from ...core.schedule import BLOCK35_SCALE
from ...semantics.frameworks import framework_star
from ..jsonout import dumps
from .argtypes import scale as scale_type
from .backend_option import add_backend_option, rerun, select_backend


def add_arguments(parser) -> None:
    parser.add_argument("--scale", type=scale_type, default=BLOCK35_SCALE,
                        help=f"residual scale ({BLOCK35_SCALE:g})")
    add_backend_option(parser, "whose `*` and `+=` to run")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")


def check(args) -> None:
    """JAX and PyTorch need no Keras here; TensorFlow's findings need Keras on TensorFlow."""
    if args.backend in ("jax", "torch"):
        args.rerun = False
    else:
        select_backend(args, args.own_process)


def needs_tensorflow(args) -> bool:
    return args.backend == "tensorflow" and not args.rerun


def _framework(args) -> int:
    found = framework_star(args.backend, args.scale)
    print(dumps(asdict(found)) if args.json else found)
    return 0


def _findings(scale: float) -> dict:
    from ...ports.spellings import spellings
    from ...semantics.dtypes import dtype_table
    from ...semantics.graph import block_ops, last_line_ops
    from ...semantics.inplace import inplace_semantics
    from ...semantics.operators import dispatch_table, scale_gradient

    return {"spellings": spellings(scale),
            "dispatch": dispatch_table(scale), "tail": last_line_ops(scale),
            "block": block_ops("v1", scale=scale), "gradient": scale_gradient(scale),
            "inplace": inplace_semantics(), "dtypes": dtype_table(scale)}


def _to_json(f: dict) -> dict:
    def step(s):
        return {"call": s.call, "result": s.result, "functions": list(s.functions)}

    return {
        "spellings": [{**asdict(s), "dispatch": s.dispatch} for s in f["spellings"]],
        "dispatch": {k: {**{n: getattr(d, n) for n in ("scale", "python_function", "graph_op",
                                                       "result_dtype", "error",
                                                       "matches_operator")},
                         "steps": [step(s) for s in d.steps]} for k, d in f["dispatch"].items()},
        "tail_ops": list(f["tail"].types), "tail_compute_ops": list(f["tail"].compute_types),
        "block_compute_ops": list(f["block"].compute_types),
        "block_ops_by_layer": [[layer, list(t)] for layer, t in f["block"].by_layer()],
        "gradient": asdict(f["gradient"]),
        "inplace": [asdict(c) for c in f["inplace"]],
        "dtypes": [asdict(r) for r in f["dtypes"]],
    }


def run(args) -> int:
    if args.backend in ("jax", "torch"):
        return _framework(args)
    if args.rerun:
        return rerun(["star", "--scale", repr(args.scale), "--backend", args.backend]
                     + (["--json"] if args.json else []), args.backend)
    from ...semantics.dtypes import format_dtype_table

    f = _findings(args.scale)
    if args.json:
        print(dumps(_to_json(f)))
        return 0
    print("0. The line as four sources write it (their own text, each run on the block's "
          "net and up)\n")
    print("\n\n".join(str(s) for s in f["spellings"]) + "\n")
    print("1. How Python evaluates `scale * up` (each step called for real)\n")
    for label, d in f["dispatch"].items():
        print(f"[{label}] {d}\n")
    print("2. Graph ops of `net = relu(net + scale * up)` in a tf.function")
    print(f"   all ops:     {', '.join(f['tail'].types)}")
    print(f"   computation: {f['tail']}\n")
    print("   the whole block35 (v1) in the snippet's order, computation ops by layer:")
    groups = f["block"].by_layer()
    width = max(len(layer) for layer, _ in groups) + 2
    for layer, types in groups:
        print(f"   {layer:<{width}}{' '.join(types)}")
    print(f"\n3. Gradient (tf.GradientTape): {f['gradient']}\n")
    print("4. `net += x`: rebinding or mutation?\n")
    print("\n".join(str(c) for c in f["inplace"]))
    print("\n5. Result dtype of `scale * up` for a float32 up\n")
    print(format_dtype_table(f["dtypes"]))
    return 0
