"""What only a new Python process shows, all from one such process (each costs a TensorFlow
import, ~8 s of CPU): its first use of the package needs no network (every socket connection
refused, and inside a network namespace without interfaces where the machine permits one),
keeps TensorFlow's native start-up lines off stderr (an exercise checked outside a notebook,
then the block run), and trains a trunk to the numbers this process gets, bit for bit.

The file is one xdist group (tests/xdist_groups.py): its tests share the process."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from types import SimpleNamespace

import pytest

from explainer.scaling.why_scale.training import TrunkRun, train_trunk

GUARD = """
import socket
def _refuse(*a, **k):
    raise OSError("network access attempted during an offline test")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
print("interfaces", sorted(name for _, name in socket.if_nameindex()))
"""
CHECK = """
from explainer.exercises import check
print(check('star_graph_op', 'Mul'))
"""
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
TRUNK = dict(width=16, depth=2, stem_stride=2, batch=8, scale=0.17, lr=0.1, steps=5, seed=4)
TRAIN = f"""
import json
from explainer.scaling.why_scale.training import train_trunk
print("trunk", json.dumps(train_trunk(**{TRUNK!r}).to_dict(digits=17)))
"""


@pytest.fixture(scope="module")
def fresh():
    """The process: in a network namespace of its own when ``unshare -n`` is permitted (root
    or user namespaces), and with TensorFlow's own log level unset, as in a learner's
    terminal. Its stdout lines by their first word."""
    unshare = shutil.which("unshare")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True) if unshare else None
    isolated = probe is not None and probe.returncode == 0
    env = {k: v for k, v in os.environ.items()
           if k not in ("TF_CPP_MIN_LOG_LEVEL", "EXPLAINER_VERBOSE")}
    argv = [sys.executable, "-c", GUARD + CHECK + RUN_BLOCK + TRAIN]
    out = subprocess.run([unshare, "-n", *argv] if isolated else argv, capture_output=True,
                         text=True, timeout=300, env=env)
    lines = {line.split(" ", 1)[0]: line for line in out.stdout.splitlines()}
    return SimpleNamespace(out=out, lines=lines, isolated=isolated)


def _line(fresh, first_word: str) -> str:
    assert first_word in fresh.lines, (fresh.out.stdout[-1000:], fresh.out.stderr[-2000:])
    return fresh.lines[first_word]


def test_first_use_runs_with_every_socket_connection_refused(fresh):
    assert fresh.out.returncode == 0, fresh.out.stderr[-2000:]
    assert "ran offline" in fresh.out.stdout


def test_check_outside_a_notebook_then_the_block_print_no_native_start_up_lines(fresh):
    """In a plain Python process TensorFlow's C++ start-up lines (absl, CUDA, oneDNN) stay
    out of the learner's terminal: stderr stays empty, the verdict is printed."""
    assert _line(fresh, "[star_graph_op]").startswith("[star_graph_op] Right")
    assert fresh.out.stderr == "", fresh.out.stderr


def test_runs_in_a_network_namespace_without_interfaces(fresh):
    if not fresh.isolated:
        pytest.skip("unshare -n is not permitted here (needs root or user namespaces)")
    assert _line(fresh, "interfaces") == "interfaces ['lo']"  # loopback only (and it is down)
    assert "ran offline" in fresh.out.stdout


def test_a_fresh_process_trains_the_same_numbers_bit_for_bit(fresh):
    here = train_trunk(**TRUNK).to_dict(digits=17)
    there = json.loads(_line(fresh, "trunk").split(" ", 1)[1])
    for name in TrunkRun.ARRAYS:
        assert there[name] == here[name], name
