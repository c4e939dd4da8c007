"""Shared fixtures: one v1 and one v2 block per test session (building costs ~0.5 s each)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# One compute thread per process (TensorFlow's and PyTorch's intra-op pools), inherited by the
# kernels and subprocesses: the session already runs two workers and the notebook kernels on
# 2 cores, and pools sized for the whole machine only spin and wait for each other there.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from xdist_groups import NOTEBOOK_READERS, pytest_xdist_make_scheduler  # noqa: E402, F401 - a hook

import explainer  # noqa: E402


@pytest.fixture(scope="session")
def block_v1():
    return explainer.build_block35("v1", scale=0.17, seed=0)


@pytest.fixture(scope="session")
def block_v2():
    return explainer.build_block35("v2", scale=0.17, seed=0)


@pytest.fixture(scope="session")
def x_v1():
    return explainer.sample_input("v1", batch=2, size=9, seed=1)


@pytest.fixture(scope="session")
def x_v2():
    return explainer.sample_input("v2", batch=2, size=9, seed=1)


# Notebooks: each runs once per session, in the background (tests/notebook_runs.py).


def pytest_configure(config):
    """One folder of notebook runs for the session, shared with pytest-xdist's workers (they
    inherit the environment of the process that starts them)."""
    import tempfile

    from notebook_runs import RUNS_ENV

    if not os.environ.get(RUNS_ENV):
        os.environ[RUNS_ENV] = tempfile.mkdtemp(prefix="notebook_runs_")
        config._notebook_runs_owner = True


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    """The session's folder of notebook runs goes (its owner removes it). An xdist worker then
    ends at once: its results reached the controller when its session ended, and its fixtures
    have stopped every server and kernel they started (test_servers.py checks how the servers
    stop); what is left is the interpreter tearing down TensorFlow, PyTorch and JAX, which
    took 2-7 s per worker, and the controller waits for it before it reports."""
    import shutil

    from notebook_runs import RUNS_ENV

    if getattr(config, "_notebook_runs_owner", False):
        shutil.rmtree(os.environ.pop(RUNS_ENV), ignore_errors=True)
    if hasattr(config, "workerinput"):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _needs_notebooks(item) -> bool:
    return "notebook_runs" in getattr(item, "fixturenames", ())  # directly or through a fixture


def pytest_collection_modifyitems(session, config, items):
    """Start the notebook runs the selected tests need, and move those tests to the end, so
    the kernels work while the rest of the suite runs."""
    readers = [item for item in items if _needs_notebooks(item)]
    unlisted = sorted({item.path.name for item in readers} - set(NOTEBOOK_READERS))
    if unlisted:  # the scheduler finds these tests by their file
        raise pytest.UsageError(f"{unlisted} read executed notebooks: add them to "
                                "NOTEBOOK_READERS in tests/xdist_groups.py")
    if readers:
        _runs(config).start()
        items.sort(key=_needs_notebooks)  # stable: the order within each group stays


def _runs(config):
    from notebook_runs import RUNS_ENV, NotebookRuns

    if not hasattr(config, "_notebook_runs"):
        # two kernels at a time in all: one per xdist worker, or two without xdist
        jobs = 1 if hasattr(config, "workerinput") else 2
        config._notebook_runs = NotebookRuns(os.environ[RUNS_ENV], jobs)
    return config._notebook_runs


@pytest.fixture(scope="session")
def notebook_runs(request):
    """Every notebook, executed once for the session (started at collection)."""
    runs = _runs(request.config)
    yield runs
    runs.close()
