"""Rows of a watched CSV file that are out of time order, given twice, timed oddly, or
under an odd header, against docs/watch.md ("A CSV source reads a wide file … each row is
one step") and the repair rules of docs/data.md (rows sorted by time; a timestamp given
twice: the later line's value wins, a missing value never replaces an observed one).

Before: rows out of order were processed in file order and the progress stored was the
last line's time, so the next tick processed the later steps *again* (alerts fired anew);
a ``nan`` timestamp failed every tick's write as if the disk were broken; ``1e300`` was a
step; a byte-order mark hid the timestamp column; a column name given twice lost one of
the two series in silence. The expectations are built here from the rows themselves.
"""

from __future__ import annotations

import logging
import math
import random
from datetime import UTC, datetime

import numpy as np
import pytest
from watch_servers import Clock

from kizashi.watch.config import parse_config
from kizashi.watch.sources import CsvSource, SourceError, _parse_time
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000


def lines_of(n: int, seed: int, repeats: int) -> list[tuple[int, str, str]]:
    """``n`` steps of two series, shuffled, ``repeats`` of them given again later (some
    with a value left empty)."""
    rng = random.Random(seed)
    rows = [(T0 + i, f"{10 + math.sin(i / 5):.6f}", f"{i % 7}") for i in range(n)]
    for _ in range(repeats):
        t = T0 + rng.randrange(n)
        rows.append((t, f"{rng.uniform(0, 100):.6f}", rng.choice(["", f"{rng.randint(0, 9)}"])))
    rng.shuffle(rows)
    return rows


def expected(rows: list[tuple[int, str, str]], since: float | None
             ) -> tuple[list[float], list[list[float]]]:
    """Per timestamp after ``since``: the last observed value of each column, in time order."""
    last: dict[int, list[float]] = {}
    for t, a, b in rows:
        cells = last.setdefault(t, [math.nan, math.nan])
        for j, text in enumerate((a, b)):
            if text:
                cells[j] = float(text)
    times = sorted(t for t in last if since is None or t > since)
    return [float(t) for t in times], [last[t] for t in times]


def write(path, rows, header: str = "timestamp,a,b") -> None:
    path.write_text(header + "\n" + "".join(f"{t},{a},{b}\n" for t, a, b in rows))


ORDERS = [(seed, n, repeats) for seed in range(4) for n, repeats in ((30, 0), (30, 10), (200, 60))]


@pytest.mark.parametrize(("seed", "n", "repeats"), ORDERS)
@pytest.mark.parametrize("since", [None, T0 + 9.5])
def test_rows_come_in_time_order_once_each(tmp_path, seed, n, repeats, since):
    rows = lines_of(n, seed, repeats)
    write(tmp_path / "m.csv", rows)
    samples = CsvSource(str(tmp_path / "m.csv")).read(since)
    times, values = expected(rows, since)
    assert samples.timestamps.tolist() == times
    assert [m["series"] for m in samples.labels] == ["a", "b"]
    np.testing.assert_array_equal(samples.values, np.array(values).reshape(-1, 2))


@pytest.mark.parametrize("seed", range(3))
def test_a_watch_processes_each_step_of_a_shuffled_file_once(tmp_path, seed):
    rows = lines_of(120, seed, 20)
    write(tmp_path / "m.csv", rows)
    config = parse_config(f"""
interval: 1s
listen: off
sources: {{lab: {{type: csv, path: "{tmp_path / 'm.csv'}"}}}}
watches:
  - name: m
    detectors: [{{name: sigma, detector: threshold, params: {{window: 30, k: 5.0,
                  min_periods: 10}}}}]
""")
    store = WatchStore(":memory:")
    watcher = Watcher(config, store, clock=Clock(T0 + 1000.0))
    watcher.tick()
    assert store.progress("m") == T0 + 119
    n_steps = store.db.execute("SELECT count(*) FROM blocks").fetchone()[0]
    assert n_steps == 120
    state = store.load_state("m", "sigma")
    watcher.tick()   # nothing new in the file: nothing processed again
    assert store.progress("m") == T0 + 119
    again = store.load_state("m", "sigma")
    assert again[0] == state[0]
    for before, after in zip(_leaves(state[1]), _leaves(again[1]), strict=True):
        np.testing.assert_array_equal(before, after)


def _leaves(tree):
    if isinstance(tree, dict):
        for key in sorted(tree):
            yield from _leaves(tree[key])
    elif isinstance(tree, (list, tuple)):
        for item in tree:
            yield from _leaves(item)
    else:
        yield np.asarray(tree)


def test_rows_out_of_order_are_said_once_naming_the_line(tmp_path, caplog):
    write(tmp_path / "m.csv", [(T0, "1", "1"), (T0 + 2, "2", "2"), (T0 + 1, "3", "3")])
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        CsvSource(str(tmp_path / "m.csv"), name="lab").read(None)
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and "line 4" in said[0] and "out of time order" in said[0], said


ODD_TIMES = ["nan", "NaN", "inf", "-inf", "Infinity", "1e300", "-1e300", "1e309",
             "253402300800", "NaT", "99999-01-01T00:00:00"]


@pytest.mark.parametrize("text", ODD_TIMES)
def test_a_timestamp_that_is_no_time_makes_the_file_unreadable_naming_the_line(tmp_path, text):
    path = tmp_path / "m.csv"
    path.write_text(f"timestamp,a\n{T0},1\n{text},2\n{T0 + 2},3\n")
    with pytest.raises(SourceError, match="line 3"):
        CsvSource(str(path), name="lab").read(None)


@pytest.mark.parametrize(("text", "when"), [
    ("0", datetime(1970, 1, 1, tzinfo=UTC)), ("-1700000000", None), ("253402300799", None),
    ("2024-02-29T23:59:59Z", datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)),
    ("2300-01-01T00:00:00", datetime(2300, 1, 1, tzinfo=UTC)),   # (wrapped round in ns)
    ("9999-12-31T23:59:59+00:00", datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("0001-01-01T00:00:00", datetime(1, 1, 1, tzinfo=UTC))])
def test_times_of_years_1_to_9999_are_read(tmp_path, text, when):
    path = tmp_path / "m.csv"
    path.write_text(f"timestamp,a\n{text},2\n")
    got = CsvSource(str(path)).read(None).timestamps.tolist()
    assert got == [when.timestamp() if when is not None else float(text)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_byte_order_mark_is_no_part_of_the_header(tmp_path, newline):
    path = tmp_path / "m.csv"
    path.write_bytes(("\ufefftimestamp,a" + newline + f"{T0},1" + newline).encode("utf-8"))
    samples = CsvSource(str(path)).read(None)
    assert samples.timestamps.tolist() == [T0] and samples.labels == [{"series": "a"}]


@pytest.mark.parametrize("header", ["timestamp,a,a", "timestamp,a,b,a", "timestamp,timestamp,a",
                                    "timestamp,,"])
def test_a_column_named_twice_is_refused_naming_it(tmp_path, header):
    path = tmp_path / "m.csv"
    width = header.count(",")
    path.write_text(header + "\n" + f"{T0}" + ",1" * width + "\n")
    with pytest.raises(SourceError, match="twice"):
        CsvSource(str(path), name="lab").read(None)


@pytest.mark.parametrize("header", ["timestamp,a,a,b", "timestamp,,,b", "timestamp,b,x,x"])
def test_a_repeated_name_among_columns_no_watch_reads_is_no_error(tmp_path, header):
    """Only the columns read must be told apart: a watch of ``columns: [b]`` reads ``b``
    from a file whose other columns repeat a name (two blank cells from an export)."""
    path = tmp_path / "m.csv"
    width = header.count(",")
    path.write_text(header + "\n" + f"{T0}" + ",1" * (width - 1) + ",7\n")
    samples = CsvSource(str(path), name="lab", columns=("b",)).read(None)
    assert samples.labels == [{"series": "b"}]
    assert samples.values.tolist() == ([[7.0]] if header.endswith(",b") else [[1.0]])


@pytest.mark.parametrize("seed", range(4))
def test_iso_times_read_as_the_nanosecond_float_of_before(seed):
    """Within the nanosecond range (1678–2262) an ISO time is the float of its int64
    nanoseconds over 1e9, to the last bit, as before the reader took other years: a watch's
    stored progress is such a float, and a time one unit in the last place above it would
    read its last row again."""
    rng = np.random.default_rng(seed)
    for ms in rng.integers(-5_000_000_000_000, 9_000_000_000_000, 500):
        text = f"{np.datetime64(int(ms), 'ms')}Z"
        expected = np.datetime64(text[:-1], "ns").astype(np.int64) / 1e9
        assert _parse_time(text) == expected, text


@pytest.mark.parametrize("behind_by", [1, 60, 86_400])
def test_a_file_older_than_the_progress_is_said_once_not_skipped_in_silence(
        tmp_path, caplog, behind_by):
    """A CSV rotated or replaced by one whose rows all precede a watch's progress: the rows
    are skipped (they are not after it), and a WARNING says so once per progress, naming
    both times; a file whose newest row *is* the progress (nothing new yet) is not told."""
    path = tmp_path / "m.csv"
    path.write_text("timestamp,a\n" + "".join(f"{T0 + 60 * i},{i}\n" for i in range(10)))
    newest = T0 + 540
    source = CsvSource(str(path), name="lab")
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        assert source.read(float(newest)).timestamps.size == 0      # nothing new: silent
        for _ in range(3):
            assert source.read(float(newest + behind_by)).timestamps.size == 0
    said = [r.getMessage() for r in caplog.records if "older than the progress" in r.getMessage()]
    progress = datetime.fromtimestamp(newest + behind_by, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(said) == 1 and progress in said[0], said
