"""Which tests share a pytest-xdist worker, and the scheduler that keeps them together.

``make test`` runs two workers. The tests of one group run on one worker, one after another:
tests that start classroom pools (never two Voila pools at once on 2 cores, nor two writers of
the shared frame cache), and tests that share a session's server, site or processes (so each
worker does not start its own). Every other test is a work unit of its own.

Why not ``--dist loadgroup`` and ``@pytest.mark.xdist_group``: pytest-xdist 3.8.0 groups by
rewriting ``item._nodeid`` on the worker, and pytest 9.2 no longer reads that field, so every
test was scheduled alone and each worker started its own servers and processes
(pytest-xdist issue #1386, open). The controller sees only node ids, so the groups are named
by file here, and :class:`GroupScheduling` reads them from the node id.

The tests that read executed notebooks (:data:`NOTEBOOK_READERS`) are collected last, and the
notebooks run in the background meanwhile (``notebook_runs.py``). Once every notebook has its
report, the scheduler hands those tests out next, ahead of the tests still queued, so the static
site's checks (a long unit) run beside other tests instead of alone at the end.
"""

from __future__ import annotations

import os

import pytest
from xdist.scheduler.loadscope import LoadScopeScheduling

XDIST_GROUPS = {
    "classroom-pools": ("test_classroom_apps.py", "test_classroom_server.py",
                        "test_classroom.py", "test_classroom_files.py",
                        "test_classroom_guards.py"),
    # the static site of the executed lessons (one unit, handed out once every notebook has
    # its report: see GroupScheduling), and the apps' pages on their static server (one unit)
    "static-site": ("test_static_html.py",),
    "app-pages": ("test_classroom_pages.py", "test_site_exercises.py", "test_site_apps.py"),
    "notebook-servers": ("test_scale_slider.py", "test_broadcast_playground.py",
                         "test_servers.py"),
    "backends": ("test_backends.py",),
    "keras-applications": ("test_keras_applications.py",),  # one InceptionResNetV2 build
    "fresh-process": ("test_fresh_process.py",),  # one new Python process
}
GROUP_OF_FILE = {name: group for group, names in XDIST_GROUPS.items() for name in names}
# the files of the tests that use the ``notebook_runs`` fixture (conftest.py checks the list)
NOTEBOOK_READERS = ("test_static_html.py", "test_notebooks.py", "test_lessons.py")


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0].rsplit("/", 1)[-1]


def group_of(nodeid: str) -> str:
    """The work unit of a test: its group's name, or the test's own node id."""
    return GROUP_OF_FILE.get(file_of(nodeid), nodeid)


def notebooks_reported() -> bool:
    """Whether every notebook run of this session has written its report."""
    from notebook_runs import RUNS_ENV, all_reported

    folder = os.environ.get(RUNS_ENV)
    return bool(folder) and all_reported(folder)


class GroupScheduling(LoadScopeScheduling):
    """pytest-xdist's scope scheduling with :func:`group_of` as the scope; units are handed out
    in collection order (not biggest first), except that the units of
    :data:`NOTEBOOK_READERS`, which ``conftest.py`` sorts last, move to the front of the queue
    once every notebook has its report."""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        config.option.loadscopereorder = False
        self._readers_moved_up = False

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)

    def _assign_work_unit(self, node) -> None:
        if not self._readers_moved_up and notebooks_reported():
            self._readers_moved_up = True
            readers = [scope for scope, unit in self.workqueue.items()
                       if file_of(next(iter(unit))) in NOTEBOOK_READERS]
            for scope in reversed(readers):  # to the front, in their own order
                self.workqueue.move_to_end(scope, last=False)
        super()._assign_work_unit(node)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n`` (xdist's ``load`` distribution), keep each group on one worker; other
    ``--dist`` modes are xdist's own. Imported by ``conftest.py``, which makes it a hook."""
    return GroupScheduling(config, log) if config.getvalue("dist") == "load" else None
