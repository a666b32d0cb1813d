"""Log lines as series: formats, Drain3 templates, counts; the loghub samples."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from kizashi.data.logs import LogTemplates, detect_format, logs_to_frame, parse_lines, read_logs
from kizashi.data.paths import dataset_dir


def loghub(system: str) -> Path:
    base = dataset_dir("loghub-hpc")
    path = None if base is None else base / system / f"{system}_2k.log"
    if path is None or not path.exists():
        pytest.skip(f"no loghub-hpc/{system} sample (set KIZASHI_DATA)")
    return path


def grouping_accuracy(found: list[int], truth: list[str]) -> float:
    """Loghub's grouping accuracy: a line counts when its group is exactly a true group."""
    groups: dict[int, set[int]] = {}
    true: dict[str, frozenset[int]] = {}
    for i, g in enumerate(found):
        groups.setdefault(g, set()).add(i)
    for i, t in enumerate(truth):
        true[t] = true.get(t, frozenset()) | {i}
    exact = set(true.values())
    return sum(len(g) for g in groups.values() if frozenset(g) in exact) / len(found)


@pytest.mark.parametrize(("system", "fmt", "floor"), [("BGL", "bgl", 0.95), ("HPC", "hpc", 0.85)])
def test_templates_match_loghubs_ground_truth(system, fmt, floor):
    # loghub's benchmark gives Drain 0.963 (BGL) and 0.887 (HPC) on these samples
    path = loghub(system)
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    parsed = parse_lines(lines, fmt)
    assert len(parsed.messages) == 2000 and parsed.skipped == 0
    truth = pd.read_csv(path.with_name(f"{system}_2k.log_structured.csv"))
    assert parsed.messages[:50] == truth.Content.str.strip().tolist()[:50]
    miner = LogTemplates()
    assert grouping_accuracy([miner.add(m) for m in parsed.messages],
                             truth.EventId.tolist()) >= floor
    assert detect_format(lines) == fmt


def test_bgl_alert_heavy_intervals_score_high():
    from kizashi.engine.batch import score_frame
    from kizashi.testing.conformance import roc_auc

    frame = read_logs(loghub("BGL"), step=6 * 3600, format="bgl", by_host=False)
    truth = pd.read_csv(loghub("BGL").with_name("BGL_2k.log_structured.csv"))
    assert frame.meta["alert_lines"].sum() == (truth.Label != "-").sum() == 143
    busy = frame.meta["lines"] > 0
    heavy = frame.meta["alert_lines"] >= 3           # steps with 3 alert lines or more
    assert heavy.sum() >= 5
    result = score_frame(frame, "threshold", {})
    level = np.nan_to_num(result.levels, nan=0.0).max(axis=1)
    # among the steps that have any line, the alert-heavy ones rank high
    assert roc_auc(level[busy], heavy[busy]) > 0.8


def test_counts_per_template_host_and_step_with_zeros():
    lines = ["2026-03-09T10:00:05Z n1 sbatchd restarted pid 11",
             "2026-03-09T10:00:55Z n1 sbatchd restarted pid 12",
             "garbage that fits no format",
             "2026-03-09T10:03:00Z n2 sbatchd restarted pid 13",
             "2026-03-09T10:03:30Z n1 disk /scratch full"]
    frame = logs_to_frame(lines, step=60, format="iso")
    assert frame.n_times == 4 and frame.meta["skipped"] == 1
    column = {key: j for j, key in enumerate(frame.keys)}
    restart = "log:sbatchd restarted pid <NUM>"
    assert frame.values[:, column[("n1", restart)]].tolist() == [2, 0, 0, 0]
    assert frame.values[:, column[("n2", restart)]].tolist() == [0, 0, 0, 1]
    assert frame.values[:, column[("n1", "log:disk /scratch full")]].tolist() == [0, 0, 0, 1]
    together = logs_to_frame(lines, step=60, format="iso", by_host=False)
    assert together.values[:, together.metrics.index(restart)].tolist() == [2, 0, 0, 1]


@pytest.mark.parametrize("line", [
    "Mar  9 10:00:05 n1 sbatchd[77]: restarted",
    "2026-03-09 10:00:05 n1 sbatchd[77]: restarted",
    "2026-03-09T10:00:05.123+09:00 n1 sbatchd[77]: restarted",
])
def test_formats_are_recognised(line):
    parsed = parse_lines([line])
    assert parsed.hosts == ["n1"] and parsed.messages == ["sbatchd[77]: restarted"]


@pytest.mark.parametrize("n_junk", [30, 250, 2000])
@pytest.mark.parametrize("line", [
    "Mar  9 10:00:05 n1 sbatchd[77]: restarted",
    "2026-03-09T10:00:05Z n1 sbatchd[77]: restarted",
])
def test_a_log_starting_with_a_long_stack_trace_is_read(tmp_path, n_junk, line):
    """A log whose first lines are a Java stack trace (more of them than the 200 lines
    the format is told from, or fewer): the format is told from its newest lines, and
    every line that fits is counted (the trace's lines are skipped, as lines that fit no
    line of the format are). Before, more than 20 such lines in the first 200 refused the
    file: "fit none of the known formats"."""
    trace = [f"    at com.example.Worker.run(Worker.java:{k})" for k in range(n_junk)]
    path = tmp_path / "app.log"
    path.write_text("\n".join(trace + [line] * 300) + "\n")
    frame = read_logs(path, step=60.0)
    assert frame.values.sum() == 300   # one count per line that fits, in its template


def test_bad_input_is_one_line_error():
    with pytest.raises(ValueError, match="fit none of the known formats"):
        parse_lines(["hello", "world"])
    with pytest.raises(ValueError, match="unknown log format"):
        parse_lines(["x"], "apache")


@pytest.mark.parametrize(("hosts", "span_minutes", "step"), [(3, 600, 60.0), (10, 59, 60.0),
                                                               (2, 1380, 3600.0)])
def test_counts_past_max_cells_are_refused_before_they_are_made(hosts, span_minutes, step):
    from kizashi.data.logs import LogCountsTooLarge

    # each host logs one line at the start and one at the end: hosts x 1 template
    lines = [f"2026-03-09T{m // 60:02d}:{m % 60:02d}:00Z host{h} kernel: disk error"
             for m in (0, span_minutes % (24 * 60)) for h in range(hosts)]
    n_times = int((span_minutes % (24 * 60)) * 60 // step) + 1
    cells = n_times * hosts
    whole = logs_to_frame(lines, step=step, format="iso", max_cells=cells)  # just fits
    assert (whole.n_times, whole.n_series) == (n_times, hosts)
    with pytest.raises(LogCountsTooLarge) as refused:
        logs_to_frame(lines, step=step, format="iso", max_cells=cells - 1)
    assert (refused.value.n_times, refused.value.n_series) == (n_times, hosts)
    assert refused.value.span_seconds == (n_times - 1) * step
