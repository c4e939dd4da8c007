"""Ports between the original slim graph, our block, PyTorch and DL4J text (keras.applications:
test_keras_applications.py), each proved by equal outputs on the same input (and shown to fail
when weights are mixed up)."""

from __future__ import annotations

import numpy as np
import pytest

import explainer
from explainer import legacy, port
from explainer.core.spec import CONVS
from explainer.core.weight_tables import seeded_weights, weight_shapes
from explainer.ports.dl4j_port import DL4J_DIFFERENCES, parse_dl4j

SLIM_TOL = 1e-5


# ------------------------------------------------------------------ slim -> ours
@pytest.mark.parametrize("variant", ["v1", "v2"])
@pytest.mark.parametrize("activation", ["relu", "relu6", None])
def test_slim_equals_ours_at_every_scale(variant, activation):
    for scale in (0.0, 0.17, 1.0):
        check = port.compare_slim(None, variant, scale, activation, seed=2)
        assert list(check.max_abs_diff) == list(explainer.TRACE_NAMES)
        print(f"slim {variant} {activation} scale {scale}: {check.net_out:.2e}")
        assert max(check.max_abs_diff.values()) <= SLIM_TOL, str(check)
        if variant == "v1" and activation == "relu6":  # the clip does not bite here: say so
            assert check.notes and " at 0 of " in check.notes[0]


def test_from_slim_holds_the_slim_variables_and_equals_the_seeded_block(x_v2):
    run = legacy.run_slim_block35(x_v2, "v2", 0.17, "relu", seed=4)
    ported = port.from_slim(run.variables, "v2", 0.17, "relu")
    held = explainer.block_weights(ported)
    assert all(np.array_equal(held[n], run.variables[n]) for n in weight_shapes("v2"))
    seeded = explainer.build_block35("v2", 0.17, "relu", seed=4)
    np.testing.assert_array_equal(explainer.forward(ported, x_v2),
                                  explainer.forward(seeded, x_v2))
    np.testing.assert_allclose(explainer.forward(ported, x_v2), run.net_out, atol=SLIM_TOL)


def _swapped(variables: dict, pairs) -> dict:
    out = dict(variables)
    for a, b in pairs:
        out[a], out[b] = variables[b], variables[a]
    return out


@pytest.mark.parametrize("mixup", ["beta <-> moving_mean", "Branch_1 0a <-> 0b statistics"])
def test_a_port_that_mixes_up_batchnorm_variables_fails(x_v1, mixup):
    run = legacy.run_slim_block35(x_v1, "v1", 0.17, "relu", seed=0)
    if mixup == "beta <-> moving_mean":
        pairs = [(f"{c.scope}/BatchNorm/beta", f"{c.scope}/BatchNorm/moving_mean")
                 for c in CONVS["v1"]]
    else:
        pairs = [(f"Branch_1/Conv2d_0a_1x1/BatchNorm/{p}", f"Branch_1/Conv2d_0b_3x3/BatchNorm/{p}")
                 for p in ("beta", "moving_mean", "moving_variance")]
    wrong = explainer.forward(port.from_slim(_swapped(run.variables, pairs), "v1"), x_v1)
    assert np.max(np.abs(wrong - run.net_out)) > 100 * SLIM_TOL


def test_a_mean_variance_swap_is_refused(x_v1):
    """Negative 'variances' (swapped-in means) are caught before any output is computed."""
    weights = seeded_weights("v1", 0)
    pairs = [(f"{c.scope}/BatchNorm/moving_mean", f"{c.scope}/BatchNorm/moving_variance")
             for c in CONVS["v1"]]
    with pytest.raises(ValueError, match="moving_variance.*variance"):
        port.from_slim(_swapped(weights, pairs), "v1")


def test_v1_relu6_differs_where_facenet_has_no_clip(x_v1):
    big = 4.0 * x_v1
    check = port.compare_slim(big, "v1", 20.0, "relu6")
    assert check.max_abs_diff["up"] <= SLIM_TOL  # everything up to the clip agrees
    assert check.max_abs_diff["scaled_up"] > 1.0  # ours clips, facenet's v1 does not
    assert check.net_out > 1.0  # here net > 6 meets scale*up < -6, so even net_out differs
    v2 = port.compare_slim(4.0 * explainer.sample_input("v2", 2, 9, 1), "v2", 20.0, "relu6")
    assert v2.max_abs_diff["scaled_up"] <= 6.0 * SLIM_TOL  # tf-models' v2 clips like ours


def test_from_slim_bad_input():
    with pytest.raises(TypeError, match="variables: got list"):
        port.from_slim([1], "v1")
    weights = seeded_weights("v1")
    del weights["Branch_2/Conv2d_0b_3x3/BatchNorm/beta"]
    with pytest.raises(ValueError, match="Branch_2/Conv2d_0b_3x3/BatchNorm/beta"):
        port.from_slim(weights, "v1")
    with pytest.raises(ValueError, match="variant: got 'v9'"):
        port.from_slim(seeded_weights("v1"), "v9")
    with pytest.raises(ValueError, match="shape"):  # v1 weights into a v2 block
        port.from_slim(seeded_weights("v1"), "v2")


# ------------------------------------------------------------------ ours -> torch
@pytest.mark.parametrize(("variant", "scale", "activation"), [
    ("v1", 0.17, "relu"), ("v2", 0.17, "relu"), ("v2", 1.0, None), ("v1", 1.0, "relu6"),
    ("v2", 20.0, "relu6"), ("v1", 20.0, "relu6")])
def test_torch_equals_ours(variant, scale, activation):
    torch = pytest.importorskip("torch", reason="torch is an optional extra "
                                "(pip install 'block35-explainer[torch]', torch==2.13.0 CPU)")
    block = explainer.build_block35(variant, scale, activation, seed=5)
    x = explainer.sample_input(variant, batch=2, size=9, seed=2)
    tol = 1e-5
    if scale > 1:  # make the relu6 clip bite: larger input, larger values, float32 rounding
        x = 4.0 * x
        assert np.max(np.abs(scale * explainer.trace(block, x)["up"].value)) > 6.0
        tol = 1e-5 * float(np.max(np.abs(explainer.trace(block, x)["net_sum"].value)))
    module = port.to_torch(block)
    assert isinstance(module, torch.nn.Module) and not module.training
    ours, theirs = explainer.forward(block, x), port.torch_forward(module, x)
    print(f"torch {variant} {activation} scale {scale}: {np.max(np.abs(ours - theirs)):.2e}")
    np.testing.assert_allclose(theirs, ours, atol=tol)


def test_torch_weights_are_transposed_to_nchw(block_v1):
    pytest.importorskip("torch", reason="torch is an optional extra")
    module = port.to_torch(block_v1)
    w = explainer.block_weights(block_v1)
    kernel = module.branches["Branch_1__Conv2d_0b_3x3"][0].weight.detach().numpy()
    assert kernel.shape == (32, 32, 3, 3)
    np.testing.assert_array_equal(kernel, w["Branch_1/Conv2d_0b_3x3/weights"].transpose(3, 2, 0, 1))
    bn = module.branches["Branch_0__Conv2d_1x1"][1]
    np.testing.assert_array_equal(bn.bias.detach().numpy(), w["Branch_0/Conv2d_1x1/BatchNorm/beta"])
    np.testing.assert_array_equal(bn.running_mean.numpy(),
                                  w["Branch_0/Conv2d_1x1/BatchNorm/moving_mean"])
    assert bn.eps == pytest.approx(0.001) and np.all(bn.weight.detach().numpy() == 1.0)


def test_torch_port_with_swapped_statistics_fails(block_v1, x_v1):
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    module = port.to_torch(block_v1)
    bn = module.branches["Branch_2__Conv2d_0a_1x1"][1]
    with torch.no_grad():
        beta, mean = bn.bias.clone(), bn.running_mean.clone()
        bn.bias.copy_(mean)
        bn.running_mean.copy_(beta)
    diff = np.max(np.abs(port.torch_forward(module, x_v1) - explainer.forward(block_v1, x_v1)))
    assert diff > 1e-3


def test_torch_batchnorm_momentum_is_slims_decay(block_v1):
    """slim's decay 0.995 is torch momentum 0.005: one training step moves the running mean
    as our Keras BatchNorm (momentum 0.995, Keras' convention) moves its moving mean."""
    torch = pytest.importorskip("torch", reason="torch is an optional extra")
    import tensorflow as tf

    module = port.to_torch(block_v1)
    bn_torch = module.branches["Branch_0__Conv2d_1x1"][1]
    bn_keras = block_v1.get_layer("Branch_0__Conv2d_1x1__BatchNorm")
    assert bn_torch.momentum == pytest.approx(0.005) and bn_keras.momentum == 0.995
    z = np.random.default_rng(7).normal(2.0, 1.0, (4, 5, 5, 32)).astype(np.float32)
    before = bn_keras.moving_mean.numpy().copy()
    copy = type(bn_keras).from_config(bn_keras.get_config())  # leave the fixture untouched
    copy.build(z.shape)
    copy.set_weights(bn_keras.get_weights())
    copy(tf.constant(z), training=True)
    bn_torch.train()
    with torch.no_grad():
        bn_torch(torch.from_numpy(z.transpose(0, 3, 1, 2).copy()))
    step = 0.005 * (z.mean(axis=(0, 1, 2)) - before)
    np.testing.assert_allclose(bn_torch.running_mean.numpy(), before + step, atol=1e-6)
    np.testing.assert_allclose(copy.moving_mean.numpy(), bn_torch.running_mean.numpy(), atol=1e-6)
    assert np.abs(step).max() > 1e-3  # the step is visible: momentum 0.1 would move 20x more


def test_torch_missing_is_a_clear_reason(monkeypatch, block_v1):
    monkeypatch.setitem(__import__("sys").modules, "torch", None)
    from explainer.ports import torch_port as port_torch

    assert "pip install 'block35-explainer[torch]'" in port_torch.torch_missing()
    with pytest.raises(ModuleNotFoundError, match="torch==2.13.0"):
        port.to_torch(block_v1)


def test_to_torch_bad_input():
    with pytest.raises(TypeError, match="block: got str"):
        port.to_torch("block")


# ------------------------------------------------------------------ ours -> DL4J text
def _keras_wiring(block, prefix: str = "Block35") -> dict[str, tuple[str, ...]]:
    """Our block's graph as {DL4J vertex name: input names}, read from the Keras layers."""
    def dl4j(name: str) -> str:
        return "input" if name == "net" else f"{prefix}/" + name.replace("__", "/")
    wiring = {}
    for layer in block.layers[1:]:
        inputs = layer.input if isinstance(layer.input, list) else [layer.input]
        wiring[dl4j(layer.name)] = tuple(dl4j(t._keras_history.operation.name) for t in inputs)
    return wiring


@pytest.mark.parametrize(("variant", "activation"), [("v1", "relu"), ("v2", None),
                                                     ("v1", "relu6")])
def test_dl4j_fragment_has_every_vertex_wired_as_our_graph(variant, activation):
    text = port.to_dl4j(variant, 0.17, activation)
    vertices = parse_dl4j(text)
    expected = _keras_wiring(explainer.build_block35(variant, 0.17, activation))
    if activation == "relu6":  # one Keras layer clips; DL4J spells clip as shift/relu6/shift
        clip = ("Block35/scaled_up/shift_up", "Block35/scaled_up/relu6", "Block35/scaled_up/clip")
        assert [vertices[n][0] for n in clip] == ["ShiftVertex", "ActivationLayer", "ShiftVertex"]
        assert vertices["Block35/net_sum"][1] == ("input", clip[-1])
        vertices = {k: v for k, v in vertices.items() if k not in clip}
        vertices["Block35/net_sum"] = ("ElementWiseVertex", ("input", "Block35/scaled_up"))
    assert set(vertices) == set(expected)
    for name, inputs in expected.items():
        assert vertices[name][1] == inputs, name
    kinds = {n: c for n, (c, _) in vertices.items()}
    assert kinds["Block35/mixed"] == "MergeVertex" and kinds["Block35/scaled_up"] == "ScaleVertex"
    assert kinds["Block35/net_sum"] == "ElementWiseVertex"
    assert kinds["Block35/Branch_1/Conv2d_0b_3x3"] == "ConvolutionLayer"
    assert kinds["Block35/Branch_1/Conv2d_0b_3x3/BatchNorm"] == "BatchNormalization"
    assert kinds["Block35/net_out"] == "ActivationLayer"
    assert "new ScaleVertex(0.17)" in text
    assert "new ElementWiseVertex(ElementWiseVertex.Op.Add)" in text
    assert text.count("ConvolutionMode.Same") == 7 and text.count("(") == text.count(")")
    cin = 256 if variant == "v1" else 320
    assert f".nIn({cin})" in text and f".nOut({cin})" in text


@pytest.mark.parametrize(("kind", "variant", "k"), [("block17", "v1", 7), ("block8", "v2", 3)])
def test_dl4j_fragment_of_block17_and_block8(kind, variant, k):
    from explainer.core.blocks import build_block

    scale = explainer.REAL_SCALES[kind]
    text = port.to_dl4j(variant, scale, "relu", block=kind)
    prefix = f"Block{kind[5:]}"
    vertices = parse_dl4j(text)
    expected = _keras_wiring(build_block(kind, variant, scale), prefix)
    assert set(vertices) == set(expected)
    assert all(vertices[name][1] == inputs for name, inputs in expected.items())
    assert vertices[f"{prefix}/mixed"][1] == (f"{prefix}/Branch_0/Conv2d_1x1/Relu",
                                              f"{prefix}/Branch_1/Conv2d_0c_{k}x1/Relu")
    assert f"new ConvolutionLayer.Builder(1, {k})" in text
    assert f"new ConvolutionLayer.Builder({k}, 1)" in text
    assert f"new ScaleVertex({scale!r})" in text and f"class {prefix}Fragment" in text
    assert text.count("ConvolutionMode.Same") == 5 and text.count("(") == text.count(")")


def test_dl4j_text_follows_the_scale_and_differences_table():
    assert "new ScaleVertex(0.1)" in port.to_dl4j("v2", 0.1)
    table = " ".join(" ".join(row) for row in DL4J_DIFFERENCES)
    for fact in ("192", "TANH", "3x3 ConvolutionLayer", "BatchNormalization", "activationScale"):
        assert fact in table
    with pytest.raises(ValueError, match="variant: got 'v5'"):
        port.to_dl4j("v5")


# ------------------------------------------------------------------ the figure of all ports
def test_port_differences_figure_has_one_marker_per_compared_tensor(block_v1, x_v1):
    from explainer.plots.ports import plot_port_differences

    slim = port.compare_slim(x_v1, "v1")
    exact = port.PortCheck("a", "b", {"net_out": 0.0})
    fig = plot_port_differences({"slim": slim, "exact": exact})
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == list(slim.max_abs_diff)
    lines = {line.get_label(): line for line in ax.get_lines()}
    shown = [d for d in slim.max_abs_diff.values() if d > 0]
    assert sorted(lines["slim"].get_ydata()) == sorted(shown)
    bottom = ax.get_ylim()[0]
    assert list(lines["exact: exactly 0"].get_ydata()) == [bottom]  # zero drawn at the edge
    assert bottom < min(shown)
    with pytest.raises(TypeError, match="checks: got list"):
        plot_port_differences([slim])
