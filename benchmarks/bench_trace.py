"""Plain forward vs full trace, at batch 1 and 32 (goal: trace <= 1.15x plain).

"plain" is the block's own traced Keras forward (net_out only, `explainer.forward`);
"trace" records all 12 named tensors (`explainer.trace`); "trace+stats" also computes every
record's mean/std/l2/min/max (what `str(trace)` prints), which the trace defers until asked.
Also printed: Keras' `predict_on_batch` on the same block, for reference.
"""

from __future__ import annotations

import os
import sys
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

from _timing import median_ms  # noqa: E402

import explainer  # noqa: E402


def _trace_table(block, x) -> str:
    return str(explainer.trace(block, x))


def main() -> None:
    print(f"{'variant':<8}{'batch':>6}{'plain ms':>10}{'predict_on_batch':>18}{'trace ms':>10}"
          f"{'ratio':>7}{'trace+stats ms':>16}{'ratio':>7}")
    for variant in ("v1", "v2"):
        block = explainer.build_block35(variant)
        for batch in (1, 32):
            x = explainer.sample_input(variant, batch=batch, size=35)
            repeat = 50 if batch == 1 else 15
            plain = median_ms(partial(explainer.forward, block, x), repeat)
            keras_pob = median_ms(partial(block.predict_on_batch, x), repeat)
            traced = median_ms(partial(explainer.trace, block, x), repeat)
            full = median_ms(partial(_trace_table, block, x), max(5, repeat // 3))
            print(f"{variant:<8}{batch:>6}{plain:>10.2f}{keras_pob:>18.2f}{traced:>10.2f}"
                  f"{traced / plain:>7.2f}{full:>16.2f}{full / plain:>7.2f}")


if __name__ == "__main__":
    main()
