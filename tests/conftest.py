"""Shared fixtures: the team's dataset copies, through kizashi's one data setting."""

from __future__ import annotations

import pytest

from kizashi.data.paths import dataset_dir


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
