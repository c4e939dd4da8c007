"""Issue 22: the block on Keras' JAX and PyTorch backends, `*` and `+=` in each framework,
timm's blocks as an oracle, and the device check without TensorFlow.

Once, at the top of the module: ``tools/device_check.py`` with TensorFlow blocked, in a process
of its own, and meanwhile ``backends --json`` through the CLI in this process (TensorFlow's
blocks here, JAX's and PyTorch's in a process each); the tests read their output. The rest
runs in this process.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import run_in_process

import explainer
from explainer.semantics.frameworks import framework_star

ROOT = Path(__file__).parent.parent
TOLERANCE = 1e-5
CASES = [f"{b}_{v}" for b in ("block35", "block17", "block8") for v in ("v1", "v2")]
DEVICE_CHECK = ("import sys, runpy; sys.modules['tensorflow'] = None; "
                "sys.argv = ['device_check.py', '--backends', 'torch', '--devices', 'cpu', "
                "'--size', '3', '--repeats', '1', '--variants', 'v1', '--json']; "
                "runpy.run_path('tools/device_check.py', run_name='__main__')")


def _strict(text: str):
    def refuse(token):
        raise ValueError(f"non-strict JSON token {token}")
    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def processes():
    """The device check in a process of its own, and meanwhile ``backends --json`` run by the
    CLI here: TensorFlow's blocks in this process (Keras runs on it here), JAX's and
    PyTorch's in processes of their own."""
    check = subprocess.Popen([sys.executable, "-c", DEVICE_CHECK], cwd=ROOT,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    done = {"backends": run_in_process(["backends", "--json"])}
    out, err = check.communicate(timeout=600)
    done["device_check"] = (check.returncode, out, err)
    return done


@pytest.fixture(scope="module")
def report(processes):
    code, out, err = processes["backends"]
    assert code == 0, err[-2000:]
    return _strict(out)


def test_backends_json_is_strict_and_every_difference_is_under_a_diff_key(report):
    assert set(report["backends"]) == {"tensorflow", "jax", "torch"}
    for entry in report["backends"].values():
        assert "error" not in entry, entry
        numbers = {k for k, v in entry.items() if isinstance(v, (float, dict)) and k not in
                   ("build_and_run_seconds",) and k != "residual_ratio"}
        assert numbers and all("diff" in k for k in numbers), numbers


@pytest.mark.parametrize("backend", ["tensorflow", "jax", "torch"])
def test_each_backend_equals_tensorflow_and_numpy(report, backend):
    entry = report["backends"][backend]
    assert entry["version"].startswith(backend) and entry["device"] in ("/CPU:0", "cpu:0")
    assert sorted(entry["diff_vs_numpy"]) == sorted(CASES)
    assert max(entry["diff_vs_numpy"].values()) <= TOLERANCE
    assert max(entry["diff_vs_tensorflow"].values()) <= TOLERANCE
    assert entry["max_diff_vs_tensorflow"] == max(entry["diff_vs_tensorflow"].values())


def test_each_backend_answers_with_the_same_numbers_in_its_own_words(report):
    answers = {b: e["answer"] for b, e in report["backends"].items()}
    tf, jax, torch = answers["tensorflow"], answers["jax"], answers["torch"]
    assert tf[0] == jax[0] == torch[0]  # up's shape and widths
    ratios = [report["backends"][b]["residual_ratio"] for b in ("tensorflow", "jax", "torch")]
    assert max(ratios) - min(ratios) < 1e-5
    assert "tf.Tensor.__rmul__" in tf[1] and "`Mul` op" in tf[1]
    assert "jax.Array.__rmul__" in jax[1] and "`mul` primitive in the jaxpr" in jax[1]
    assert "torch.Tensor.__rmul__" in torch[1] and "`aten::mul`" in torch[1]
    assert "rebinds" in jax[3] and "immutable" in jax[3]
    assert "in place" in torch[3] and "modified by an inplace operation" in torch[3]
    assert "out = out * self.scale + x" in torch[3]


def test_device_check_runs_without_tensorflow(processes):
    code, out, err = processes["device_check"]
    assert code == 0, err[-2000:]
    rows = _strict(out)
    assert {r["block"].split()[0] for r in rows} == {"block35", "block17", "block8"}
    for row in rows:
        assert row["backend"] == "torch" and row["device"] == "cpu:0"
        assert row["max_abs_diff"] <= TOLERANCE and row["ms_per_forward"] > 0


@pytest.mark.parametrize("framework,op", [("jax", "mul"), ("torch", "aten::mul")])
def test_star_on_each_framework_is_measured_and_follows_its_input(framework, op):
    a, b = framework_star(framework, 0.17), framework_star(framework, 0.5)
    assert a.mul_returns_notimplemented and a.rmul_matches_operator and a.mul_ops == [op]
    assert a.grad_values == [0.0, pytest.approx(0.17)] and a.grad_max_diff == 0.0
    assert b.grad_values == [0.0, 0.5] and str(a) != str(b)
    if framework == "jax":
        assert not a.has_iadd and not a.iadd_same_object and not a.alias_changed
        assert "JAX arrays are immutable" in a.inplace_error
        assert a.tail_ops == ["mul", "add", "max"] and "mul 0.17" in a.program
    else:
        assert a.has_iadd and a.iadd_same_object and a.iadd_same_storage and a.alias_changed
        assert "modified by an inplace operation" in a.inplace_error
        assert a.tail_ops == ["aten::mul", "aten::add", "aten::relu"]


def test_star_backend_cli_prints_what_ran():
    code, out, _ = run_in_process(["star", "--backend", "torch", "--scale", "0.3", "--json"])
    doc = _strict(out)
    assert code == 0 and doc["scale"] == 0.3 and doc["grad_values"][-1] == pytest.approx(0.3)
    code, text, _ = run_in_process(["star", "--backend", "jax"])
    assert code == 0 and "jax.Array.__rmul__" in text and "mul 0.17" in text
    code, _, err = run_in_process(["star", "--backend", "mxnet"])
    assert code == 2 and err.count("\n") == 1 and "'mxnet'" in err


def test_bad_framework_and_shapes_are_named():
    with pytest.raises(ValueError, match="framework: got 'mxnet' .*; expected one of 'jax', "
                                         "'torch'"):
        framework_star("mxnet")
    with pytest.raises(ValueError, match=r"net, up: got shapes \(1, 1, 1, 2\) and "
                                         r"\(1, 1, 1, 3\)"):
        framework_star("torch", 0.17, [[[[1.0, 2.0]]]], [[[[1.0, 2.0, 3.0]]]])
    with pytest.raises(ValueError, match=r"net: got shape \(2,\); expected a float array of "
                                         r"shape \(N, H, W, C\)"):
        framework_star("torch", 0.17, [1.0, 2.0], [1.0, 2.0, 3.0])


def test_answer_backend_argv_round_trips():
    from explainer.cli import build_parser
    from explainer.cli.commands.answer import _argv

    parser = build_parser()
    args = parser.parse_args(["--backend", "jax", "--scale", "0.3", "--size", "9", "--json",
                              "--activation", "none"])
    again = parser.parse_args(_argv(args))
    assert vars(again) == vars(args)


@pytest.mark.parametrize("name,call", [
    ("block_ops", lambda: explainer.block_ops()),
    ("to_onnx", lambda: explainer.ports.to_onnx(None, "never_written.onnx")),
    ("keras_apps_block", lambda: explainer.ports.keras_apps_block(None, 1)),
    ("train_trunk", lambda: explainer.train_trunk(16, 3, 0.1, 0.1, 1))])
def test_tensorflow_only_work_says_so_in_one_sentence(monkeypatch, name, call):
    # tracing binds its `tf` when first imported (the backend is fixed per process): imported
    # under the patch it would keep None for every later test of this worker
    import explainer.core.tracing  # noqa: F401

    monkeypatch.setattr("explainer.core.backend.keras_backend", lambda: "jax")
    with pytest.raises(explainer.TensorFlowOnlyError,
                       match=rf"^{name} .* needs Keras' TensorFlow backend; .*'jax'") as err:
        call()
    assert "\n" not in str(err.value) and str(err.value).count("; ") == 1


def test_timm_block35_holds_our_v2_weights():
    code, out, err = run_in_process(["port", "--to", "timm", "--json"])
    assert code == 0, err
    doc = _strict(out)
    assert doc["max_abs_diff"]["net_out"] <= TOLERANCE
    assert doc["timm_class"] == "timm.models.inception_resnet_v2.Block35"
    assert doc["timm_line"] == "out = out * self.scale + x" and doc["batchnorm_eps"] == [0.001]
    code, _, err = run_in_process(["port", "--to", "timm", "--variant", "v1"])
    assert code == 2 and "expected 'v2'" in err
