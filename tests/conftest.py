"""Shared fixtures: one v1 and one v2 block per test session (building costs ~0.5 s each)."""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

import pytest  # noqa: E402

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


def _needs_notebooks(item) -> bool:
    return "notebook_runs" in getattr(item, "fixturenames", ())  # directly or through a fixture


def pytest_collection_modifyitems(session, config, items):
    """Start the notebook runs the selected tests need, and move those tests to the end, so
    the kernels work while the rest of the suite runs."""
    if any(_needs_notebooks(item) for item in items):
        _runs(config).start()
        items.sort(key=_needs_notebooks)  # stable: the order within each group stays


def _runs(config):
    from notebook_runs import NotebookRuns

    if not hasattr(config, "_notebook_runs"):  # pytest's tmp_path_factory, made at configure
        config._notebook_runs = NotebookRuns(config._tmp_path_factory.mktemp("notebook_runs"))
    return config._notebook_runs


@pytest.fixture(scope="session")
def notebook_runs(request):
    """Every notebook, executed once for the session (started at collection)."""
    runs = _runs(request.config)
    yield runs
    runs.close()
