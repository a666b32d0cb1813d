"""The data setting and the downloader."""

from __future__ import annotations

import pytest

from kizashi.data import paths


def test_kizashi_data_overrides(tmp_path, monkeypatch):
    monkeypatch.setenv("KIZASHI_DATA", str(tmp_path))
    (tmp_path / "nab").mkdir()
    assert paths.dataset_dir("nab") == tmp_path / "nab"
    assert paths.dataset_dir("smd") is None
    monkeypatch.setenv("KIZASHI_DATA", str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="is not a directory"):
        paths.dataset_root()


def test_fetch_is_atomic_and_cached(tmp_path):
    source = tmp_path / "remote.csv"
    source.write_text("timestamp,value\n0,1\n")
    target = tmp_path / "cache" / "local.csv"
    assert paths.fetch(source.as_uri(), target).read_text() == source.read_text()
    source.write_text("changed")
    assert paths.fetch(source.as_uri(), target).read_text().startswith("timestamp")
    with pytest.raises(OSError, match="Set KIZASHI_DATA"):
        paths.fetch((tmp_path / "absent.csv").as_uri(), tmp_path / "cache" / "other.csv")
    assert not list((tmp_path / "cache").glob(".part-*"))
