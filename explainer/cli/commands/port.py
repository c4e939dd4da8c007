"""`python -m explainer port --to torch|onnx|dl4j|keras|slim|timm`: port a block, measured.

torch: our block -> torch.nn.Module (``Block35Torch``, scale a buffer), max |difference| of
outputs, then its state_dict and the whole module saved and loaded back in a fresh process
(``torch.load`` with PyTorch's default ``weights_only``). onnx: our block -> an .onnx
file (``--out``) run by onnxruntime: its op sequence, the scale's ``Mul`` and the difference.
dl4j: the Java fragment and how DL4J's zoo block differs (text only, nothing to measure).
keras: keras.applications InceptionResNetV2 (weights=None) ``{block}_{index}`` -> our v2
block, measured. slim: the original tf-slim code run in a compat.v1 graph -> our block,
measured tensor by tensor. timm: our v2 block's weights loaded into timm's own
Inception-ResNet-v2 block (``out = out * self.scale + x``), measured. ``--block block17`` /
``block8`` ports those blocks instead.
"""

from __future__ import annotations

import argparse

from ...core.block_tables import BLOCK_KINDS, KERAS_APPS_COUNTS
from ...core.quiet import load_tensorflow_quietly
from ...core.schedule import REAL_SCALES
from ...core.validate import check_output_path, shorten
from ...core.weight_tables import seeded_weights
from ..jsonout import dumps
from .argtypes import activation, block_kind, scale, seed, variant

TARGETS = ("torch", "onnx", "dl4j", "keras", "slim", "timm")
V2_ONLY = {"keras": "keras.applications.InceptionResNetV2", "timm": "timm's inception_resnet_v2"}
MAX_INDEX = max(KERAS_APPS_COUNTS.values())


def _index(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"index: got {shorten(text)}; expected a whole number "
                                         f"1..{MAX_INDEX}") from None
    if not 1 <= value <= MAX_INDEX:
        raise argparse.ArgumentTypeError(f"index: got {shorten(value)}; expected 1..{MAX_INDEX} "
                                         "(InceptionResNetV2 has block35_1 ... block35_10, "
                                         "block17_1 ... block17_20, block8_1 ... block8_10)")
    return value


def add_arguments(parser) -> None:
    parser.add_argument("--to", required=True, choices=TARGETS,
                        help="torch, onnx, dl4j, keras (keras.applications, v2 only), slim or "
                             "timm (v2 only)")
    parser.add_argument("--block", type=block_kind, default="block35",
                        help=f"which block: {', '.join(BLOCK_KINDS)} (block35)")
    parser.add_argument("--out", metavar="FILE.onnx",
                        help="with --to onnx: where to write the ONNX file (an existing file "
                             "only with --force)")
    parser.add_argument("--force", action="store_true",
                        help="replace an existing --out file (never a read-only one, never "
                             "through a symlink)")
    parser.add_argument("--variant", type=variant, default=None,
                        help="v1 (facenet) or v2 (tf-slim / keras apps); default v1, v2 for keras")
    parser.add_argument("--scale", type=scale, default=None,
                        help="residual scale (the nets' own: block35 0.17, block17 0.1, block8 "
                             "0.2); keras reads it from the model")
    parser.add_argument("--activation", type=activation, default="relu",
                        help="relu, relu6 or none; keras reads it from the model")
    parser.add_argument("--seed", type=seed, default=0, help="seed of weights and input (0)")
    parser.add_argument("--index", type=_index, default=1,
                        help="which keras.applications BLOCK_INDEX: 1..10, block17 1..20 (1)")
    parser.add_argument("--json", action="store_true", help="print only a JSON document")


def check(args) -> None:
    """Argument combinations and the --out path, checked before TensorFlow is imported."""
    if args.variant is None:
        args.variant = "v2" if args.to in V2_ONLY else "v1"
    if args.scale is None:
        args.scale = REAL_SCALES[args.block]
    if args.to in V2_ONLY and args.variant != "v2":
        raise ValueError(f"variant: got {args.variant!r} with --to {args.to}; expected 'v2' "
                         f"({V2_ONLY[args.to]} holds v2 blocks only)")
    if args.to == "timm" and (args.scale != REAL_SCALES[args.block] or args.activation != "relu"):
        raise ValueError(f"scale, activation: got {args.scale:g}, {args.activation} with --to "
                         f"timm; expected timm's own: {REAL_SCALES[args.block]:g}, relu")
    if args.to == "keras" and args.index > KERAS_APPS_COUNTS[args.block]:
        count = KERAS_APPS_COUNTS[args.block]
        raise ValueError(f"index: got {args.index}; expected 1..{count} (InceptionResNetV2 "
                         f"has {args.block}_1 ... {args.block}_{count})")
    if args.to == "onnx":
        if not args.out:
            raise ValueError("out: got nothing with --to onnx; expected --out FILE.onnx")
        # before the build and the export; an existing file only with --force
        check_output_path("out", args.out, suffix=".onnx", replace=args.force)
        load_tensorflow_quietly()  # onnx_port imports it
        from ...ports.onnx_port import onnx_missing  # imports onnx, builds nothing

        reason = onnx_missing()
        if reason:
            raise ValueError(f"to: got 'onnx' but {reason}")
    elif args.out:
        raise ValueError(f"out: got {shorten(args.out)} with --to {args.to}; --out is for --to "
                         "onnx")
    if args.to == "torch":
        load_tensorflow_quietly()  # torch_port imports it
        from ...ports.torch_port import torch_missing  # tries `import torch`, builds nothing

        reason = torch_missing()
        if reason:
            raise ValueError(f"to: got 'torch' but {reason}")
    if args.to == "timm":
        load_tensorflow_quietly()  # the ports package imports it
        from ...ports.timm_port import timm_missing  # imports timm, builds nothing

        reason = timm_missing()
        if reason:
            raise ValueError(f"to: got 'timm' but {reason}")


def run(args) -> int:
    doc = {"to": args.to, "block": args.block, "variant": args.variant, "scale": args.scale,
           "activation": args.activation, "seed": args.seed}
    if args.to == "dl4j":
        from ...ports.dl4j_port import DL4J_DIFFERENCE_COLUMNS, DL4J_DIFFERENCES, to_dl4j

        java = to_dl4j(args.variant, args.scale, args.activation, block=args.block)
        rows = [dict(zip(DL4J_DIFFERENCE_COLUMNS, r, strict=True)) for r in DL4J_DIFFERENCES]
        if args.json:
            print(dumps({**doc, "java": java, "differences": rows}))
            return 0
        print(java)
        if args.block != "block35":  # the table compares the zoo's block35 (inceptionV1ResA)
            print("// The table below compares block35 with the zoo's inceptionV1ResA. The zoo's "
                  "ResB\n// (InceptionResNetV1 calls inceptionV1ResB(graph, \"resnetB\", "
                  "10, 0.10, ...)) also ends in TANH\n// and also uses `scale` as the repeat "
                  "count; the zoo's ResB / ResC layers were not compared here.")
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
        print(dumps(doc))
        return 0
    for key, value in detail.items():
        print(f"{key}:\n{value}" if "\n" in str(value) else f"{key}: {value}")
    print(check)
    return 0


def _measured(args):
    from ...core.blocks import build_block
    from ...ports import keras_port, onnx_port, timm_port, torch_port  # TensorFlow and Keras

    if args.to == "slim":
        return keras_port.compare_slim(None, args.variant, args.scale, args.activation,
                                       args.seed, block=args.block), {}
    block = build_block(args.block, args.variant, args.scale, args.activation, seed=args.seed)
    if args.to == "torch":
        from ...ports.torch_save import torch_save_check

        module = torch_port.to_torch(block)
        return torch_port.compare_torch(block), {"module": str(module),
                                                 "save and load": str(torch_save_check(block))}
    if args.to == "timm":
        return timm_port.compare_timm(block)
    if args.to == "onnx":
        report = onnx_port.to_onnx(block, args.out, replace=args.force)
        mul = None if report.mul is None else vars(report.mul)
        return report.check(), {"path": report.path, "file_bytes": report.file_bytes,
                                "ops": " -> ".join(report.ops), "mul": mul,
                                "versions": report.versions}
    import keras

    model = keras.applications.InceptionResNetV2(weights=None)  # builds offline
    # weights=None leaves BatchNorm at 0 / 1 and biases at 0: load non-trivial ones first
    kind, index = args.block, args.index
    keras_port.to_keras_applications(seeded_weights("v2", args.seed, kind), model, index,
                                     block=kind)
    found = keras_port.keras_apps_block(model, index, block=kind)
    layers = "\n".join(f"  {scope:<24} <- {name}" for scope, name in found.layer_names.items())
    return keras_port.compare_keras_applications(model, index, block=kind), {
        "scale": found.scale, "activation": found.activation,  # read from the model
        f"{kind}_{index} layers (slim scope <- Keras)": layers}
