"""`python -m explainer port --to torch|dl4j|keras|slim`: prints the port and the measured
difference; bad arguments are one line on stderr with exit 2, before TensorFlow loads."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_support import run_cli_without_tensorflow, run_here

import explainer
from explainer import cli, port
from explainer.ports.dl4j_port import parse_dl4j


@pytest.mark.parametrize(("args", "fragment"), [
    (["--to", "jax"], "argument --to: invalid choice: 'jax'"),
    ([], "the following arguments are required: --to"),
    (["--to", "torch", "--variant", "v7"], "variant: got 'v7'"),
    (["--to", "keras", "--index", "11"], "index: got 11"),
    (["--to", "keras", "--index", "x"], "index: got 'x'"),
    (["--to", "keras", "--variant", "v1"], "variant: got 'v1' with --to keras"),
    (["--to", "slim", "--scale", "inf"], "scale: got inf"),
    (["--to", "dl4j", "--seed", "-2"], "seed: got -2"),
    (["--to", "onnx"], "out: got nothing with --to onnx"),
    (["--to", "onnx", "--out", "/no/such/folder/b.onnx"], "does not exist"),
    (["--to", "torch", "--out", "b.onnx"], "--out is for --to onnx"),
    (["--to", "slim", "--block", "block9"], "block: got 'block9'"),
    (["--to", "keras", "--block", "block8", "--index", "11"], "index: got 11"),
])
def test_bad_arguments_one_line_exit_2(args, fragment):
    out = run_cli_without_tensorflow("port", *args)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr  # an import of TensorFlow would have failed
    assert fragment in lines[0]


def test_dl4j_prints_the_fragment_and_the_zoo_differences():
    out = run_here("port", "--to", "dl4j", "--variant", "v2", "--scale", "0.1")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("// block35 (tf-models Inception-ResNet-v2)")
    assert parse_dl4j(out.stdout) == parse_dl4j(port.to_dl4j("v2", 0.1, "relu"))
    assert "new ScaleVertex(0.1)" in out.stdout and "TANH" in out.stdout


def test_torch_json_reports_the_measured_difference(capsys):
    pytest.importorskip("torch", reason="torch is an optional extra (torch==2.13.0 CPU)")
    assert cli.main(["port", "--to", "torch", "--variant", "v2", "--seed", "3", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    block = explainer.build_block35("v2", 0.17, "relu", seed=3)
    assert doc["max_abs_diff"]["net_out"] == pytest.approx(port.compare_torch(block).net_out)
    assert doc["max_abs_diff"]["net_out"] <= 1e-5 and "Block35Torch" in doc["module"]
    saved = doc["save and load"]  # state_dict and module, loaded in a fresh process
    assert "a new block built with scale 1 loads it (weights_only=True, the default): scale " \
        "0.17" in saved and "UnpicklingError" in saved and "Block35Torch, scale 0.17" in saved


def test_slim_text_lists_every_tensor(capsys):
    assert cli.main(["port", "--to", "slim", "--variant", "v1", "--seed", "1"]) == 0
    text = capsys.readouterr().out
    check = port.compare_slim(None, "v1", 0.17, "relu", seed=1)
    for name, diff in check.max_abs_diff.items():
        assert f"  {name:<14}{diff:.3e}" in text
    assert all(d <= 1e-5 for d in check.max_abs_diff.values())


def test_keras_prints_the_layer_map_and_difference(capsys):
    assert cli.main(["port", "--to", "keras", "--index", "10", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["variant"] == "v2" and doc["scale"] == pytest.approx(0.17)
    assert "block35_10_conv" in doc["block35_10 layers (slim scope <- Keras)"]
    assert np.isfinite(doc["max_abs_diff"]["net_out"]) and doc["max_abs_diff"]["net_out"] <= 1e-5


def test_onnx_writes_the_file_and_reports_the_mul(tmp_path, capsys):
    pytest.importorskip("onnxruntime", reason="onnx is an optional extra")
    out = tmp_path / "block35.onnx"
    assert cli.main(["port", "--to", "onnx", "--variant", "v1", "--out", str(out),
                     "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert out.exists() and doc["file_bytes"] == out.stat().st_size
    assert doc["mul"]["value"] == pytest.approx(explainer.BLOCK35_SCALE)
    assert doc["ops"].split(" -> ").count("Conv") == 7 and "BatchNormalization" not in doc["ops"]
    block = explainer.build_block35("v1", seed=0)
    assert doc["max_abs_diff"]["net_out"] == pytest.approx(
        port.to_onnx(block, tmp_path / "again.onnx").max_abs_diff)


def test_block17_through_slim_and_dl4j(capsys):
    assert cli.main(["port", "--to", "slim", "--block", "block17", "--variant", "v2",
                     "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["block"] == "block17" and doc["scale"] == explainer.REAL_SCALES["block17"]
    assert "tower_conv1_2" in doc["max_abs_diff"] and "tower_conv2_2" not in doc["max_abs_diff"]
    assert all(d <= 1e-5 for d in doc["max_abs_diff"].values())
    assert cli.main(["port", "--to", "dl4j", "--block", "block8"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("// block8 (facenet") and "new ScaleVertex(0.2)" in text
