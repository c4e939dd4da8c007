"""`python -m explainer port --to torch|dl4j|keras|slim`: port block35 and measure the port.

torch: our block -> torch.nn.Module, max |difference| of outputs. dl4j: the Java fragment and
how DL4J's zoo block differs (text only, nothing to measure). keras: keras.applications
InceptionResNetV2 (weights=None) ``block35_{index}`` -> our v2 block, measured. slim: the
original tf-slim code run in a compat.v1 graph -> our block, measured tensor by tensor.
"""

from __future__ import annotations

import argparse
import json

from ...core.schedule import BLOCK35_SCALE
from .argtypes import activation, scale, seed, variant

TARGETS = ("torch", "dl4j", "keras", "slim")


def _index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"index: got {text!r}; expected a whole number 1..10") \
            from None
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"index: got {value}; expected 1..10 "
                                         "(InceptionResNetV2 has block35_1 ... block35_10)")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--to", required=True, choices=TARGETS,
                        help="torch, dl4j, keras (keras.applications, v2 only) or slim")
    parser.add_argument("--variant", type=variant, default=None,
                        help="v1 (facenet) or v2 (tf-slim / keras apps); default v1, v2 for keras")
    parser.add_argument("--scale", type=scale, default=BLOCK35_SCALE,
                        help=f"residual scale ({BLOCK35_SCALE:g}); keras reads it from the model")
    parser.add_argument("--activation", type=activation, default="relu",
                        help="relu, relu6 or none; keras reads it from the model")
    parser.add_argument("--seed", type=seed, default=0, help="seed of weights and input (0)")
    parser.add_argument("--index", type=_index, default=1,
                        help="which keras.applications block35_INDEX, 1..10 (1)")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")


def _check(args) -> None:
    """Argument combinations checked before TensorFlow is imported."""
    if args.variant is None:
        args.variant = "v2" if args.to == "keras" else "v1"
    if args.to == "keras" and args.variant != "v2":
        raise ValueError(f"variant: got {args.variant!r} with --to keras; expected 'v2' "
                         "(keras.applications.InceptionResNetV2 holds v2 blocks only)")
    if args.to == "torch":
        from ...ports.torch_port import torch_missing  # tries `import torch`, builds nothing

        reason = torch_missing()
        if reason:
            raise ValueError(f"to: got 'torch' but {reason}")


def run(args) -> int:
    _check(args)
    doc = {"to": args.to, "variant": args.variant, "scale": args.scale,
           "activation": args.activation, "seed": args.seed}
    if args.to == "dl4j":
        from ...ports.dl4j_port import DL4J_DIFFERENCE_COLUMNS, DL4J_DIFFERENCES, to_dl4j

        java = to_dl4j(args.variant, args.scale, args.activation)
        rows = [dict(zip(DL4J_DIFFERENCE_COLUMNS, r, strict=True)) for r in DL4J_DIFFERENCES]
        if args.json:
            print(json.dumps({**doc, "java": java, "differences": rows}, indent=2))
            return 0
        print(java)
        print("// How DL4J's zoo InceptionResNetHelper.inceptionV1ResA differs from facenet:")
        for r in rows:
            print(f"//   {r['aspect']}: [facenet] {r['facenet block35']}; [DL4J zoo] "
                  f"{r['DL4J zoo inceptionV1ResA']} -> {r['consequence']}")
        print("// (text only: not compiled or run here, no JVM)")
        return 0
    check, detail = _measured(args)
    doc.update(source=check.source, target=check.target, max_abs_diff=check.max_abs_diff,
               notes=check.notes, **detail)
    if args.json:
        print(json.dumps(doc, indent=2))
        return 0
    for key, value in detail.items():
        print(f"{key}:\n{value}" if "\n" in str(value) else f"{key}: {value}")
    print(check)
    return 0


def _measured(args):
    from ... import ports as port
    from ...core.blocks import build_block35

    if args.to == "slim":
        return port.compare_slim(None, args.variant, args.scale, args.activation, args.seed), {}
    if args.to == "torch":
        block = build_block35(args.variant, args.scale, args.activation, seed=args.seed)
        module = port.to_torch(block)
        return port.compare_torch(block), {"module": str(module)}
    import keras

    from ...core.weight_tables import seeded_weights

    model = keras.applications.InceptionResNetV2(weights=None)  # builds offline
    # weights=None leaves BatchNorm at 0 / 1 and biases at 0: load non-trivial ones first
    port.to_keras_applications(seeded_weights("v2", args.seed), model, args.index)
    found = port.keras_apps_block(model, args.index)
    layers = "\n".join(f"  {scope:<24} <- {name}" for scope, name in found.layer_names.items())
    return port.compare_keras_applications(model, args.index), {
        "scale": found.scale, "activation": found.activation,  # read from the model
        f"block35_{args.index} layers (slim scope <- Keras)": layers}
