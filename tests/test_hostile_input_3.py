"""Hostile input, round 3 (issue 29), items 8, 9, 12, 13, 16-21: no file of the user's is lost,
no traceback, no silent wrong answer.

The CLI runs in this process (``cli_support.run_in_process``) except where only a process shows
the answer: an environment variable read before Keras loads (KERAS_BACKEND), with TensorFlow
made unimportable so that a clean line proves it came first. ``make fuzz`` runs the output-path
cases at random (tools/fuzz_cli.py).
"""

from __future__ import annotations

import contextlib
import importlib.util
import inspect
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_support import _WITHOUT_TENSORFLOW, run_in_process

import explainer
from explainer.broadcasting.shapes import count_text
from explainer.core.validate import atomic_output, check_output_path, write_atomic

ROOT = Path(__file__).resolve().parent.parent


def _one_line_refusal(code: int, out: str, err: str, *fragments: str) -> None:
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in out + err, (code, err)
    for fragment in fragments:
        assert fragment in err, (fragment, err)


def _tool(name: str):
    """tools/NAME.py as a module (the tools folder is not a package)."""
    spec = importlib.util.spec_from_file_location(f"tool_{name}", ROOT / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# 8. device_check --bundle: never into the checkout, a non-empty folder only with --force ----

@pytest.fixture(scope="module")
def device_check():
    return _tool("device_check")


@pytest.mark.parametrize("where", ["checkout", "its explainer", "in its explainer", "not empty",
                                   "symlink", "a file"])
def test_bundle_refuses_in_one_line(tmp_path, capsys, device_check, where):
    full = tmp_path / "full"
    full.mkdir()
    (full / "thesis.pdf").write_bytes(b"mine")
    (tmp_path / "link").symlink_to(full)
    folder = {"checkout": ROOT, "its explainer": ROOT / "explainer",
              "in its explainer": ROOT / "explainer" / "core", "not empty": full,
              "symlink": tmp_path / "link", "a file": full / "thesis.pdf"}[where]
    before = sorted(os.listdir(ROOT)), sorted(os.listdir(full))
    code = device_check.main(["--bundle", str(folder)])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and err.startswith("device_check: error: bundle:")
    assert (sorted(os.listdir(ROOT)), sorted(os.listdir(full))) == before
    assert (full / "thesis.pdf").read_bytes() == b"mine"


def test_bundle_dot_is_one_line(device_check):
    done = subprocess.run([sys.executable, "tools/device_check.py", "--bundle", "."], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-500:]
    assert "this checkout" in done.stderr and "shutil" not in done.stderr


def test_bundle_force_replaces_only_its_own_and_follows_no_link(tmp_path, device_check):
    folder, outside = tmp_path / "bundle", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    (outside / "keep.txt").write_text("kept")
    (folder / "notes.txt").write_text("mine")
    (folder / "tools").symlink_to(outside)  # a link where the bundle writes tools/
    assert device_check.bundle_refusal(folder, force=False) is not None
    assert device_check.bundle_refusal(folder, force=True) is None
    assert device_check.bundle_refusal(tmp_path / "new", force=False) is None
    for name in device_check.BUNDLED:
        device_check._clear(folder / name)
    assert not os.path.lexists(folder / "tools") and (outside / "keep.txt").read_text() == "kept"
    assert (folder / "notes.txt").read_text() == "mine"


# 9. outputs: never through a symlink, never over a read-only file, an existing one only with
#    --force; a new file gets the umask's mode ---------------------------------------------

@pytest.fixture
def user_files(tmp_path):
    """A folder with the user's files and links to them."""
    (tmp_path / "thesis.pdf").write_bytes(b"thesis")
    (tmp_path / "notes.txt").write_bytes(b"notes")
    (tmp_path / "model.onnx").write_bytes(b"model")
    (tmp_path / "plot.png").symlink_to(tmp_path / "thesis.pdf")
    (tmp_path / "notes.png").symlink_to(tmp_path / "notes.txt")  # item 20: .png -> .txt
    (tmp_path / "same.onnx").symlink_to(tmp_path / "model.onnx")
    (tmp_path / "dangling.png").symlink_to(tmp_path / "nothing.png")
    (tmp_path / "ro.png").write_bytes(b"read-only")
    (tmp_path / "ro.png").chmod(0o444)
    (tmp_path / "old.png").write_bytes(b"old")
    return tmp_path


def _unchanged(folder: Path) -> None:
    assert (folder / "thesis.pdf").read_bytes() == b"thesis"
    assert (folder / "notes.txt").read_bytes() == b"notes"
    assert (folder / "model.onnx").read_bytes() == b"model"
    assert (folder / "ro.png").read_bytes() == b"read-only"
    assert not os.path.exists(folder / "nothing.png")
    assert all((folder / n).is_symlink() for n in ("plot.png", "notes.png", "same.onnx"))
    assert not [n for n in os.listdir(folder) if n.startswith(".")]  # no temporary left


@pytest.mark.parametrize(("name", "suffix", "why"), [
    ("plot.png", None, "symlink"), ("notes.png", None, "symlink"),
    ("same.onnx", ".onnx", "symlink"), ("dangling.png", None, "symlink"),
    ("ro.png", None, "read-only")])
def test_check_output_path_refuses_links_and_read_only(user_files, name, suffix, why):
    for replace in (True, False):
        with pytest.raises(ValueError, match=f"^out: got .*cannot be written \\(it is (a )?{why}"):
            check_output_path("out", user_files / name, suffix, replace=replace)
    _unchanged(user_files)


def test_existing_file_replaced_only_when_named_replaceable(user_files):
    with pytest.raises(ValueError, match="which exists; expected a new file name, or --force"):
        check_output_path("plot", user_files / "old.png", replace=False)
    with pytest.raises(ValueError, match="which exists"):
        write_atomic("plot", user_files / "old.png", b"new", replace=False)
    assert (user_files / "old.png").read_bytes() == b"old"
    assert check_output_path("plot", user_files / "old.png") == user_files / "old.png"


def test_a_file_that_appears_while_writing_is_not_replaced(user_files):
    target = user_files / "late.png"
    with pytest.raises(ValueError, match="appeared while it was written"):
        with atomic_output("plot", target, replace=False) as tmp:
            tmp.write_bytes(b"figure")
            target.write_bytes(b"the user's")  # another process, meanwhile
    assert target.read_bytes() == b"the user's"
    late_link = user_files / "late_link.png"
    with pytest.raises(ValueError, match="no longer a regular file"):
        with atomic_output("plot", late_link) as tmp:
            tmp.write_bytes(b"figure")
            late_link.symlink_to(user_files / "thesis.pdf")
    _unchanged(user_files)


def test_new_files_follow_the_umask_and_replaced_ones_keep_their_mode(tmp_path):
    old = os.umask(0o027)
    try:
        write_atomic("out", tmp_path / "new.json", "{}", replace=False)
        (tmp_path / "kept.json").write_text("old")
        (tmp_path / "kept.json").chmod(0o600)
        write_atomic("out", tmp_path / "kept.json", "{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "new.json").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "kept.json").st_mode) == 0o600
    assert (tmp_path / "kept.json").read_text() == "{}"


LINK, READ_ONLY, EXISTS = "it is a symlink to", "(it is read-only)", "which exists; expected a new"


@pytest.mark.parametrize(("argv", "why"), [
    (["scale", "--size", "2", "--plot", "plot.png"], LINK),
    (["scale", "--size", "2", "--plot", "notes.png"], LINK),
    (["scale", "--size", "2", "--plot", "dangling.png", "--force"], LINK),
    (["scale", "--size", "2", "--plot", "ro.png", "--force"], READ_ONLY),
    (["scale", "--size", "2", "--plot", "old.png"], EXISTS),
    (["port", "--to", "onnx", "--out", "same.onnx"], LINK),
    (["port", "--to", "onnx", "--out", "same.onnx", "--force"], LINK),
    (["port", "--to", "onnx", "--out", "model.onnx"], EXISTS)],
    ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_cli_writers_refuse_before_any_work(user_files, argv, why):
    argv = [str(user_files / a) if a.endswith((".png", ".onnx")) else a for a in argv]
    code, out, err = run_in_process(argv)
    _one_line_refusal(code, out, err, why)
    _unchanged(user_files)
    assert (user_files / "old.png").read_bytes() == b"old"


def test_cli_plot_replaces_with_force_keeping_the_mode(user_files):
    (user_files / "old.png").chmod(0o640)
    code, out, err = run_in_process(["scale", "--size", "2", "--scales", "0,1", "--plot",
                                     str(user_files / "old.png"), "--force", "--json"])
    assert code == 0 and json.loads(out)["plot"].endswith("old.png"), err
    assert (user_files / "old.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert stat.S_IMODE(os.stat(user_files / "old.png").st_mode) == 0o640
    _unchanged(user_files)


def test_fuzz_puts_back_and_reports_a_changed_file(tmp_path):
    fuzz = _tool("fuzz_cli")
    paths = fuzz._paths(tmp_path)
    assert fuzz.changed_files(tmp_path) == []
    Path(paths["thesis.pdf"]).write_bytes(b"overwritten")
    os.unlink(paths["link_txt.png"])
    Path(paths["link_txt.png"]).write_bytes(b"a figure")
    assert fuzz.changed_files(tmp_path) == ["thesis.pdf", "link_txt.png (now a file)"]
    assert fuzz.changed_files(tmp_path) == []  # put back


# 12. element counts past 1e308 are written without a float -----------------------------------

def test_count_text_matches_float_formatting_and_goes_past_it():
    for n in (0, 7, 999, 1234, 2**63, 10**15, 123456789 * 10**290):
        assert count_text(n) == f"{n:.3g}", n
    assert count_text(999999999999999999**19) == "1e+342"
    assert count_text(10**5000 - 1) == "9.99e+4999" and count_text(-3 * 10**400) == "-3e+400"


def test_broadcast_of_19_huge_axes_is_one_line_not_an_overflow():
    shape = "(N," + "N," * 17 + "N)"
    code, out, err = run_in_process(["broadcast", shape, "()", "--dims",
                                     "N=999999999999999999"])
    _one_line_refusal(code, out, err, "spans 1e+342 elements", "at most 9223372036854775807")
    with pytest.raises(ValueError, match=r"spans 1e\+342 elements"):
        explainer.explain_broadcast_numpy(shape, "()", N=999999999999999999)


# 13. the answer at scales near float32's limit: a readable table, undefined said so ---------

@pytest.mark.parametrize("argv", [["--scale", "1e38"], ["--scale", "3e38"],
                                  ["--scale=-3e38", "--activation", "none"],
                                  ["--scale", "3.4e38"], ["--scale", "1e20"]], ids=" ".join)
def test_answer_near_float32_max_is_readable(argv):
    code, out, err = run_in_process([*argv, "--size", "2"])
    assert code == 0 and "error" not in err and "Traceback" not in err, err
    table = out[out.index("name          scope"):out.index("\nresidual ratio")]
    lines = table.splitlines()
    width = len(lines[0])
    assert all(len(line) <= width for line in lines[2:14]), table
    assert "nan" not in table.lower() and "NoneType" not in err
    ratio = out.split("residual ratio ||scale*up|| / ||net|| = ")[1].splitlines()[0]
    assert ratio.startswith("undefined") or len(ratio) <= 12, ratio
    if "3.4e38" in argv:  # scale * up overflows float32: inf, and mean / std undefined
        assert "undef" in table and "inf" in table and ratio.startswith("undefined")


# 16, 19. KERAS_BACKEND: one line naming it, before Keras or TensorFlow load ---------------

@pytest.mark.parametrize("value", ["openvino", "bogus", "numpy"])
def test_unsupported_keras_backend_is_one_line(value, tmp_path):
    env = {**os.environ, "KERAS_BACKEND": value}
    for argv in (["--size", "2"], ["star"]):
        done = subprocess.run([sys.executable, "-c", _WITHOUT_TENSORFLOW, *argv], env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-800:]
        assert done.stderr.startswith(f"python -m explainer: error: KERAS_BACKEND: got "
                                      f"'{value}'; expected one of 'tensorflow', 'jax', 'torch'")


def test_keras_json_backend_is_named(tmp_path):
    (tmp_path / "keras.json").write_text(json.dumps({"backend": "bogus"}))
    env = {k: v for k, v in os.environ.items() if k != "KERAS_BACKEND"}
    env["KERAS_HOME"] = str(tmp_path)
    done = subprocess.run([sys.executable, "-c", _WITHOUT_TENSORFLOW, "star"], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr[-800:]
    assert "keras.json': got 'bogus'; expected one of" in done.stderr


# 17. the public API: one sentence naming the argument, no library's raw error ---------------

class OddFloat(float):
    def __mul__(self, other):
        return "odd"


class OddInt(int):
    def __int__(self):
        raise TypeError("no int")

    def __index__(self):
        raise TypeError("no index")


def test_api_odd_arguments_are_named():
    import tensorflow as tf

    from explainer.semantics.frameworks import framework_star
    from explainer.semantics.graph import last_line_ops
    from explainer.semantics.operators import dispatch

    up = tf.ones((1, 2, 2, 3))
    with pytest.raises(TypeError, match=r"^scale: got 0\.17 \(OddFloat\), whose `scale \* up` "
                                        r"returned str 'odd', not a tensor"):
        dispatch(OddFloat(0.17), up)
    with pytest.raises(TypeError, match=r"^scale: got 2 \(OddInt\); .*tf\.function"):
        dispatch(OddInt(2), up)
    assert dispatch(2, up).graph_op == "Mul"  # a plain int still explained
    objects = np.array([object()] * 4, dtype=object)
    for framework in ("jax", "torch"):
        with pytest.raises(TypeError, match="^net: got an array of dtype object; expected"):
            framework_star(framework, net=objects, up=objects)
    with pytest.raises(ValueError, match=r"^up: got shape \(4,\); expected"):
        framework_star("jax", net=np.zeros((1, 1, 1, 4)), up=np.zeros(4))
    with pytest.raises(ValueError, match=r"^shape: got .* spans 2\.13e\+37 elements; expected "
                                         r"at most 2\*\*63 - 1"):
        last_line_ops(shape=(2**62, 2**62))


# 18. '--' as an option's value: refused for every option of every command --------------------

def _value_options() -> list[list[str]]:
    from explainer.cli import build_parser

    parser = build_parser()
    commands = {"": parser, **next(a for a in parser._actions
                                   if a.__class__.__name__ == "_SubParsersAction").choices}
    found = []
    for name, sub in commands.items():
        for action in sub._actions:
            if action.option_strings and action.nargs != 0 and action.dest != "help":
                found.append([name, action.option_strings[-1]] if name else
                             [action.option_strings[-1]])
    return found


def _no_training(*_, **__):
    raise AssertionError("a command got past its arguments and started its work")


@pytest.mark.parametrize("option", _value_options(), ids=" ".join)
def test_dashes_as_a_value_are_one_line(option, tmp_path, monkeypatch):
    # if a '--' got through, nothing may run: why-scale's default --out is results/ under the
    # working folder, and its grid trains for hours
    import explainer.cli.commands.why_scale as why_scale_command
    from explainer.scaling.why_scale import experiment

    monkeypatch.chdir(tmp_path)
    for module in (experiment, why_scale_command):
        if hasattr(module, "run_grid"):
            monkeypatch.setattr(module, "run_grid", _no_training)
    argv = [*option[:-1], f"{option[-1]}=--"]
    if option[0] == "broadcast":
        argv += ["(2,)", "(2,)"]
    code, out, err = run_in_process(argv)
    _one_line_refusal(code, out, err, f"argument {option[-1]}: got '--'")


# 19. 000...1 is 1; the largest budget is accepted -------------------------------------------

def test_whole_numbers_with_leading_zeros():
    from explainer.cli import build_parser

    parser = build_parser()
    one = "0" * 31 + "1"
    args = parser.parse_args(["--batch", one, "--size", "0" * 5000 + "2", "--seed", "٠" * 40])
    assert (args.batch, args.size, args.seed) == (1, 2, 0)
    code, out, err = run_in_process(["--batch", "1" + "0" * 31])
    _one_line_refusal(code, out, err, "too large")
    code, out, err = run_in_process(["--seed", "-" + "9" * 5000])
    _one_line_refusal(code, out, err, "expected a whole number >= 0")


def test_largest_memory_budget(monkeypatch):
    from explainer.core.budget import MAX_BUDGET, memory_budget

    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", str(MAX_BUDGET))
    assert memory_budget() == MAX_BUDGET == 2**63 - 1
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", str(MAX_BUDGET + 1))
    with pytest.raises(ValueError, match="too large; expected at most 9223372036854775807"):
        memory_budget()
    monkeypatch.setenv("EXPLAINER_MEMORY_BUDGET", "1.5K")
    assert memory_budget() == 1536


# 20. a plot whose curves leave float32 is one line, and no file --------------------------

def test_plot_past_float32_is_one_line(tmp_path):
    png = tmp_path / "x.png"
    code, out, err = run_in_process(["scale", "--scales=-3.4e38,3.4e38", "--size", "2",
                                     "--plot", str(png)])
    _one_line_refusal(code, out, err, "plot: the curves are undefined from scale")
    assert out == "" and os.listdir(tmp_path) == []


# 21. every port's default scale is the block's own -----------------------------------------

REAL = {"block35": 0.17, "block17": 0.10, "block8": 0.20}


def test_real_scales_are_the_nets_own():
    from explainer.core.schedule import REAL_SCALES

    assert REAL_SCALES == REAL


def _with_block_and_scale():
    import explainer.ports as ports

    found = {}
    for module in (explainer, ports):
        for name in dir(module):
            fn = getattr(module, name)
            if callable(fn) and not isinstance(fn, type):
                with contextlib.suppress(TypeError, ValueError):
                    params = inspect.signature(fn).parameters
                    if "scale" in params and "block" in params:
                        found[name] = params
    return found


def test_every_function_with_a_block_defaults_to_its_scale():
    found = _with_block_and_scale()
    assert {"to_dl4j", "dl4j_vertices", "run_slim_block35", "from_slim", "compare_slim",
            "describe_block"} <= set(found)
    wrong = {name: p["scale"].default for name, p in found.items()
             if p["scale"].default is not None}
    assert wrong == {}, f"a fixed default scale beside a block argument: {wrong}"


@pytest.mark.parametrize("block", sorted(REAL))
def test_port_defaults_per_block(block):
    from explainer.core.reference import block_forward
    from explainer.core.spec import describe_block
    from explainer.core.weight_tables import seeded_weights
    from explainer.ports import dl4j_vertices, to_dl4j

    scale = REAL[block]
    java = to_dl4j(block=block)
    assert f"new ScaleVertex({scale!r})" in java and f"net += {scale!r} * up" in java
    assert [v.expression for v in dl4j_vertices(block=block)
            if v.java_class == "ScaleVertex"] == [f"new ScaleVertex({scale!r})"]
    assert f"scale = {scale:g}:" in describe_block(block=block)
    x = explainer.sample_input("v1", size=2, block=block)
    weights = seeded_weights("v1", 0, block)
    np.testing.assert_array_equal(block_forward(x, weights, block=block),
                                  block_forward(x, weights, scale=scale, block=block))


def test_slim_default_is_block8s_own():
    from explainer.ports import from_slim
    from explainer.ports.legacy import run_slim_block35

    x = explainer.sample_input("v1", size=2, block="block8")
    run = run_slim_block35(x, block="block8")
    assert run.scale == pytest.approx(0.2)
    assert from_slim(run.variables, block="block8").residual_spec.scale == pytest.approx(0.2)


def test_cli_port_dl4j_block8_uses_02():
    code, out, err = run_in_process(["port", "--to", "dl4j", "--block", "block8", "--json"])
    assert code == 0, err
    assert "new ScaleVertex(0.2)" in json.loads(out)["java"]
