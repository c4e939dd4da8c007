"""The suite's own xdist scheduling (tests/xdist_groups.py): a group's tests run on one worker,
so a session fixture of the group starts once; every other test is scheduled alone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from notebook_runs import NOTEBOOKS, RUNS_ENV, report_path
from xdist_groups import GROUP_OF_FILE, XDIST_GROUPS, GroupScheduling, group_of

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
import sys
sys.path.insert(0, {str(HERE)!r})
from xdist_groups import pytest_xdist_make_scheduler  # noqa: F401 - the suite's hook
import os, pytest

@pytest.fixture(scope="session")
def started():  # one start per worker that runs a test of the group
    with open("starts.txt", "a") as f:
        f.write(os.environ["PYTEST_XDIST_WORKER"] + "\\n")
'''


def test_every_grouped_file_exists_and_groups_are_named_by_file():
    for name in GROUP_OF_FILE:
        assert list(HERE.rglob(name)), f"{name} is grouped but does not exist"
    assert group_of("tests/browser/test_static_html.py::test_x[a::b]") == "static-site"
    assert group_of("tests/test_cli.py::test_x[1]") == "tests/test_cli.py::test_x[1]"
    assert len(GROUP_OF_FILE) == sum(map(len, XDIST_GROUPS.values()))  # no file in two groups


def test_a_group_runs_on_one_worker_and_loose_tests_spread(tmp_path):
    first, second = XDIST_GROUPS["classroom-pools"][:2]
    (tmp_path / first).write_text(GROUPED_TESTS)
    (tmp_path / second).write_text(GROUPED_TESTS)
    (tmp_path / "test_loose.py").write_text(LOOSE_TESTS)
    (tmp_path / "conftest.py").write_text(CONFTEST)
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-n", "2", "-p",
                          "no:cacheprovider", "--rootdir", str(tmp_path), str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    ran = (tmp_path / "ran.txt").read_text().split("\n")[:-1]
    assert len(ran) == 12 and len({line.split()[0] for line in ran}) == 1, ran
    assert len((tmp_path / "starts.txt").read_text().split()) == 1  # the fixture ran once
    assert len(set((tmp_path / "loose.txt").read_text().split())) == 2  # both workers worked


class _Worker:
    """Stands in for a pytest-xdist worker controller: records the tests it is sent."""

    shutting_down = False

    def __init__(self, order: list):
        self.order = order

    def send_runtest_some(self, indexes):
        self.order.extend(indexes)

    def shutdown(self):
        self.shutting_down = True


@pytest.mark.parametrize("reported", [False, True])
def test_notebook_readers_move_up_once_every_notebook_has_its_report(
        tmp_path, monkeypatch, reported):
    if reported:
        for path in NOTEBOOKS:
            report_path(tmp_path, path).write_text("{}")
    monkeypatch.setenv(RUNS_ENV, str(tmp_path))
    loose = [f"tests/test_cli.py::test_{i}" for i in range(8)]
    readers = ["tests/browser/test_static_html.py::test_site", "tests/test_lessons.py::test_1"]
    collection = loose + readers  # conftest.py collects the readers last
    config = SimpleNamespace(getvalue=lambda name: ["1*popen"] if name == "tx" else "load",
                             option=SimpleNamespace(loadscopereorder=True))
    scheduler, order = GroupScheduling(config), []
    worker = _Worker(order)
    scheduler.add_node(worker)
    scheduler.add_node_collection(worker, collection)
    scheduler.schedule()
    while scheduler.workqueue:
        for index in list(order):  # the worker runs what it was sent, asks for more
            scheduler.mark_test_complete(worker, index)
    sent = [collection[i] for i in dict.fromkeys(order)]
    assert sorted(sent) == sorted(collection)
    assert sent[:2] == (readers if reported else loose[:2]), sent
    assert sent[-2:] == (loose[-2:] if reported else readers), sent
