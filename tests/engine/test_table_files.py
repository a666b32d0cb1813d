"""Table files by suffix: every case of every supported suffix, and the family of others.

The format is named by the suffix, whatever its case; the written file is read back by
the format's own reader (pandas for CSV and Parquet, the ``json`` module for JSON) to
the table given, times as UTC; every other suffix is a ``ValueError`` naming the
supported ones, and nothing is written.
"""

from __future__ import annotations

import gzip
import itertools
import json

import numpy as np
import pandas as pd
import pytest

from kizashi.engine.table_files import TABLE_FORMATS, table_format, write_table


def _cases(suffix: str) -> list[str]:
    """Every upper/lower-case spelling of ``suffix``'s letters (capped at 16)."""
    letters = [(c.lower(), c.upper()) if c.isalpha() else (c,) for c in suffix]
    return ["".join(p) for p in itertools.islice(itertools.product(*letters), 16)]


@pytest.mark.parametrize("suffix", sorted(TABLE_FORMATS))
def test_every_case_of_a_supported_suffix_names_it(suffix):
    for spelled in _cases(suffix):
        assert table_format(f"dir.x/scores{spelled}") == suffix
        assert table_format(f"a.b.c{spelled}") == suffix


@pytest.mark.parametrize("name", ["s.xlsx", "s.tsv", "s.txt", "s.gz", "s.tsv.gz", "s.csv.bz2",
                                  "s.csv.zip", "s.parquet.gz", "s.jsonl.gz", "s.", "s",
                                  ".csv", "s.csv.", "s.csv ", "s.pq", "s.feather", "s.xls"])
def test_any_other_suffix_is_refused_naming_the_supported_ones(name):
    with pytest.raises(ValueError, match=r"end the name with \.csv, \.csv\.gz, \.parquet, "
                                         r"\.json or \.jsonl$"):
        table_format(name)


TABLE = pd.DataFrame({
    "timestamp": pd.to_datetime(["2026-03-09 10:00:00.000", "2026-03-09 10:05:00.250", None],
                                format="ISO8601"),
    "entity": ["n1", "n2", "n3"],
    "score": [0.5, np.nan, 2.0],
    "is_anomaly": [True, False, False],
    "label": ["", "ä, \"quoted\"", "x"],
})
EXPECTED_TIMES = ["2026-03-09T10:00:00.000Z", "2026-03-09T10:05:00.250Z", None]


@pytest.mark.parametrize("suffix", sorted(TABLE_FORMATS))
def test_a_written_table_reads_back_by_its_own_reader(tmp_path, suffix):
    path = tmp_path / f"t{suffix.upper()}"
    write_table(TABLE, path)
    if suffix == ".parquet":
        back = pd.read_parquet(path)
        assert back.timestamp.tolist()[:2] == TABLE.timestamp.tolist()[:2]
        assert back.timestamp.isna().tolist() == [False, False, True]
        back = back.drop(columns="timestamp")
    else:
        if suffix == ".json":
            rows = json.loads(path.read_text(encoding="utf-8"))
        elif suffix == ".jsonl":
            rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        else:
            opened = gzip.open(path, "rt", encoding="utf-8") if suffix == ".csv.gz" \
                else open(path, encoding="utf-8")
            with opened as text:
                back = pd.read_csv(text, keep_default_na=False, dtype=str)
            rows = back.to_dict("records")
            for row in rows:  # CSV has no types: text back to what was written
                row["score"] = float(row["score"]) if row["score"] else None
                row["is_anomaly"] = row["is_anomaly"] == "True"
        times = [row.pop("timestamp") or None for row in rows]
        assert times == EXPECTED_TIMES
        back = pd.DataFrame(rows)
    expected = TABLE.drop(columns="timestamp")
    pd.testing.assert_frame_equal(back.reset_index(drop=True), expected, check_dtype=False)


def test_an_unknown_suffix_writes_nothing(tmp_path):
    with pytest.raises(ValueError):
        write_table(TABLE, tmp_path / "t.xlsx")
    assert list(tmp_path.iterdir()) == []


def test_zoned_times_are_written_in_utc(tmp_path):
    zoned = pd.DataFrame({"start": pd.to_datetime(["2026-03-09 19:00"]).tz_localize("Asia/Tokyo")})
    write_table(zoned, tmp_path / "z.csv")
    assert (tmp_path / "z.csv").read_text().splitlines() == ["start", "2026-03-09T10:00:00Z"]


@pytest.mark.parametrize("suffix", [".json", ".jsonl"])
def test_json_keeps_the_digits_csv_keeps(tmp_path, suffix):
    # pandas' to_json rounds to 10 digits unless told; scores differ in the 12th
    values = np.array([0.12345678901234567, 1 / 3, 2.0 ** -40, 123456.78901234567])
    table = pd.DataFrame({"score": values})
    write_table(table, tmp_path / f"t{suffix}")
    write_table(table, tmp_path / "t.csv")
    text = (tmp_path / f"t{suffix}").read_text()
    rows = json.loads(text) if suffix == ".json" else [json.loads(x) for x in text.splitlines()]
    got = np.array([row["score"] for row in rows])
    from_csv = pd.read_csv(tmp_path / "t.csv")["score"].to_numpy()
    np.testing.assert_allclose(got, values, rtol=1e-14, atol=0)
    np.testing.assert_allclose(got, from_csv, rtol=1e-14, atol=0)
