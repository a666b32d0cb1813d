"""With ``format: auto``, lines read before the format can be told are counted once a
later read tells it, not lost.

A log that starts with lines no format fits (a Java stack trace, a banner) fails the
first read's detection (at least 90 % of the first 200 lines must fit one format). Before,
that read's lines — the whole file when the daemon starts on an existing log — were
dropped, and only lines written after were counted. Expectation (independent of the
parser): every line that fits is counted once in the complete steps, however the junk
and the reads fall; the junk is said in the unfit warning.
"""

from __future__ import annotations

import pytest

import kizashi.engine.log_source as log_source
from kizashi.engine.log_source import TOTAL_METRIC, LogSource

T0 = 1_773_050_400.0   # 2026-03-09T10:00:00Z


def good(k: int, layout: str) -> str:
    m, s = divmod(20 * k, 60)
    h, m = divmod(m, 60)
    if layout == "iso":
        return f"2026-03-09T{10 + h:02d}:{m:02d}:{s:02d}Z n{k % 2} job {k} done"
    return f"Mar  9 {10 + h:02d}:{m:02d}:{s:02d} n{k % 2} job {k} done"


def junk(k: int) -> str:
    return f"    at com.example.Worker.run(Worker.java:{k})"


#: how the file is written: the junk lines first (n), then good lines (first read), then
#: good lines appended over later reads
CASES = {"25 junk": 25, "100 junk": 100, "300 junk (more than the sample)": 300}


@pytest.mark.parametrize("layout", ["iso", "syslog"])
@pytest.mark.parametrize("chunk", [1, 9, 60])
@pytest.mark.parametrize("case", list(CASES))
def test_lines_read_before_the_format_is_told_are_counted_after(tmp_path, case, chunk,
                                                                layout):
    n_junk, n_first, n_later = CASES[case], 30, 120
    path = tmp_path / "app.log"
    path.write_text("".join(junk(k) + "\n" for k in range(n_junk))
                    + "".join(good(k, layout) + "\n" for k in range(n_first)))
    source = LogSource(str(path), format="auto", timezone="UTC",
                       clock=lambda: T0 + 86400.0)
    total, errors, since = 0.0, 0, None
    k = n_first
    for _ in range(1 + n_later // chunk):
        try:
            samples = source.read(since=since)   # as the watch asks: after its progress
        except log_source.SourceError:
            errors += 1
        else:
            cols = [j for j, lab in enumerate(samples.labels) if lab["metric"] == TOTAL_METRIC]
            total += float(samples.values[:, cols].sum())
            since = float(samples.timestamps[-1]) if samples.timestamps.size else since
        with open(path, "a") as handle:
            handle.write("".join(good(i, layout) + "\n" for i in range(k, k + chunk)))
        k += chunk
    samples = source.read(since=since)
    cols = [j for j, lab in enumerate(samples.labels) if lab["metric"] == TOTAL_METRIC]
    total += float(samples.values[:, cols].sum())
    assert errors >= 1 and source.format == layout
    # every good line but those of the last (incomplete) minute: 3 lines a minute
    assert total == k - (k % 3 or 3)


@pytest.mark.parametrize("layout", ["iso", "syslog"])
@pytest.mark.parametrize("n_junk", [50, 250, 1000])
def test_a_log_that_starts_with_junk_and_then_stays_quiet_is_counted(tmp_path, n_junk,
                                                                     layout):
    """A log whose existing lines start with a long stack trace, then 240 lines that fit,
    and nothing written after: its first 200 lines tell no format, its newest 200 do, so
    the first read counts every good line (before, they were kept until a later read told
    the format, which never came)."""
    n_good = 240
    path = tmp_path / "app.log"
    path.write_text("".join(junk(k) + "\n" for k in range(n_junk))
                    + "".join(good(k, layout) + "\n" for k in range(n_good)))
    source = LogSource(str(path), format="auto", timezone="UTC",
                       clock=lambda: T0 + 86400.0)
    samples = source.read(since=None)
    assert source.format == layout
    cols = [j for j, lab in enumerate(samples.labels) if lab["metric"] == TOTAL_METRIC]
    # every good line but those of the last (incomplete) minute: 3 lines a minute
    assert float(samples.values[:, cols].sum()) == n_good - (n_good % 3 or 3)
