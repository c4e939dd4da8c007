"""The package as a user installs it: the wheel, alone, in a fresh venv outside the checkout.

Slow (each venv installs TensorFlow from the package index or pip's cache: minutes), so these
run only with ``EXPLAINER_SLOW=1``:

    EXPLAINER_SLOW=1 .venv/bin/python -m pytest -n 0 -s tests/test_wheel.py

The wheel is built as benchmarks/bench_install.py builds it (the checkout's files, then
``pip wheel``). Every command runs in an empty folder, with no PYTHONPATH, so nothing of the
checkout is in reach: what works, works from the wheel.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench_install import build_wheel, fresh_venv, install  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(os.environ.get("EXPLAINER_SLOW") != "1",
                       reason="installs TensorFlow into fresh venvs (minutes): EXPLAINER_SLOW=1"),
]
TEST_TOOLS = ("pytest", "playwright", "ruff", "hypothesis")
LESSONS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
APPS = sorted(p.name for p in (ROOT / "notebooks" / "apps").glob("*.ipynb"))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("dist"))


def _venv(tmp_path_factory, wheel: Path, role: str) -> Path:
    python = fresh_venv(tmp_path_factory.mktemp(f"venv_{role}"))
    seconds = install(python, wheel, role)
    print(f"\n{role}: pip install took {seconds:.0f} s")
    return python


def _run(python: Path, *args: str, cwd: Path, timeout: float = 600,
         check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(TF_CPP_MIN_LOG_LEVEL="3", PYTHONDONTWRITEBYTECODE="1")
    out = subprocess.run([str(python), *args], capture_output=True, text=True, cwd=cwd,
                         env=env, timeout=timeout)
    if check:
        assert out.returncode == 0, f"{' '.join(args)}: exit {out.returncode}\n{out.stderr}"
    return out


def _present(python: Path, modules: tuple[str, ...], cwd: Path) -> list[str]:
    """Which of ``modules`` the venv can import (looked up, not imported)."""
    code = ("import importlib.util, json, sys; "
            "print(json.dumps([m for m in sys.argv[1:] if importlib.util.find_spec(m)]))")
    return json.loads(_run(python, "-c", code, *modules, cwd=cwd).stdout)


@pytest.fixture(scope="module")
def core(tmp_path_factory, wheel) -> Path:
    return _venv(tmp_path_factory, wheel, "core")


def test_the_wheel_carries_the_lessons_and_the_stored_grid(wheel):
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for lesson in LESSONS:
        assert f"explainer/_lessons/{lesson}" in names
    for app in APPS:
        assert f"explainer/_lessons/apps/{app}" in names
    assert "explainer/scaling/results/why_scale.json" in names
    assert not [n for n in names if "__pycache__" in n or n.startswith(("tests/", "notebooks/"))]


def test_the_core_answers_from_the_wheel_alone(core, tmp_path):
    where = _run(core, "-c", "import explainer; print(explainer.__file__)", cwd=tmp_path)
    assert Path(where.stdout.strip()).is_relative_to(core.parent.parent), where.stdout
    assert _present(core, ("jupyterlab", "voila", "torch", "jax", *TEST_TOOLS), tmp_path) == []
    started = time.perf_counter()
    answer = _run(core, "-m", "explainer", cwd=tmp_path)
    print(f"python -m explainer from the wheel: {time.perf_counter() - started:.1f} s")
    here = subprocess.run([sys.executable, "-m", "explainer"], capture_output=True, text=True,
                          cwd=ROOT, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"), check=True)
    assert answer.stdout == here.stdout  # the same answer as the checkout's, number for number


def _packaged(wheel: Path, name: str) -> bytes:
    import zipfile

    return zipfile.ZipFile(wheel).read(name)


def test_why_scale_reads_the_stored_grid_from_the_wheel(core, wheel, tmp_path):
    from explainer.scaling.why_scale.results import results_from_dict

    stored = _run(core, "-c", "import explainer.scaling, pathlib; print(pathlib.Path("
                  "explainer.scaling.__file__).parent / 'results' / 'why_scale.json')",
                  cwd=tmp_path).stdout.strip()
    expected = results_from_dict(json.loads(_packaged(
        wheel, "explainer/scaling/results/why_scale.json"))).conclusion()
    read = _run(core, "-c", "import sys; from explainer import load_why_scale_results; "
                "print(load_why_scale_results(sys.argv[1]).conclusion())", stored, cwd=tmp_path)
    assert read.stdout.strip() == expected.strip()
    # the CLI on it: the stored grid is this code's grid, so nothing trains (a stored file
    # that is not would start training: stopped here, and said)
    try:
        out = _run(core, "-m", "explainer", "why-scale", "--out", stored, "--no-progress",
                   cwd=tmp_path, timeout=300, check=False)
    except subprocess.TimeoutExpired:
        raise AssertionError("why-scale trained instead of reading the wheel's stored grid: "
                             "it is not the code's full grid") from None
    assert out.returncode == 0, out.stderr
    assert expected.strip() in out.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # nothing written here


def test_notebooks_copies_the_lessons_from_the_wheel(core, wheel, tmp_path):
    out = _run(core, "-m", "explainer", "notebooks", "lessons", cwd=tmp_path)
    assert out.stdout.startswith("copied 7 lessons and 2 apps to lessons")
    for name in [*LESSONS, *(f"apps/{app}" for app in APPS)]:
        assert (tmp_path / "lessons" / name).read_bytes() == \
            _packaged(wheel, f"explainer/_lessons/{name}"), name


def test_the_classroom_role_serves_the_apps_without_the_test_tools(tmp_path_factory, wheel,
                                                                    tmp_path):
    import socket
    import urllib.request

    python = _venv(tmp_path_factory, wheel, "classroom")
    assert _present(python, TEST_TOOLS, tmp_path) == []
    # every module of the classroom and the page build imports (their servers and tools)
    code = ("import importlib, pkgutil, explainer.classroom as c, explainer.site as s\n"
            "for pkg in (c, s):\n"
            "    for m in pkgutil.iter_modules(pkg.__path__, pkg.__name__ + '.'):\n"
            "        importlib.import_module(m.name)\n"
            "print('ok')")
    assert _run(python, "-c", code, cwd=tmp_path).stdout == "ok\n"
    _run(python, "-m", "explainer", "notebooks", "lessons", cwd=tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    voila = subprocess.Popen([str(python.parent / "voila"), "lessons/apps", "--no-browser",
                              f"--port={port}", "--Voila.ip=127.0.0.1"], cwd=tmp_path,
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/voila/render/broadcast_playground.ipynb"
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(url, timeout=120) as page:
                    body = page.read().decode()
                break
            except OSError:
                assert voila.poll() is None and time.monotonic() < deadline, "voila did not serve"
                time.sleep(1)
        assert "Broadcasting: which shapes can be multiplied?" in body
        assert "Traceback" not in body and "Error" not in body.split("<body")[-1][:2000]
    finally:
        voila.terminate()
        voila.wait(timeout=30)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, wheel) -> Path:
    return _venv(tmp_path_factory, wheel, "lab")


def test_the_lab_role_has_jupyterlab_and_no_test_tools(lab, tmp_path):
    assert _present(lab, ("jupyterlab", "ipykernel", "torch", "jax", *TEST_TOOLS), tmp_path) \
        == ["jupyterlab", "ipykernel"]


def _skip_lines(python: Path, cwd: Path) -> list[str | None]:
    """The line each framework extra's sections print instead when it is absent, as the venv's
    own explainer.core.backend.missing_extra gives it (None: installed)."""
    code = ("import json; from explainer.core.backend import EXTRAS, missing_extra; "
            "print(json.dumps([missing_extra(extra) for extra in EXTRAS]))")
    return json.loads(_run(python, "-c", code, cwd=cwd).stdout)


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_lab_role_runs_every_lesson(lab, tmp_path, lesson):
    """Every lesson runs without torch, jax, timm and onnx; each cell that asks missing_extra
    prints, for what it skips, that one line and no other skip line."""
    import nbformat

    skip_lines = _skip_lines(lab, tmp_path)
    assert None not in skip_lines, skip_lines  # [lab] brings none of the framework extras
    _run(lab, "-m", "explainer", "notebooks", "lessons", cwd=tmp_path)
    code = ("import sys, nbformat, nbclient\n"
            "nb = nbformat.read(sys.argv[1], as_version=4)\n"
            "nbclient.NotebookClient(nb, timeout=600, kernel_name='python3',\n"
            "                        resources={'metadata': {'path': 'lessons'}}).execute()\n"
            "nbformat.write(nb, sys.argv[2])")
    started = time.perf_counter()
    out = _run(lab, "-c", code, f"lessons/{lesson}", "executed.ipynb", cwd=tmp_path,
               timeout=900, check=False)
    print(f"{lesson}: {time.perf_counter() - started:.0f} s in the [lab] venv")
    assert out.returncode == 0, out.stderr[-3000:]
    executed = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    for cell in (c for c in executed.cells if c.cell_type == "code"):
        printed = "".join(o.get("text", "") for o in cell.outputs
                          if o.output_type == "stream" and o.name == "stdout").splitlines()
        skipped = [line for line in printed if line.startswith("skipped")]
        where = f"{lesson} cell {cell.id}: printed {skipped}"
        assert all(line in skip_lines for line in skipped), where  # missing_extra's own line
        assert len(set(skipped)) == len(skipped), where  # once per extra
        # a cell skips (some of) its section exactly when it asks which extras are missing
        assert bool(skipped) == ("missing_extra(" in cell.source), where
