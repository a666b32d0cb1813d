"""Every timestamp kizashi writes names its zone and is the instant that was read.

docs/data.md: times are read as UTC instants (offsets converted, text without an offset
taken as UTC, epoch numbers in s/ms/us/ns by size). The family writes the same instants
in every form an operator's export has; ``detect --out``, ``detect --incidents`` and
``predict --out`` must write each row's time as ISO 8601 with its zone, equal to the
generated instant (checked with the standard library's parser, not kizashi's), at the
data's precision.
"""

from __future__ import annotations

import csv
import datetime as dt

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.utc_text import exact_unit, utc_text

START = dt.datetime(2024, 3, 10, 1, 30, tzinfo=dt.UTC)  # around a DST switch elsewhere
N = 60


def _instant(i: int, step_ms: int) -> dt.datetime:
    return START + dt.timedelta(milliseconds=i * step_ms)


def _zoned(offset_h: float):
    zone = dt.timezone(dt.timedelta(hours=offset_h))
    return lambda t: t.astimezone(zone).isoformat(timespec="milliseconds")


#: name → (how an instant is written, step in ms)
FORMS = {
    "iso-z": (lambda t: t.strftime("%Y-%m-%dT%H:%M:%SZ"), 60_000),
    "iso-plus-0900": (_zoned(9), 60_000),
    "iso-minus-0530": (_zoned(-5.5), 60_000),
    "iso-naive": (lambda t: t.strftime("%Y-%m-%d %H:%M:%S"), 60_000),
    "epoch-s": (lambda t: str(int(t.timestamp())), 60_000),
    "epoch-ms": (lambda t: str(int(t.timestamp() * 1000)), 60_000),
    "epoch-ms-subsecond": (lambda t: str(round(t.timestamp() * 1000)), 250),
}


def _write(path, form: str) -> list[dt.datetime]:
    stamp, step = FORMS[form]
    instants = [_instant(i, step) for i in range(N)]
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["timestamp", "cpu", "mem_pct"])
        for i, t in enumerate(instants):
            spike = 40.0 if i == 45 else 0.0
            out.writerow([stamp(t), 50 + (i % 7) + spike, 30 + (i % 5)])
    return instants


def _times(path, column: str) -> list[dt.datetime]:
    with path.open() as handle:
        texts = [row[column] for row in csv.DictReader(handle)]
    parsed = [dt.datetime.fromisoformat(text) for text in texts]
    assert all(t.tzinfo is not None for t in parsed), texts[:3]  # the zone is written
    return parsed


@pytest.mark.parametrize("form", list(FORMS))
def test_written_times_name_their_zone_and_keep_the_instant(tmp_path, form):
    path = tmp_path / "node.csv"
    instants = _write(path, form)
    scores, incidents, predicted = (tmp_path / n for n in ("s.csv", "i.csv", "p.csv"))
    detect = CliRunner().invoke(cli, ["detect", str(path), "-q", "--detector", "threshold",
                                      "--out", str(scores), "--incidents", str(incidents)])
    assert detect.exit_code == 0, detect.output
    written = _times(scores, "timestamp")
    assert written == [t for t in instants for _ in range(2)]  # two series per step
    flagged = _times(incidents, "start")
    assert flagged and set(flagged) <= set(instants)
    assert _instant(45, FORMS[form][1]) in flagged
    predict = CliRunner().invoke(cli, ["predict", str(path), "--out", str(predicted)])
    assert predict.exit_code == 0, predict.output
    assert _times(predicted, "timestamp") == [t for t in instants for _ in range(2)]


def test_text_is_as_precise_as_the_data_and_nat_is_empty():
    seconds = np.array(["2024-01-01T00:00:00", "2024-01-01T00:01:00"], dtype="datetime64[ns]")
    assert utc_text(seconds).tolist() == ["2024-01-01T00:00:00Z", "2024-01-01T00:01:00Z"]
    micro = seconds + np.array([0, 1000], dtype="timedelta64[ns]")
    assert exact_unit(micro) == "us"
    assert utc_text(micro)[1] == "2024-01-01T00:01:00.000001Z"
    assert utc_text(np.array(["NaT"], dtype="datetime64[ns]")).tolist() == [""]
    assert utc_text(np.array([], dtype="datetime64[ns]")).tolist() == []
