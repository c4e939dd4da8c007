"""`scale * up` dispatch, graph ops, gradients, `+=` semantics and dtypes, checked against the
libraries themselves (every expected error text is captured here by running the same code)."""

from __future__ import annotations

import numpy as np
import pytest
import tensorflow as tf

import explainer
from explainer.semantics import dtypes, graph, inplace, operators

UP = tf.reshape(tf.range(24, dtype=tf.float32), (1, 2, 3, 4))


def raised(fn) -> str:
    """The 'Type: message' of what ``fn()`` raises (captured, never typed in), without the
    empty trailing ``name:`` field TensorFlow's eager errors carry."""
    try:
        fn()
    except Exception as err:  # noqa: BLE001
        message = str(err)
        if isinstance(err, tf.errors.OpError):
            assert message.endswith(" name: ")  # what the explainer leaves out
            message = message.removesuffix(" name: ")
        return f"{type(err).__name__}: {message}"
    raise AssertionError("expected an exception")


@pytest.mark.parametrize("scale", [0.17, 2, np.float64(0.17), np.float32(0.17),
                                   np.array(0.17), np.array(0.17, dtype=np.float32)],
                         ids=["float", "int", "np.float64", "np.float32", "0-d f64", "0-d f32"])
def test_python_and_numpy_scalars_defer_to_tensor_rmul(scale):
    d = explainer.dispatch(scale, UP)
    assert [s.call.split("(")[0] for s in d.steps] == [f"{type(scale).__name__}.__mul__",
                                                       f"{type(UP).__name__}.__rmul__"]
    assert d.steps[0].value is NotImplemented and d.steps[0].result == "NotImplemented"
    assert d.python_function == "tf.math.multiply" and d.graph_op == "Mul"
    assert "math_ops.multiply" in d.steps[1].functions
    assert d.steps[1].functions[-1] == "gen_math_ops.mul"
    assert d.result_dtype == "float32" and d.error is None and d.matches_operator
    expected = np.float32(np.asarray(scale).item()) * UP.numpy()
    np.testing.assert_allclose(d.steps[1].value.numpy(), expected, rtol=1e-6)
    assert "NotImplemented" in str(d) and "'Mul'" in str(d)


def test_tf_float32_constant_handles_it_in_its_own_mul():
    d = explainer.dispatch(tf.constant(0.17), UP)
    assert len(d.steps) == 1 and d.steps[0].call.startswith("EagerTensor.__mul__")
    assert d.graph_op == "Mul" and d.result_dtype == "float32"
    assert "override_binary_operator.binary_op_wrapper" in d.steps[0].functions


@pytest.mark.parametrize("scale", [tf.constant(0.17, tf.float64), tf.constant(2, tf.int32)],
                         ids=["float64", "int32"])
def test_tf_constant_of_another_dtype_raises_and_python_stops(scale):
    d = explainer.dispatch(scale, UP)
    assert d.error == raised(lambda: scale * UP)
    assert d.error.startswith("InvalidArgumentError")
    assert len(d.steps) == 1  # an exception is not NotImplemented: no __rmul__ step
    assert d.python_function is None and d.graph_op is None and d.result_dtype is None
    assert d.matches_operator
    assert "does not go on to up.__rmul__" in str(d)


def test_dispatch_rejects_what_is_not_a_number_or_tensor():
    with pytest.raises(TypeError, match="scale: got str"):
        explainer.dispatch("0.17", UP)
    with pytest.raises(TypeError, match="up: got ndarray"):
        explainer.dispatch(0.17, np.ones(3, np.float32))
    assert explainer.dispatch(0.5).result_dtype == "float32"  # up has a default


def test_graph_ops_of_the_last_line():
    spec = tf.TensorSpec([1, 5, 5, 8], tf.float32)
    g = explainer.graph_ops(lambda net, up: tf.nn.relu(net + 0.17 * up), spec, spec)
    assert g.compute_types == ("Mul", "AddV2", "Relu")
    assert set(g.plumbing_types) <= graph.PLUMBING_OPS and "Placeholder" in g.plumbing_types
    assert g.types.count("Placeholder") == 2 and len(g.types) == len(g.ops)
    assert str(g) == "Mul -> AddV2 -> Relu"
    arrays = explainer.graph_ops(lambda a: a * 2.0, np.ones((2, 2), np.float32))
    assert arrays.compute_types == ("Mul",)


def test_graph_ops_of_the_whole_block(block_v1):
    spec = tf.TensorSpec([1, 7, 7, 256], tf.float32)
    g = explainer.graph_ops(block_v1, spec)
    ops = g.compute_types
    assert ops[-4:] == ("BiasAdd", "Mul", "AddV2", "Relu")
    assert ops.count("Conv2D") == 7 and ops.count("ConcatV2") == 1
    assert ops.count("Rsqrt") == 6  # one inference BatchNorm per branch conv
    layers = [layer for layer, _ in g.by_layer()]
    assert layers[-3:] == ["scaled_up", "net_sum", "net_out"]
    assert dict(g.by_layer())["scaled_up"] == ("Mul",)


def test_graph_ops_follow_the_activation():
    block = explainer.build_block35("v1", activation="relu6", seed=0)
    ops = explainer.graph_ops(block, tf.TensorSpec([1, 5, 5, 256], tf.float32)).compute_types
    assert ops[-1] == "Relu6" and "Relu6" not in ops[:-1]


def test_graph_ops_bad_input():
    with pytest.raises(TypeError, match="fn: got int"):
        explainer.graph_ops(3, np.ones(2))
    with pytest.raises(ValueError, match="example_args"):
        explainer.graph_ops(lambda a: a)


@pytest.mark.parametrize("scale", [0.17, 0.5])
def test_gradient_is_scale_where_relu_is_on_and_zero_where_off(scale):
    g = explainer.scale_gradient(scale, size=7)
    assert g.d_up_values_on == (float(np.float32(scale)),)
    assert g.d_up_values_off == (0.0,)
    assert 0.2 < g.relu_on_fraction < 1.0
    assert g.d_up_error < 1e-6
    assert g.d_scale == pytest.approx(g.d_scale_expected, rel=1e-4, abs=1e-4)
    assert abs(g.d_scale) > 1e-3  # a non-trivial check
    assert g.tail_matches_block
    assert f"{g.d_scale:.6g}" in str(g)
    # printed as the float32 it is, not as its float64 expansion (0.17000000178813934)
    assert str(g).startswith(f"d(net_out)/d(up) = {scale} where the ReLU is on"), str(g)


def _case(cases, code_start):
    found = [c for c in cases if c.code.startswith(code_start)]
    assert len(found) == 1, [c.code for c in cases]
    return found[0]


def test_inplace_semantics_side_by_side():
    cases = explainer.inplace_semantics()
    t = _case(cases, "net = tf.constant")
    assert (t.has_iadd, t.same_object, t.alias_sees_change, t.error) == (False, False, False,
                                                                         None)
    n = _case(cases, "net = np.array([1., 2.])")
    assert (n.has_iadd, n.same_object, n.alias_sees_change) == (True, True, True)

    def int_iadd():
        a = np.array([1, 2])
        a += 0.5

    assert _case(cases, "net = np.array([1, 2])").error == raised(int_iadd)

    def var_iadd():
        v = tf.Variable([1.0, 2.0])
        v += 1.0

    v = _case(cases, "net = tf.Variable([1., 2.]); alias = net; net += 1.0")
    assert v.error == raised(var_iadd) and v.alias_sees_change is None
    a = _case(cases, "net = tf.Variable([1., 2.]); alias = net; net.assign_add")
    assert (a.same_object, a.alias_sees_change, a.error) == (True, True, None)
    assert "rebound" in str(t) and "mutated in place" in str(n)


def test_inplace_torch_cases():
    torch = pytest.importorskip("torch", reason="PyTorch is the optional 'torch' extra")
    cases = [c for c in explainer.inplace_semantics() if c.library == "torch"]
    plain = _case(cases, "net = torch.tensor")
    assert (plain.same_object, plain.alias_sees_change) == (True, True)

    def leaf():
        t = torch.ones(2, requires_grad=True)
        t += 1.0

    def autograd():
        up = torch.ones(2, requires_grad=True).exp()
        up += 1.0
        up.sum().backward()

    assert _case(cases, "net = torch.ones").error == raised(leaf)
    assert _case(cases, "up = net.exp()").error == raised(autograd)


def test_inplace_without_torch_skips_with_a_reason(monkeypatch):
    monkeypatch.setattr(inplace, "_torch_available", lambda: False)
    torch_cases = [c for c in explainer.inplace_semantics() if c.library == "torch"]
    assert len(torch_cases) == 1 and "not installed" in torch_cases[0].skipped
    assert "skipped" in str(torch_cases[0])


def test_dtype_table_records_dtypes_and_real_errors():
    rows = {r.scale: r for r in explainer.dtype_table()}
    up_tf, up_np = tf.ones((2, 3), tf.float32), np.ones((2, 3), np.float32)
    for label, scale in dtypes.scale_examples().items():
        row = rows[label]
        try:
            expected_tf = (scale * up_tf).dtype.name
        except tf.errors.InvalidArgumentError:
            assert not row.tf_ok and row.tf_result == raised(lambda s=scale: s * up_tf)
            assert not row.tf_result.endswith("name: ")
        else:
            assert row.tf_ok and row.tf_result == expected_tf
        np_scale = scale.numpy() if isinstance(scale, tf.Tensor) else scale
        assert row.numpy_result.split(" ")[0] == (np_scale * up_np).dtype.name
    assert rows["Python float"].tf_result == "float32"
    assert not rows["TF float64 constant"].tf_ok  # the clarified fact, measured
    assert rows["numpy float64"].tf_ok
    text = dtypes.format_dtype_table(list(rows.values()))
    assert all(label in text for label in rows)
    assert rows["TF float64 constant"].tf_result in text


def test_tables_and_helpers_used_by_the_notebook_and_cli():
    table = operators.dispatch_table(0.3)
    assert list(table) == list(dtypes.scale_examples(0.3))
    text = operators.format_dispatch_table(table)
    assert "float.__mul__: NotImplemented -> EagerTensor.__rmul__" in text
    assert text.count("=> InvalidArgumentError") == sum(d.error is not None for d in table.values())
    assert graph.last_line_ops(0.3).compute_types == ("Mul", "AddV2", "Relu")
    v2 = graph.block_ops("v2", size=5)
    assert v2.by_layer()[-3:] == [("scaled_up", ("Mul",)), ("net_sum", ("AddV2",)),
                                  ("net_out", ("Relu",))]
    with pytest.raises(ValueError, match="variant"):
        graph.block_ops("v3")
