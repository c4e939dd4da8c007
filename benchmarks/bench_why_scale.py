"""why-scale on two Dask workers against the same grid in one process (goal: >= 1.6x on this
2-core machine).

A small grid of real runs (depth 10, width 256, 60 SGD steps as in the full grid: 27 runs) is
trained two ways, each into a fresh results file, and timed from the call to the written file:
in this process
with TensorFlow's default thread pools (``--workers 1``, what a user gets), and on a Dask
LocalCluster of two single-threaded worker processes (``--workers 2``, cluster start-up and
each worker's TensorFlow import included). Each trunk shape is built and traced once per
process, inside the timing (a user pays it too). The two ways' numbers are compared too
(tests/test_why_scale_workers.py holds them equal).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from explainer.scaling.why_scale.experiment import GridConfig, run_grid  # noqa: E402
from explainer.scaling.why_scale.machine import cpu_record  # noqa: E402

GRID = GridConfig(depths=(10,), widths=(256,), scales=(1.0, 0.3, 0.1), lrs=(0.03, 0.05, 0.1),
                  steps=60, seeds=(0, 1, 2))


def _timed(out: Path, **kwargs) -> tuple[float, list]:
    start = time.perf_counter()
    document = run_grid(GRID, out, note=lambda text: None, **kwargs)
    seconds = time.perf_counter() - start
    return seconds, [{k: v for k, v in r.items() if k not in ("seconds", "machine")}
                     for r in document["runs"]]


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="bench_why_scale_"))
    runs = len(GRID.runs())
    serial, serial_numbers = _timed(folder / "serial.json")
    workers, worker_numbers = _timed(folder / "workers.json", workers=2)
    cpu = cpu_record()
    print(f"why-scale grid of {runs} runs (depth 10, width 256, 60 steps) on "
          f"{os.cpu_count()} cores ({cpu['cpu_model']}):")
    print(f"  in this process (--workers 1): {serial:6.1f} s")
    print(f"  2 Dask workers (--workers 2):  {workers:6.1f} s   speed-up {serial / workers:.2f}x "
          "(goal >= 1.6x)")
    print(f"  same numbers: {serial_numbers == worker_numbers}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
