"""Shared fixtures: the NAB corpus and its shipped result files, when present."""

from __future__ import annotations

from pathlib import Path

import pytest

from kizashi.data.paths import dataset_root


def nab_with_results() -> Path | None:
    """``<dataset_root>/nab`` when a local copy with data, labels and results exists."""
    root = dataset_root()
    if root is None:
        return None
    path = root / "nab"
    needed = ("data", "labels", "results")
    return path if all((path / part).is_dir() for part in needed) else None


@pytest.fixture(scope="session")
def nab_root() -> Path:
    path = nab_with_results()
    if path is None:
        pytest.skip("NAB data not found: set KIZASHI_DATA to a folder holding nab/ "
                    "(data/, labels/, results/) to run the NAB reproduction tests")
    return path


@pytest.fixture(scope="session")
def nab_corpus(nab_root):
    from kizashi.data.nab import load_nab_corpus

    return load_nab_corpus(nab_root)


@pytest.fixture(scope="session")
def nab_shipped_results(nab_root):
    from kizashi.evaluation.nab_files import read_results

    return read_results(nab_root / "results")
