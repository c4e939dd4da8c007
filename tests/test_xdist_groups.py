"""The suite's scheduling, on public pytest-xdist features only: ``--dist loadgroup`` with the
``xdist_group`` marks conftest.py gives each grouped file's tests. A group's tests run on one
worker, so a session fixture of the group starts once; every other test is scheduled alone.
And a notebook run whose process ended fails its readers at once, not after a long wait."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest
from notebook_runs import NotebookRuns, report_path
from xdist_groups import GROUP_OF_FILE, XDIST_GROUPS

HERE = Path(__file__).parent

GROUPED_TESTS = '''
import os, pytest

@pytest.mark.parametrize("i", range(6))
def test_shares(started, i):
    with open("ran.txt", "a") as f:
        f.write(f"{os.environ['PYTEST_XDIST_WORKER']} {__name__} {i}\\n")
'''
LOOSE_TESTS = '''
import os, time, pytest

@pytest.mark.parametrize("i", range(12))
def test_alone(i):
    time.sleep(0.05)
    with open("loose.txt", "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''
CONFTEST = f'''
import os, sys, pytest
sys.path.insert(0, {str(HERE)!r})
from xdist_groups import mark_groups

@pytest.hookimpl(tryfirst=True)  # as tests/conftest.py: before pytest-xdist's own hook
def pytest_collection_modifyitems(items):
    mark_groups(items)

@pytest.fixture(scope="session")
def started():  # one start per worker that runs a test of the group
    with open("starts.txt", "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''


def test_every_grouped_file_exists_once():
    for name in GROUP_OF_FILE:
        assert list(HERE.rglob(name)), f"{name} is grouped but does not exist"
    assert len(GROUP_OF_FILE) == sum(map(len, XDIST_GROUPS.values()))  # no file in two groups


def test_a_group_runs_on_one_worker_and_loose_tests_spread(tmp_path):
    """Fails in one line if an upgrade of pytest or pytest-xdist stops loadgroup grouping (as
    pytest 9.2 did with pytest-xdist 3.8.0: pytest-xdist issue #1386)."""
    first, second = XDIST_GROUPS["classroom-pools"][:2]
    (tmp_path / first).write_text(GROUPED_TESTS)
    (tmp_path / second).write_text(GROUPED_TESTS)
    (tmp_path / "test_loose.py").write_text(LOOSE_TESTS)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "--dist", "loadgroup",
                          "--no-loadscope-reorder", "-p", "no:cacheprovider", "--rootdir",
                          str(tmp_path), str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    ran = (tmp_path / "ran.txt").read_text().split("\n")[:-1]
    workers = sorted({line.split()[0] for line in ran})
    assert len(ran) == 12 and len(workers) == 1, (
        f"--dist loadgroup ran one group on workers {workers}: this pytest/pytest-xdist pair "
        "ignores xdist_group marks (pytest-xdist issue #1386); pin the pair pyproject.toml names")
    assert len((tmp_path / "starts.txt").read_text().split()) == 1  # the fixture ran once
    assert len(set((tmp_path / "loose.txt").read_text().split())) == 2  # both workers worked


def test_a_run_whose_process_ended_fails_its_reader_at_once(tmp_path):
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    name = "01_what_does_star_do.ipynb"
    (tmp_path / "01_what_does_star_do.claim").write_text(str(ended.pid))
    runs = NotebookRuns(tmp_path, jobs=1)
    start = time.monotonic()
    try:
        with pytest.raises(RuntimeError, match=f"process {ended.pid} claimed the run and ended"):
            runs.get(name)
    finally:
        runs.close()
    assert time.monotonic() - start < 60 and not report_path(tmp_path, name).exists()
