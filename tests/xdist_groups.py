"""Which tests share a pytest-xdist worker.

``make test`` runs two pytest-xdist workers with ``--dist loadgroup``: the tests of a group
run on one worker, one after another, and every other test is a work unit of its own. Groups
hold the tests that start classroom pools (never two Voila pools at once on 2 cores, nor two
writers of the shared frame cache) and the tests that share a session's server, site or
process (so each worker does not start its own). conftest.py's collection hook gives a file's
tests its group's ``xdist_group`` mark (:func:`mark_groups`), before pytest-xdist reads them.
"""

from __future__ import annotations

import pytest

XDIST_GROUPS = {
    "classroom-pools": ("test_classroom_apps.py", "test_classroom_server.py",
                        "test_classroom.py", "test_classroom_files.py",
                        "test_classroom_guards.py"),
    "static-site": ("test_static_html.py",),  # the static site of the executed lessons
    "app-pages": ("test_classroom_pages.py", "test_site_exercises.py", "test_site_apps.py"),
    "notebook-servers": ("test_scale_slider.py", "test_broadcast_playground.py",
                         "test_servers.py"),
    "backends": ("test_backends.py",),
    "keras-applications": ("test_keras_applications.py",),  # one InceptionResNetV2 build
    "fresh-process": ("test_fresh_process.py",),  # one new Python process
}
GROUP_OF_FILE = {name: group for group, names in XDIST_GROUPS.items() for name in names}


def mark_groups(items) -> None:
    """Give each collected test of a grouped file its group's ``xdist_group`` mark."""
    for item in items:
        if item.path.name in GROUP_OF_FILE:
            item.add_marker(pytest.mark.xdist_group(GROUP_OF_FILE[item.path.name]))
