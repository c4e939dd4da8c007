"""Shared fixtures: one v1 and one v2 block per test session (building costs ~0.5 s each)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
# One compute thread per process (TensorFlow's and PyTorch's intra-op pools), inherited by the
# kernels and subprocesses: the session already runs two workers and the notebook kernels on
# 2 cores, and pools sized for the whole machine only spin and wait for each other there.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import pytest  # noqa: E402
from xdist_groups import mark_groups  # noqa: E402

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


RUNS_OWNER = pytest.StashKey[bool]()  # this process made the session's folder of runs
RUNS = pytest.StashKey[object]()  # this process's NotebookRuns


def pytest_configure(config):
    """One folder of notebook runs for the session, shared with pytest-xdist's workers (they
    inherit the environment of the process that starts them)."""
    import tempfile

    from notebook_runs import RUNS_ENV

    if not os.environ.get(RUNS_ENV):
        os.environ[RUNS_ENV] = tempfile.mkdtemp(prefix="notebook_runs_")
        config.stash[RUNS_OWNER] = True


def pytest_unconfigure(config):
    """The session's folder of notebook runs goes (its owner removes it)."""
    import shutil

    from notebook_runs import RUNS_ENV

    if config.stash.get(RUNS_OWNER, False):
        shutil.rmtree(os.environ.pop(RUNS_ENV), ignore_errors=True)


def _needs_notebooks(item) -> bool:
    return "notebook_runs" in getattr(item, "fixturenames", ())  # directly or through a fixture


# tryfirst: before pytest-xdist's own hook, which reads the xdist_group marks on a worker
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(session, config, items):
    """Mark each test of a grouped file with its group (tests/xdist_groups.py); start the
    notebook runs the selected tests need and move those tests to the end (with
    ``--no-loadscope-reorder`` xdist hands the work units out in this order), so the kernels
    work while the rest of the suite runs."""
    mark_groups(items)
    if any(map(_needs_notebooks, items)):
        _runs(config).start()
        items.sort(key=_needs_notebooks)  # stable: the order within each group stays


def _runs(config):
    from notebook_runs import RUNS_ENV, NotebookRuns

    if RUNS not in config.stash:
        # two kernels at a time in all: one per xdist worker, or two without xdist
        jobs = 1 if os.environ.get("PYTEST_XDIST_WORKER") else 2
        config.stash[RUNS] = NotebookRuns(os.environ[RUNS_ENV], jobs)
    return config.stash[RUNS]


@pytest.fixture(scope="session")
def notebook_runs(request):
    """Every notebook, executed once for the session (started at collection)."""
    runs = _runs(request.config)
    yield runs
    runs.close()
