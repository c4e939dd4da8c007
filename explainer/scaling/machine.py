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

from .. import __version__

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


def onednn_setting() -> str:
    """TF_ENABLE_ONEDNN_OPTS as set, or "default (on for x86 builds)" when unset."""
    value = os.environ.get(ONEDNN_ENV)
    return value if value is not None else "default (on for x86 builds)"


def machine_record() -> dict:
    """Platform, machine, CPU model and flags, CPU count and the oneDNN setting."""
    return {"platform": platform.platform(), "machine": platform.machine(), **cpu_record(),
            "cpu_count": os.cpu_count(), "onednn": onednn_setting()}


def versions_record() -> dict:
    """Versions of Python and of the libraries that compute a run."""
    import keras
    import numpy
    import sklearn
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__,
            "keras": keras.__version__, "numpy": numpy.__version__,
            "scikit-learn": sklearn.__version__, "explainer": __version__}
