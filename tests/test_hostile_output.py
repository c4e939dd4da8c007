"""Hostile input, round 2 (issue 20), classes 5-7: output paths checked before the work and
written all or nothing, a quiet stderr on success, and messages that name the argument.

The CLI runs in this process (``cli_support.run_in_process``) except where a real file
descriptor matters (stdout on /dev/full).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings

import pytest
from cli_support import run_in_process
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import explainer
from explainer.core.validate import atomic_output, check_output_path, write_atomic

FAST = settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck),
                phases=[Phase.explicit, Phase.generate])
KINDS = ("directory", "directory/", "fifo", "/dev/full", "/dev/null", "symlink to /dev/full",
         "/proc", "/sys", "long name", "missing folder")


def _bad_path(folder, kind: str, suffix: str) -> str:
    """A path of ``kind`` under ``folder`` (created as needed) that no writer may write."""
    made = {"directory": lambda p: os.mkdir(p), "directory/": lambda p: os.mkdir(p),
            "fifo": lambda p: os.mkfifo(p),
            "symlink to /dev/full": lambda p: os.symlink("/dev/full", p)}
    fixed = {"/dev/full": "/dev/full", "/dev/null": "/dev/null",
             "/proc": f"/proc/self/x{suffix}", "/sys": f"/sys/x{suffix}",
             "long name": str(folder / ("n" * 300 + suffix)),
             "missing folder": str(folder / "no" / "such" / f"x{suffix}")}
    if kind in fixed:
        return fixed[kind]
    path = folder / f"{kind.split()[0].strip('/')}{suffix}"
    if not os.path.lexists(path):
        made[kind](path)
    return str(path) + ("/" if kind.endswith("/") else "")


# 5. output paths: refused before the work, with one line; a failed write leaves nothing -----

@pytest.mark.parametrize("kind", KINDS)
def test_check_output_path_refuses(tmp_path, kind):
    path = _bad_path(tmp_path, kind, ".onnx")
    with pytest.raises(ValueError, match=r"^out: got .*cannot be written \(.*\); expected a "
                                         "regular file in a writable folder$"):
        check_output_path("out", path, suffix=".onnx")


def test_check_output_path_accepts_and_resolves(tmp_path):
    assert check_output_path("out", tmp_path / "a.onnx", ".onnx") == (tmp_path / "a.onnx")
    (tmp_path / "old.png").write_bytes(b"x")
    assert check_output_path("plot", str(tmp_path / "old.png")).name == "old.png"
    with pytest.raises(ValueError, match="ending in .onnx"):
        check_output_path("out", tmp_path / "a.png", ".onnx")
    with pytest.raises(TypeError, match="out: got 3 \\(int\\)"):
        check_output_path("out", 3)


WRITERS = {"port --to onnx --out": (["port", "--to", "onnx", "--out"], ".onnx"),
           "scale --plot": (["scale", "--size", "3", "--plot"], ".png")}


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_cli_writers_refuse_bad_paths_first(tmp_path, writer):
    argv, suffix = WRITERS[writer]

    @FAST
    @given(st.sampled_from(KINDS))
    def check(kind):
        path = _bad_path(tmp_path, kind, suffix)
        before = sorted(os.listdir(tmp_path))
        start = time.perf_counter()
        code, out, err = run_in_process([*argv, path])
        assert code == 2 and err.count("\n") == 1 and "cannot be written" in err, (kind, err)
        assert time.perf_counter() - start < 5, kind  # before any build, sweep or export
        assert sorted(os.listdir(tmp_path)) == before and "Traceback" not in err + out

    check()


def test_atomic_output_leaves_nothing_on_failure(tmp_path):
    target = tmp_path / "fig.png"
    with pytest.raises(OSError, match=r"^plot: could not write .*fig\.png.*: No space left"):
        with atomic_output("plot", target) as tmp:
            tmp.write_bytes(b"half a fig")
            raise OSError(28, "No space left on device")
    with pytest.raises(KeyboardInterrupt):
        with atomic_output("plot", target) as tmp:
            tmp.write_bytes(b"half a fig")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []
    target.write_bytes(b"old")
    write_atomic("plot", target, b"new")
    assert target.read_bytes() == b"new" and os.listdir(tmp_path) == ["fig.png"]


def test_cli_failed_plot_write_is_one_line_and_no_file(tmp_path, monkeypatch):
    from matplotlib.figure import Figure

    def full_disk(self, path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device", str(path))

    monkeypatch.setattr(Figure, "savefig", full_disk)
    code, out, err = run_in_process(["scale", "--size", "3", "--plot", str(tmp_path / "s.png")])
    assert code == 74 and err.count("\n") == 1 and "No space left" in err, err
    assert os.listdir(tmp_path) == []


def test_onnx_export_failure_leaves_no_partial_file(tmp_path, block_v1, monkeypatch):
    pytest.importorskip("onnxruntime")
    from explainer.ports.onnx_port import to_onnx

    def half_export(path, **kwargs):
        with open(path, "wb") as f:
            f.write(b"partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(block_v1, "export", half_export, raising=False)
    with pytest.raises(OSError, match="^path: could not write"):
        to_onnx(block_v1, tmp_path / "b.onnx")
    assert os.listdir(tmp_path) == []


def test_stdout_on_a_full_disk_is_one_line_exit_74():
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "explainer", "broadcast", "(2,3)", "(3,)",
                              "--json"], stdout=full, stderr=subprocess.PIPE, text=True,
                             timeout=300)
    assert out.returncode == 74 and out.stderr.count("\n") == 1, out.stderr
    assert "could not write stdout" in out.stderr and "Traceback" not in out.stderr


# 6. a success is quiet: no RuntimeWarning at the largest float32 scale ----------------------

@pytest.mark.parametrize("argv", [["star"], ["port", "--to", "torch"], ["port", "--to", "slim"],
                                  ["port", "--to", "onnx", "--out", "OUT"]])
def test_largest_scale_is_quiet(argv, tmp_path):
    if "torch" in argv:
        pytest.importorskip("torch")
    if "onnx" in argv:
        pytest.importorskip("onnxruntime")
    argv = [str(tmp_path / "b.onnx") if a == "OUT" else a for a in argv]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code, out, err = run_in_process([*argv, "--scale", "3.4e38", "--json"])
    assert code == 0 and err == "", err
    assert not [w for w in caught if issubclass(w.category, RuntimeWarning)]


# 7. messages name the argument, show what came (shortened) and what is expected -----------

def _raw_cases():
    return {
        "dispatch_table(None)": (lambda: explainer.dispatch_table(None), "value: got None"),
        "dispatch_table('0.17')": (lambda: explainer.dispatch_table("0.17"), "value: got '0.17'"),
        "last_line_ops(shape=-1)": (lambda: explainer.last_line_ops(shape=-1), "shape: got -1"),
        "block_ops(size=10**400)": (lambda: explainer.block_ops(size=10**400), "size: got 1000"),
        "branch_summary(5)": (lambda: explainer.branch_summary(5), "tr: got 5"),
        "fold_table(5)": (lambda: explainer.fold_table(5), "cases: got 5"),
        "format_catalogue('x')": (lambda: explainer.format_catalogue("x"), "entries: got 'x'"),
        "format_dispatch_table({1: 2})": (lambda: explainer.format_dispatch_table({1: 2}),
                                          r"table\[0\]: got 2"),
        "format_dtype_table([None])": (lambda: explainer.format_dtype_table([None]),
                                       r"rows\[0\]: got None"),
        "set_block_weights(spec='abc')": (lambda: explainer.set_block_weights(
            explainer.build_block35(), {}, spec="abc"), "spec: got 'abc'"),
        "check('x' * 10**7, 1)": (lambda: explainer.exercises.check("x" * 10**7, 1),
                                  "name: got 'xxx"),
    }


def test_a_huge_answer_is_a_short_verdict_not_an_error():
    """A malformed answer is a "Not yet" verdict (issue: a learner saw a traceback), short
    and naming the form expected."""
    for name, answer in (("start_star", "x" * 10**7), ("walk_up_shape", tuple(range(10**6)))):
        verdict = explainer.exercises.check(name, answer)
        assert not verdict and str(verdict).startswith(f"[{name}] Not yet: the answer is ")
        assert len(str(verdict)) < 300 and "expected" in verdict.why, verdict


@pytest.mark.parametrize("case", sorted(_raw_cases()))
def test_library_messages_name_the_argument(case):
    call, start = _raw_cases()[case]
    with pytest.raises((TypeError, ValueError)) as info:
        call()
    text = str(info.value)
    assert __import__("re").match(start, text), text
    assert len(text) < 700 and "expected" in text, text


LINE_OPTIONS = [["--variant"], ["--activation"], ["--device"], ["--size", "2", "--scale"],
                ["scale", "--plot"],
                ["scale", "--size", "2", "--scales"], ["broadcast", "(2,)", "(2,)", "--dims"],
                ["broadcast", "(2,)"], ["port", "--to"], ["port", "--to", "onnx", "--out"]]


@pytest.mark.parametrize("option", LINE_OPTIONS, ids=" ".join)
def test_a_newline_in_an_argument_is_one_line(option):
    @FAST
    @given(st.text(min_size=0, max_size=8), st.sampled_from(["\n", "\r\n", "\r"]),
           st.text(min_size=0, max_size=8))
    def check(head, newline, tail):
        code, out, err = run_in_process([*option, head + newline + tail])
        assert code in (0, 2) and "Traceback" not in err, err  # " 0.5\n" is a number
        assert code == 0 or (err.count("\n") == 1 and "\r" not in err), err

    check()


def test_slider_set_to_nan_shows_the_error_and_springs_back():
    from explainer.classroom.apps import ClassroomScaleExplorer

    app = ClassroomScaleExplorer("v1")
    app.slider.value = 0.3
    app.slider.value = float("nan")
    assert app.slider.value == 0.3 and "not finite" in app.error.value
    app.slider.value = 0.4
    assert app.slider.value == 0.4 and app.error.value == ""
