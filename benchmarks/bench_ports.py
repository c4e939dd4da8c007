"""ONNX export and onnxruntime against our TensorFlow forward, for every block kind (v1).

Printed per block: the median time of `port.to_onnx` (export + onnxruntime run + compare),
the median onnxruntime run alone and our `explainer.forward` on the same input at the
block's real spatial size (35 / 17 / 8), batch 1, and the ratio onnxruntime / ours.
"""

from __future__ import annotations

import os
import sys
import tempfile
from functools import partial

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, os.path.dirname(__file__))

from _timing import median_ms  # noqa: E402

import explainer  # noqa: E402
from explainer import port  # noqa: E402
from explainer.core.block_tables import BLOCK_KINDS, REAL_SIZES  # noqa: E402
from explainer.core.blocks import build_block  # noqa: E402


def main() -> None:
    import onnxruntime

    print(f"{'block':<9}{'to_onnx ms':>12}{'onnxruntime ms':>16}{'ours ms':>9}{'ratio':>7}"
          f"{'max |diff|':>12}")
    with tempfile.TemporaryDirectory() as folder:
        for kind in BLOCK_KINDS:
            block = build_block(kind, "v1")
            x = explainer.sample_input("v1", 1, REAL_SIZES[kind], 0, block=kind)
            path = os.path.join(folder, f"{kind}.onnx")
            export = median_ms(partial(port.to_onnx, block, path, x), repeat=3, warmup=1)
            report = port.to_onnx(block, path, x)
            session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
            run = median_ms(partial(session.run, None, {"net": x}), repeat=30)
            ours = median_ms(partial(explainer.forward, block, x), repeat=30)
            print(f"{kind:<9}{export:>12.0f}{run:>16.2f}{ours:>9.2f}{run / ours:>7.2f}"
                  f"{report.max_abs_diff:>12.2e}")


if __name__ == "__main__":
    main()
