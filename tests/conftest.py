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
