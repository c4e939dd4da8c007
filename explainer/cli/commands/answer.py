"""The default command: the answer, the trace table and the residual ratio.

``--backend jax`` or ``torch`` runs the block on that Keras backend (in a new process when Keras
is already loaded here with another one): the numbers are that backend's, and lines 2 and 4
say what `*` and `+=` do in that framework.
"""

from __future__ import annotations

from ...core.budget import check_block_run
from ..jsonout import dumps
from .argtypes import add_block_options
from .backend_option import add_backend_option, rerun, select_backend


def add_arguments(parser) -> None:
    add_block_options(parser)
    add_backend_option(parser, "the Keras backend the block runs on")


def check(args) -> None:
    """The budget from the shapes alone, before TensorFlow loads and anything is built; the
    backend chosen before Keras is imported."""
    check_block_run(args.variant, args.batch, args.size, args.size)
    select_backend(args, args.own_process)


def needs_tensorflow(args) -> bool:
    return args.backend == "tensorflow" and not args.rerun


def _argv(args) -> list[str]:
    """This command's arguments, for a new process."""
    argv = ["--variant", args.variant, "--scale", repr(args.scale), "--batch", str(args.batch),
            "--size", str(args.size), "--seed", str(args.seed), "--device", args.device,
            "--activation", str(args.activation or "none"), "--backend", args.backend]
    return argv + (["--json"] if args.json else [])


def run(args) -> int:
    if args.rerun:
        return rerun(_argv(args), args.backend)
    from ...answer import _explain_block  # every argument checked by its type and check()

    ans = _explain_block(args.variant, args.scale, args.activation, args.batch, args.size,
                         args.seed, args.device)
    tr = ans.trace
    if args.json:
        print(dumps({"answer": ans.lines, "backend": ans.backend, **tr.to_dict(),
                          "residual_ratio_at_scale_1": ans.ratio_at_scale_1}))
        return 0
    print("What does `*` do in `net += scale * up`?\n")
    print("\n".join(f"  {i}. {line}" for i, line in enumerate(ans.lines, 1)))
    on = "" if ans.backend == "tensorflow" else f", Keras backend {ans.backend}"
    print(f"\nblock35 {tr.spec.variant}, scale={tr.spec.scale:g}, activation="
          f"{tr.spec.activation}, input {tr['net'].shape}, device {tr.device}{on}\n")
    print(tr)
    ratio = tr.residual_ratio  # None: undefined; past a million, digits in exponent form
    print("\nresidual ratio ||scale*up|| / ||net|| = " + (
        "undefined (||net|| = 0, or scale * up beyond float32's range)" if ratio is None
        else f"{ratio:.4f}" if abs(ratio) < 1e6 else f"{ratio:.4g}"))
    return 0
