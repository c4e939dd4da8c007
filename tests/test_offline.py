"""Importing and running the block needs no network: nothing downloads at run time; and that
first use in a plain process keeps TensorFlow's native start-up lines off stderr."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

RUN_BLOCK = """
import numpy as np, explainer
from explainer.core.reference import block_forward
for v in ("v1", "v2"):
    b = explainer.build_block35(v, seed=1)
    x = explainer.sample_input(v, batch=1, size=6)
    tr = explainer.trace(b, x)
    ref = block_forward(x, explainer.block_weights(b), v)
    assert np.abs(tr["net_out"].value - ref).max() < 1e-4
print("ran offline")
"""

GUARD = """
import socket
def _refuse(*a, **k):
    raise OSError("network access attempted during an offline test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
"""


def test_first_use_runs_with_every_socket_connection_refused_and_a_quiet_stderr():
    """One fresh process for both (each costs a TensorFlow import): its first use of the
    package, ``build_block35``, with every connection refused, and with TensorFlow's own log
    level unset, as in a learner's terminal."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "EXPLAINER_VERBOSE")}
    out = subprocess.run([sys.executable, "-c", GUARD + RUN_BLOCK], capture_output=True,
                         text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ran offline" in out.stdout
    assert "cuda" not in out.stderr.lower() and "onednn" not in out.stderr.lower(), out.stderr


def test_runs_in_a_network_namespace_without_interfaces():
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True) if unshare else None
    if probe is None or probe.returncode != 0:
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces)")
    out = subprocess.run([unshare, "-n", sys.executable, "-c", RUN_BLOCK], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "ran offline" in out.stdout
