"""The default command: the answer, the trace table and the residual ratio."""

from __future__ import annotations

from ...core.budget import check_block_run
from ..jsonout import dumps
from .argtypes import add_block_options


def add_arguments(parser) -> None:
    add_block_options(parser)


def check(args) -> None:
    """The budget from the shapes alone, before TensorFlow loads and anything is built."""
    check_block_run(args.variant, args.batch, args.size, args.size)


def run(args) -> int:
    from ...answer import explain_block

    ans = explain_block(args.variant, scale=args.scale, activation=args.activation,
                        batch=args.batch, size=args.size, seed=args.seed, device=args.device)
    tr = ans.trace
    if args.json:
        print(dumps({"answer": ans.lines, **tr.to_dict(),
                          "residual_ratio_at_scale_1": ans.ratio_at_scale_1}))
        return 0
    print("What does `*` do in `net += scale * up`?\n")
    print("\n".join(f"  {i}. {line}" for i, line in enumerate(ans.lines, 1)))
    print(f"\nblock35 {tr.spec.variant}, scale={tr.spec.scale:g}, activation="
          f"{tr.spec.activation}, input {tr['net'].shape}, device {tr.device}\n")
    print(tr)
    print(f"\nresidual ratio ||scale*up|| / ||net|| = {tr.residual_ratio:.4f}")
    return 0
