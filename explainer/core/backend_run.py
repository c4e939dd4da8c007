"""The blocks on every installed Keras backend, each in its own process, compared.

Keras fixes its backend at import, so :func:`compare_backends` starts one process per
installed backend (``KERAS_BACKEND`` set; a backend Keras already runs in the calling process
runs there). Each builds block35, block17 and block8 in v1 and
v2 from the same seeded weights, runs them on the same small input and hands back the outputs,
its framework's version and its device (the CLI's children add the five-line answer computed
there); this process then takes the max |difference| of each from TensorFlow's block and from
the numpy reference (:mod:`.reference`). The children of JAX and PyTorch run with TensorFlow
blocked (``sys.modules["tensorflow"] = None``), so they show that the block needs none. It
lives in ``core`` because it needs only the block: the ``ports`` package imports TensorFlow's
ports when it loads.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from .backend import BACKENDS, backend_version, check_backend, keras_backend, resolve_device
from .block_tables import BLOCK_KINDS
from .lesson import sample_input
from .reference import _block_forward
from .schedule import REAL_SCALES
from .validate import check_positive_int
from .weight_tables import _seeded_weights

VARIANTS = ("v1", "v2")
CASES = tuple((block, variant) for block in BLOCK_KINDS for variant in VARIANTS)


def installed_backends() -> list[str]:
    """The Keras backends whose framework is installed here, in :data:`BACKENDS` order."""
    return [b for b in BACKENDS if importlib.util.find_spec(b) is not None]


def _case_input(block: str, variant: str, size: int) -> np.ndarray:
    return sample_input(variant, batch=1, size=size, seed=0, block=block)


def run_here(out_path: str, size: int) -> dict:
    """The child's work, on this process' backend: every case's output into ``out_path``
    (``.npz``); returns its version, device and the seconds each case took (build and run)."""
    from .blocks import build_block  # Keras loads here, on this process' backend
    from .tracing import forward

    outputs, seconds = {}, {}
    for block, variant in CASES:
        start = time.perf_counter()
        model = build_block(block, variant, device="auto")
        outputs[f"{block}_{variant}"] = forward(model, _case_input(block, variant, size))
        seconds[f"{block}_{variant}"] = time.perf_counter() - start
    np.savez(out_path, **outputs)
    return {"backend": keras_backend(), "version": backend_version(),
            "device": resolve_device("auto"), "build_and_run_seconds": seconds}


def _start(backend: str, folder: str, size: int, child) -> subprocess.Popen:
    """``child(out_path, size)`` in a new process on ``backend``; it prints one JSON line."""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    block_tf = "" if backend == "tensorflow" else "sys.modules['tensorflow'] = None; "
    out_path = os.path.join(folder, backend + ".npz")
    code = (f"import sys; {block_tf}import json; from {child.__module__} import "
            f"{child.__name__} as child; print(json.dumps(child({out_path!r}, {size})))")
    return subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def _finish(proc: subprocess.Popen, timeout: float) -> dict:
    """A child's JSON line, or ``{"error": its last stderr line}``."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        err += f"\nstopped after {timeout:g} s"
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if proc.returncode != 0:
        return {"error": lines[-1] if lines else f"exit status {proc.returncode}"}
    return json.loads(out.strip().splitlines()[-1])


def compare_backends(backends: list[str] | None = None, size: int = 5, timeout: float = 600,
                     child=run_here) -> dict:
    """Run every case on each backend (default: all installed), one process each, side by side.

    Returns ``{"size", "cases", "backends": {name: {"version", "device", "diff_vs_tensorflow":
    {case: float}, "diff_vs_numpy": {case: float}, ...}}}``; a backend that failed has
    ``"error"`` (its last stderr line) instead. Differences are max |difference| of
    ``net_out``; cases are "block35_v1" ... "block8_v2". ``child(out_path, size)`` (a
    module-level function: default :func:`run_here`; the CLI's adds the five-line answer)
    writes the outputs to ``out_path`` and returns a JSON-able dict, merged into the entry.
    A backend that Keras already runs in this process (a notebook, a test) runs here, without
    a second import of its framework; the others always get a process of their own.
    """
    size = check_positive_int("size", size, maximum=35)
    chosen = installed_backends() if backends is None else [check_backend(b) for b in backends]
    here = keras_backend() if "keras" in sys.modules else None
    report: dict = {"size": size, "cases": [f"{b}_{v}" for b, v in CASES], "backends": {}}
    with tempfile.TemporaryDirectory(prefix="block35_backends_") as folder:
        started = {b: _start(b, folder, size, child) for b in chosen if b != here}
        if here in chosen:
            report["backends"][here] = child(os.path.join(folder, here + ".npz"), size)
        for backend, proc in started.items():
            report["backends"][backend] = _finish(proc, timeout)
        report["backends"] = {b: report["backends"][b] for b in chosen}  # in the asked order
        outputs = {}
        for backend, entry in report["backends"].items():
            if "error" not in entry:
                with np.load(os.path.join(folder, f"{backend}.npz")) as saved:
                    outputs[backend] = {k: saved[k] for k in saved.files}
    reference = {f"{b}_{v}": _block_forward(_case_input(b, v, size), _seeded_weights(v, 0, b),
                                            v, REAL_SCALES[b], "relu", b)["net_out"]
                 for b, v in CASES}
    tf_out = outputs.get("tensorflow")
    for backend, out in outputs.items():
        entry = report["backends"][backend]
        entry["diff_vs_numpy"] = {k: float(np.abs(out[k] - reference[k]).max()) for k in out}
        entry["diff_vs_tensorflow"] = (None if tf_out is None else
                                       {k: float(np.abs(out[k] - tf_out[k]).max()) for k in out})
        entry["max_diff_vs_tensorflow"] = (None if tf_out is None else
                                           max(entry["diff_vs_tensorflow"].values()))
        entry["max_diff_vs_numpy"] = max(entry["diff_vs_numpy"].values())
    return report


def format_report(report: dict) -> str:
    """The report as a table: backend, version, device, then each case's differences."""
    cases = report["cases"]
    lines = [f"net_out of each block on a 1x{report['size']}x{report['size']} input, same "
             "seeded weights; max |difference| from TensorFlow's block / from numpy (float64)",
             ""]
    head = f"{'backend':<11}{'version':<22}{'device':<8}" + "".join(f"{c:>20}" for c in cases)
    lines += [head, "-" * len(head)]
    for backend, entry in report["backends"].items():
        if "error" in entry:
            lines.append(f"{backend:<11}failed: {entry['error']}")
            continue
        vs_tf = entry["diff_vs_tensorflow"] or {}
        cells = "".join(f"{_cell(vs_tf.get(c)) + ' / ' + _cell(entry['diff_vs_numpy'][c]):>20}"
                        for c in cases)
        lines.append(f"{backend:<11}{entry['version']:<22}{entry['device']:<8}{cells}")
    return "\n".join(lines)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.1e}"
