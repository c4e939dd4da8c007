"""Where a training result was made: the CPU, its vector instructions, oneDNN, the versions.

Float32 training is reproducible bit for bit on one machine, not across CPUs: TensorFlow picks
its kernels by the instruction set (oneDNN's AVX2 and AVX-512 paths sum in different orders),
and SGD amplifies a 1e-7 difference within tens of steps. So a stored result records the CPU
it came from, and the tests compare across machines only what carries over.
"""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

from ... import __version__

# The instruction-set flags that decide which float32 kernels run (x86 /proc/cpuinfo names).
KERNEL_FLAGS = ("sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl",
                "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_bf16", "amx_int8")
ONEDNN_ENV = "TF_ENABLE_ONEDNN_OPTS"


def cpu_record(cpuinfo: str | None = None) -> dict:
    """The CPU model and its kernel-relevant flags, read from /proc/cpuinfo (or the text given);
    ``None`` for what cannot be read (another OS)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    model = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    flags = re.search(r"^(?:flags|Features)\s*:\s*(.+)$", cpuinfo, re.M)
    present = set(flags.group(1).split()) if flags else set()
    return {"cpu_model": model.group(1).strip() if model else (platform.processor() or None),
            "cpu_flags": [f for f in KERNEL_FLAGS if f in present] if flags else None}


def onednn_setting() -> dict:
    """Whether TensorFlow runs oneDNN's kernels here, and the environment value that asked.

    Unset, TensorFlow turns oneDNN on only on CPUs with AVX-512 VNNI, BF16 or AMX (measured:
    off on an AVX2-only AMD EPYC, on with TF_ENABLE_ONEDNN_OPTS=1), so "default" does not
    say which kernels ran: ``in_use`` does (TensorFlow's own check; None if unreadable).
    """
    try:
        from tensorflow.python.util import _pywrap_util_port

        in_use = bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        in_use = None
    return {"in_use": in_use, ONEDNN_ENV: os.environ.get(ONEDNN_ENV)}


def machine_record() -> dict:
    """Platform, machine, CPU model and flags, CPU count, threads asked for, and oneDNN."""
    return {"platform": platform.platform(), "machine": platform.machine(), **cpu_record(),
            "cpu_count": os.cpu_count(), "onednn": onednn_setting(),
            "intra_op_threads": os.environ.get("TF_NUM_INTRAOP_THREADS")}


def versions_record() -> dict:
    """Versions of Python and of the libraries that compute a run."""
    import keras
    import numpy
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "explainer": __version__}
