"""The trace records every tensor of the snippet, in order, with correct statistics."""

from __future__ import annotations

import json

import numpy as np

import explainer
from explainer.core.reference import block_forward

NAMES = ("net", "tower_conv", "tower_conv1_0", "tower_conv1_1", "tower_conv2_0",
         "tower_conv2_1", "tower_conv2_2", "mixed", "up", "scaled_up", "net_sum", "net_out")


def test_names_order_iteration_and_indexing(block_v1, x_v1):
    tr = explainer.trace(block_v1, x_v1)
    assert tr.names == NAMES
    assert [r.name for r in tr] == list(NAMES)
    assert len(tr) == 12
    assert tr["up"].name == "up"


def test_scopes_shapes_and_dtypes(block_v2, x_v2):
    tr = explainer.trace(block_v2, x_v2)
    assert tr["tower_conv1_1"].scope == "Branch_1/Conv2d_0b_3x3"
    assert tr["tower_conv2_2"].scope == "Branch_2/Conv2d_0c_3x3"
    assert tr["up"].scope == "Conv2d_1x1"
    widths = {"tower_conv": 32, "tower_conv1_1": 32, "tower_conv2_1": 48, "tower_conv2_2": 64,
              "mixed": 128, "up": 320, "net_out": 320}
    for name, c in widths.items():
        assert tr[name].shape == (2, 9, 9, c)
        assert tr[name].dtype == "float32"
        assert isinstance(tr[name].shape, tuple)


def test_values_match_the_oracle_tensor_by_tensor(block_v2, x_v2):
    tr = explainer.trace(block_v2, x_v2)
    ref = block_forward(x_v2, explainer.block_weights(block_v2), "v2", 0.17, "relu",
                        intermediates=True)
    for rec in tr:
        np.testing.assert_allclose(rec.value, ref[rec.name], rtol=1e-4,
                                   atol=1e-4 * np.abs(ref[rec.name]).max())


def test_statistics_equal_numpy(block_v1, x_v1):
    rec = explainer.trace(block_v1, x_v1)["up"]
    v = rec.value.astype(np.float64)
    # TensorFlow reduces in float32; numpy here in float64
    assert np.isclose(rec.mean, v.mean(), rtol=1e-5, atol=1e-6)
    assert np.isclose(rec.std, v.std(), rtol=1e-5)
    assert np.isclose(rec.l2, np.linalg.norm(v.ravel()), rtol=1e-5)
    assert (rec.min, rec.max) == (float(v.min()), float(v.max()))


def test_the_line_itself(block_v1, x_v1):
    tr = explainer.trace(block_v1, x_v1)
    np.testing.assert_allclose(tr["scaled_up"].value, 0.17 * tr["up"].value, rtol=1e-6)
    np.testing.assert_allclose(tr["net_sum"].value, tr["net"].value + tr["scaled_up"].value,
                               rtol=1e-6)
    assert np.array_equal(tr["net_out"].value, np.maximum(tr["net_sum"].value, 0))
    assert np.isclose(tr.residual_ratio, tr["scaled_up"].l2 / tr["net"].l2)


def test_trace_equals_forward_and_table_and_json(block_v1, x_v1):
    tr = explainer.trace(block_v1, x_v1)
    assert np.array_equal(tr["net_out"].value, explainer.forward(block_v1, x_v1))
    table = str(tr)
    assert all(name in table for name in NAMES)
    assert "Branch_2/Conv2d_0c_3x3" in table and "(2, 9, 9, 96)" in table
    doc = json.loads(json.dumps(tr.to_dict()))
    assert [t["name"] for t in doc["tensors"]] == list(NAMES)
    assert doc["tensors"][8]["shape"] == [2, 9, 9, 256]


def test_public_names_are_never_hidden_by_submodules():
    # importing a submodule binds it on the package; no public function may share its name
    import importlib
    import pkgutil

    for mod in pkgutil.iter_modules(explainer.__path__):
        if mod.name != "__main__":
            importlib.import_module(f"explainer.{mod.name}")
    for name, where in explainer._EXPORTS.items():  # "module:" names a module itself
        value = getattr(explainer, name)
        if where.endswith(":"):
            assert value.__name__ == f"explainer.{where[:-1]}", name
        else:
            assert not isinstance(value, type(explainer)), name
    assert callable(explainer.trace) and callable(explainer.forward)


def test_branch_summary_shapes_follow_the_trace(block_v2, x_v2):
    tr = explainer.trace(block_v2, x_v2)
    rows = {r["branch"]: r for r in explainer.branch_summary(tr)}
    assert rows["Branch_2"]["path"] == "net -> tower_conv2_0 -> tower_conv2_1 -> tower_conv2_2"
    assert rows["Branch_2"]["shapes"].endswith("(2, 9, 9, 48) -> (2, 9, 9, 64)")
    assert rows["merge"]["path"].startswith("mixed -> up")
    assert [r["out_channels"] for r in rows.values()] == [32, 32, 64, 320]


def test_a_record_made_on_its_own_has_statistics_too():
    import tensorflow as tf

    rec = explainer.TensorRecord("up", "Conv2d_1x1", "up = ...", tf.constant([[3.0, -4.0]]),
                                 "CPU:0")
    assert (rec.mean, rec.l2, rec.min, rec.max) == (-0.5, 5.0, -4.0, 3.0)
    assert np.isclose(rec.std, 3.5)
