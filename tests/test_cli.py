"""`python -m explainer`: the default answer, --json, and one-line errors with exit 2."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from cli_support import run_cli_without_tensorflow, run_here

import explainer


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m explainer ARGS...`` in a new process; text stdout / stderr captured."""
    return subprocess.run([sys.executable, "-m", "explainer", *args], capture_output=True,
                          text=True, timeout=timeout)


def test_default_prints_answer_table_and_measured_ratio():
    out = run_here()
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "What does `*` do in `net += scale * up`?" in text
    for name in explainer.TRACE_NAMES:
        assert f"\n{name} " in text
    block = explainer.build_block35("v1", scale=0.17, seed=0)
    tr = explainer.trace(block, explainer.sample_input("v1", batch=1, size=35, seed=0))
    assert f"residual ratio ||scale*up|| / ||net|| = {tr.residual_ratio:.4f}" in text
    assert "(1, 35, 35, 256)" in text and "Mul" in text and "__rmul__" in text


def test_json_is_only_json_and_matches_options():
    out = run_cli("--json", "--variant", "v2", "--scale", "0.3", "--batch", "2", "--size", "5",
                  "--activation", "none", "--seed", "3")
    assert out.returncode == 0 and out.stderr == "", out.stderr  # no TensorFlow start-up lines
    doc = json.loads(out.stdout)  # nothing else on stdout
    assert doc["variant"] == "v2" and doc["scale"] == 0.3 and doc["activation"] is None
    assert doc["tensors"][0]["shape"] == [2, 5, 5, 320]
    block = explainer.build_block35("v2", scale=0.3, activation=None, seed=3)
    tr = explainer.trace(block, explainer.sample_input("v2", batch=2, size=5, seed=3))
    assert np.isclose(doc["residual_ratio"], tr.residual_ratio)
    assert np.isclose(doc["residual_ratio_at_scale_1"] * 0.3, tr.residual_ratio)


@pytest.mark.parametrize(("args", "fragment"), [
    (["--scale", "nan"], "scale: got nan"),
    (["--scale", "abc"], "scale: got 'abc'"),
    (["--variant", "v3"], "variant: got 'v3'"),
    (["--activation", "tanh"], "activation: got 'tanh'"),
    (["--device", "tpu"], "device: got 'tpu'"),
    (["--batch", "0"], "batch: got 0"),
    (["--size", "-3"], "size: got -3"),
    (["--seed", "x"], "seed: got 'x'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
])
def test_bad_arguments_one_line_exit_2(args, fragment):
    out = run_cli_without_tensorflow(*args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr  # an import of TensorFlow would have failed
    assert fragment in lines[0]


def test_help_lists_the_commands():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("star", "broadcast", "scale", "port"):
        assert command in out.stdout


def test_gpu_request_without_gpu_is_one_clean_line():
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    out = run_cli("--device", "gpu", "--size", "3")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "python -m explainer: error: device: got 'gpu' but TensorFlow found no GPU "
        "(found: ['/physical_device:CPU:0']); use device='cpu' or 'auto'"]
