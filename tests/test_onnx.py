"""ONNX port: Keras 3's exporter writes the block, onnxruntime runs it, outputs equal ours."""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer import port
from explainer.core.blocks import build_block

pytest.importorskip("onnxruntime", reason="onnx is an optional extra (pip install '.[onnx]')")
pytest.importorskip("tf2onnx", reason="onnx is an optional extra (pip install '.[onnx]')")
onnx = pytest.importorskip("onnx", reason="onnx is an optional extra (pip install '.[onnx]')")


# Every scale with every activation, each pair once; the variant alternates so that each
# variant also meets every scale and every activation (9 of the 18 combinations: the exporter
# sees the variants only as channel widths, which every case checks end to end).
PAIRWISE = [(["v1", "v2"][(i + j) % 2], scale, activation)
            for i, scale in enumerate([0.0, 0.17, 1.0])
            for j, activation in enumerate(["relu", "relu6", None])]


@pytest.mark.parametrize(("variant", "scale", "activation"), PAIRWISE)
def test_onnx_equals_ours(tmp_path, variant, scale, activation):
    block = explainer.build_block35(variant, scale=scale, activation=activation, seed=2)
    # times 4 so that relu6 really clips at scale 1
    x = explainer.sample_input(variant, batch=2, size=7, seed=3) * 4.0
    report = port.to_onnx(block, tmp_path / "block.onnx", x)
    ours = explainer.forward(block, x)
    assert report.max_abs_diff <= 1e-5 * max(1.0, float(np.abs(ours).max()))
    assert report.input_shape == x.shape and report.file_bytes > 0
    ops = report.ops
    assert ops[0] == "Transpose" and ops[-1] == "Transpose"  # NHWC in and out, NCHW inside
    assert ops.count("Conv") == 7 and "BatchNormalization" not in ops  # BN folded into convs
    assert ops.count("Concat") == 1 and ops.count("Add") == 1
    if scale == 1.0:  # the optimiser drops a multiply by one
        assert report.mul is None and "Mul" not in ops
    else:
        assert report.mul is not None and ops.count("Mul") == 1
        assert report.mul.value == np.float32(scale)
        # the scale multiplies the projection's output, after the last Conv, before the Add
        assert ops.index("Mul") == len(ops) - 1 - ops[::-1].index("Conv") + 1
        assert ops.index("Mul") < ops.index("Add")
    if activation == "relu6":
        assert {"Min", "Max", "Clip"} <= set(ops)
    else:
        assert ("Relu" in ops[ops.index("Add"):]) == (activation == "relu")


def test_the_report_reads_the_graph_file(tmp_path, block_v1, x_v1):
    path = tmp_path / "block35.onnx"
    report = port.to_onnx(block_v1, str(path), x_v1)
    model = onnx.load(str(path))
    assert tuple(n.op_type for n in model.graph.node) == report.ops
    mul = port.find_scale_mul(model)
    assert mul == report.mul and mul.value == pytest.approx(explainer.BLOCK35_SCALE)
    assert mul.other_input.endswith("BiasAdd:0")  # the projection's output
    text = str(report)
    assert "Mul" in text and "0.17" in text and f"{report.max_abs_diff:.3e}" in text
    assert report.check().net_out == report.max_abs_diff
    assert report.to_dict()["mul"]["value"] == report.mul.value


def test_a_block_that_never_ran_is_called_first(tmp_path):
    block = explainer.build_block35("v1", seed=5)
    assert not getattr(block, "_called", False)
    report = port.to_onnx(block, tmp_path / "fresh.onnx")  # the default input
    assert report.input_shape == (2, 9, 9, 256) and report.max_abs_diff < 1e-5


@pytest.mark.parametrize("kind", ["block17", "block8"])
def test_onnx_of_block17_and_block8(tmp_path, kind):
    block = build_block(kind, "v2", seed=1)
    report = port.to_onnx(block, tmp_path / f"{kind}.onnx")
    assert report.ops.count("Conv") == 5 and "BatchNormalization" not in report.ops
    assert report.mul.value == np.float32(explainer.REAL_SCALES[kind])
    assert report.max_abs_diff < 1e-5 * max(1.0, float(np.abs(explainer.forward(
        block, explainer.sample_input("v2", 2, 9, 1, block=kind))).max()))


def test_to_onnx_bad_input(tmp_path, block_v1):
    with pytest.raises(TypeError, match="block: got"):
        port.to_onnx("not a block", tmp_path / "x.onnx")
    with pytest.raises(TypeError, match="path: got int"):
        port.to_onnx(block_v1, 3)
    with pytest.raises(ValueError, match="does not exist"):
        port.to_onnx(block_v1, tmp_path / "no" / "such" / "x.onnx")
    with pytest.raises(ValueError, match="x: got 320 channels"):
        port.to_onnx(block_v1, tmp_path / "x.onnx", explainer.sample_input("v2", size=3))


def test_onnx_missing_is_a_clear_reason(monkeypatch, tmp_path, block_v1):
    monkeypatch.setitem(__import__("sys").modules, "onnxruntime", None)
    assert "pip install" in port.onnx_missing()
    with pytest.raises(ModuleNotFoundError, match="onnx extra"):
        port.to_onnx(block_v1, tmp_path / "x.onnx")


def test_the_pairwise_cases_cover_every_pair():
    for a, b in ((0, 1), (0, 2), (1, 2)):
        pairs = {(case[a], case[b]) for case in PAIRWISE}
        values = [sorted({case[k] for case in PAIRWISE}, key=str) for k in (a, b)]
        assert len(pairs) == len(values[0]) * len(values[1]), (a, b)
