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
"""

from __future__ import annotations

import pytest
from xdist.scheduler.loadscope import LoadScopeScheduling

XDIST_GROUPS = {
    "classroom-pools": ("test_classroom_apps.py", "test_classroom_server.py",
                        "test_classroom.py", "test_classroom_files.py"),
    # the static site of the executed lessons (its tests wait for every notebook: it is one
    # unit at the end), and the apps' pages on their static server (one unit, early)
    "static-site": ("test_static_html.py",),
    "app-pages": ("test_classroom_pages.py",),
    "notebook-servers": ("test_scale_slider.py", "test_broadcast_playground.py",
                         "test_servers.py"),
    "backends": ("test_backends.py",),
}
GROUP_OF_FILE = {name: group for group, names in XDIST_GROUPS.items() for name in names}


def group_of(nodeid: str) -> str:
    """The work unit of a test: its group's name, or the test's own node id."""
    file_name = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return GROUP_OF_FILE.get(file_name, nodeid)


class GroupScheduling(LoadScopeScheduling):
    """pytest-xdist's scope scheduling with :func:`group_of` as the scope; units are handed out
    in collection order (not biggest first), so the tests that read executed notebooks,
    which ``conftest.py`` sorts last, still run last."""

    def __init__(self, config, log=None):
        super().__init__(config, log)
        config.option.loadscopereorder = False

    def _split_scope(self, nodeid: str) -> str:
        return group_of(nodeid)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under ``-n`` (xdist's ``load`` distribution), keep each group on one worker; other
    ``--dist`` modes are xdist's own. Imported by ``conftest.py``, which makes it a hook."""
    return GroupScheduling(config, log) if config.getvalue("dist") == "load" else None
