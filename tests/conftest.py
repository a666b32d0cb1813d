"""Shared fixtures: the team's dataset copies, through kizashi's one data setting."""

from __future__ import annotations

import os

import pytest
from hypothesis import settings

from kizashi.data.paths import dataset_dir

# Property tests draw the same examples on every run (derived from each test's name), so a
# run on CI gives the same answer as the run before it; `HYPOTHESIS_PROFILE=explore` draws
# new random examples on every run, to look for failures while working.
settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def nab_dir():
    path = dataset_dir("nab")
    if path is None:
        pytest.skip("NAB copy not found: set KIZASHI_DATA to a folder holding nab/")
    return path


@pytest.fixture(scope="session")
def smd_dir():
    path = dataset_dir("smd")
    if path is None:
        pytest.skip("SMD copy not found: set KIZASHI_DATA to a folder holding smd/")
    return path
