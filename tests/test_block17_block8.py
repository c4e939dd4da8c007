"""block17 and block8: widths from the original code, and our Keras block == the numpy
reference == the original slim code (keras.applications' block17_k / block8_k:
test_keras_applications.py)."""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer import port
from explainer.core.block_tables import CONVS_BY_BLOCK, IN_CHANNELS_BY_BLOCK, TRACE_NAMES_BY_BLOCK
from explainer.core.blocks import build_block, build_block8, build_block17
from explainer.core.reference import block_forward
from explainer.core.weight_tables import seeded_weights, weight_shapes
from explainer.ports.legacy import run_slim_block35

KINDS = ["block17", "block8"]
# (kind, variant): input channels, the branch widths in snippet order, mixed channels
WIDTHS = {
    ("block17", "v1"): (896, (128, 128, 128, 128), 256),
    ("block17", "v2"): (1088, (192, 128, 160, 192), 384),
    ("block8", "v1"): (1792, (192, 192, 192, 192), 384),
    ("block8", "v2"): (2080, (192, 192, 224, 256), 448),
}


@pytest.mark.parametrize(("kind", "variant"), list(WIDTHS))
def test_widths_are_the_original_codes(kind, variant):
    cin, widths, mixed = WIDTHS[(kind, variant)]
    block = build_block(kind, variant)
    assert block.input.shape[-1] == cin == IN_CHANNELS_BY_BLOCK[kind][variant]
    assert block.get_layer("mixed").output.shape[-1] == mixed
    k = 7 if kind == "block17" else 3
    convs = CONVS_BY_BLOCK[kind][variant]
    assert tuple(c.filters for c in convs) == widths
    assert [c.kernel for c in convs] == [(1, 1), (1, 1), (1, k), (k, 1)]
    for conv in convs:
        layer = block.get_layer(conv.scope.replace("/", "__"))
        assert tuple(layer.kernel_size) == conv.kernel and layer.filters == conv.filters
    shapes = weight_shapes(variant, kind)
    assert shapes[f"Branch_1/Conv2d_0b_1x{k}/weights"][:2] == (1, k)
    assert shapes[f"Branch_1/Conv2d_0c_{k}x1/weights"][:2] == (k, 1)
    assert shapes["Conv2d_1x1/weights"] == (1, 1, mixed, cin)
    assert block.count_params() == sum(int(np.prod(s)) for s in shapes.values())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variant", ["v1", "v2"])
@pytest.mark.parametrize(("scale", "activation"), [(0.0, "relu"), (None, "relu"),
                                                   (1.0, None), (1.0, "relu6")])
def test_block_equals_numpy_reference(kind, variant, scale, activation):
    block = build_block(kind, variant, scale=scale, activation=activation, seed=3)
    x = explainer.sample_input(variant, batch=2, size=6, seed=4, block=kind) * 4.0
    got = explainer.trace(block, x)
    want = block_forward(x, explainer.block_weights(block), variant, block.residual_spec.scale,
                         activation, intermediates=True, block=kind)
    assert got.names == TRACE_NAMES_BY_BLOCK[kind] == tuple(want)
    for name in got.names:
        rel = np.abs(got[name].value - want[name]).max() / max(1.0, np.abs(want[name]).max())
        assert rel < 1e-5, name


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("variant", ["v1", "v2"])
def test_original_slim_code_equals_ours(kind, variant):
    check = port.compare_slim(None, variant, explainer.REAL_SCALES[kind], "relu", seed=2,
                              block=kind)
    assert tuple(check.max_abs_diff) == TRACE_NAMES_BY_BLOCK[kind]
    assert all(d <= 1e-5 for d in check.max_abs_diff.values()), check
    run = run_slim_block35(explainer.sample_input(variant, 1, 5, 0, block=kind), variant,
                           1.0, None, seed=2, block=kind)
    assert set(run.variables) == set(weight_shapes(variant, kind))
    assert run.graph_names["tower_conv1_2"].startswith(f"Block{kind[5:]}/Branch_1/Conv2d_0c_")
    want = block_forward(run.outputs["net"], seeded_weights(variant, 2, kind), variant, 1.0,
                         None, block=kind)
    assert np.abs(run.net_out - want).max() < 1e-4


def test_v2_relu6_clip_is_in_the_original_block17():
    x = explainer.sample_input("v2", 1, 5, 0, block="block17") * 8.0
    run = run_slim_block35(x, "v2", 20.0, "relu6", block="block17")
    assert np.abs(run.outputs["scaled_up"]).max() == pytest.approx(6.0)
    ours = explainer.trace(build_block17("v2", 20.0, "relu6"), x)
    assert np.abs(ours["net_out"].value - run.net_out).max() < 1e-4


def test_bad_block_kind_and_channels():
    with pytest.raises(ValueError, match="block: got 'block99'"):
        build_block("block99")
    with pytest.raises(ValueError, match="block: got 'block9'"):
        weight_shapes("v1", "block9")
    with pytest.raises(ValueError, match="x: got 896 channels"):
        explainer.forward(build_block8("v1"), explainer.sample_input("v1", 1, 3, block="block17"))


@pytest.mark.parametrize("kind", KINDS)
def test_trace_names_and_code_lines(kind):
    block = build_block(kind, "v1", seed=1)
    tr = explainer.trace(block, explainer.sample_input("v1", 1, 4, 1, block=kind))
    k = 7 if kind == "block17" else 3
    assert tr["tower_conv1_1"].scope == f"Branch_1/Conv2d_0b_1x{k}"
    assert f"[1, {k}]" in tr["tower_conv1_1"].code
    assert tr["mixed"].code == "mixed = tf.concat([tower_conv, tower_conv1_2], 3)"
    assert tr["net"].code.startswith(f"def {kind}(net, scale=1.0")
    assert tr.to_dict()["block"] == kind and kind in repr(tr)
    rows = explainer.branch_summary(tr)
    assert [r["branch"] for r in rows] == ["Branch_0", "Branch_1", "merge"]
    assert explainer.describe_block("v1", block=kind).startswith(f"{kind} v1: input `net` has")


@pytest.mark.parametrize("kind", KINDS)
def test_scale_sweep_and_fold_scale_take_the_new_blocks(kind):
    block = build_block(kind, "v2", seed=4)
    x = explainer.sample_input("v2", 1, 5, 2, block=kind)
    scale = explainer.REAL_SCALES[kind]
    sweep = explainer.scale_sweep(block, x, [0.0, scale, 1.0])
    np.testing.assert_allclose(sweep.net_out(scale), explainer.forward(block, x), atol=1e-5)
    assert sweep.residual_ratio[0] == 0 and sweep.residual_ratio[2] > sweep.residual_ratio[1]
    folded = explainer.fold_scale(block)
    assert folded.residual_spec.block == kind and folded.residual_spec.scale == 1.0
    np.testing.assert_allclose(explainer.forward(folded, x), explainer.forward(block, x),
                               atol=1e-5)
