"""A node's steps left unscored by a missing metric are reported, never silent.

docs/detectors.md: a multivariate detector (the default ``ensemble``) gives a row with a
missing metric no score. The family below generates the ways a real wide or long file
has such rows: a metric that starts late, stops early, has scattered blanks or a blank
stretch, in one node of several. The generator knows the steps with some but not all of
a node's metrics; ``kizashi detect`` must name that node and that count on stderr, leave
those steps' scores empty in ``--out`` (nothing made up), and say nothing for a complete
file.
"""

from __future__ import annotations

import csv
import math
import re

import pytest
from click.testing import CliRunner

from kizashi.cli.detect_coverage import partial_steps, unscored_notes
from kizashi.cli.main import cli
from kizashi.data.frame import SeriesFrame

START_S = 1_704_067_200
STEP_S = 60
N = 240
METRICS = ("cpu", "mem", "gpu")


def _value(i: int, j: int) -> float:
    return round(50.0 + 5.0 * math.sin(i / (7.0 + j)), 3)


#: which (row, metric index) cells are blank, for the affected node
PATTERNS = {
    "complete": lambda i, j: False,
    "starts-late": lambda i, j: j == 2 and i < 90,
    "stops-early": lambda i, j: j == 1 and i >= 200,
    "scattered-blanks": lambda i, j: j == 0 and i % 17 == 5,
    "blank-stretch": lambda i, j: j == 2 and 100 <= i < 130,
    "two-metrics": lambda i, j: (j == 2 and i < 30) or (j == 1 and i >= 230),
    "all-blank-rows": lambda i, j: 50 <= i < 60,  # every metric missing: not partial
}


def _partial_count(blank) -> int:
    return sum(1 for i in range(N)
               if 0 < sum(blank(i, j) for j in range(len(METRICS))) < len(METRICS))


def _write(path, layout: str, blank) -> None:
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        if layout == "wide":
            out.writerow(["timestamp", *METRICS])
            for i in range(N):
                out.writerow([START_S + i * STEP_S, *("" if blank(i, j) else _value(i, j)
                                                      for j in range(len(METRICS)))])
        else:  # two nodes, only n2 affected
            out.writerow(["timestamp", "entity", "metric", "value"])
            for i in range(N):
                for node in ("n1", "n2"):
                    for j, metric in enumerate(METRICS):
                        missing = node == "n2" and blank(i, j)
                        out.writerow([START_S + i * STEP_S, node, metric,
                                      "" if missing else _value(i, j)])


@pytest.mark.parametrize("layout", ["wide", "long"])
@pytest.mark.parametrize("pattern", list(PATTERNS))
def test_steps_left_unscored_by_a_missing_metric_are_named(tmp_path, layout, pattern):
    blank = PATTERNS[pattern]
    path, out = tmp_path / "nodes.csv", tmp_path / "scores.csv"
    _write(path, layout, blank)
    result = CliRunner().invoke(cli, ["detect", str(path), "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    expected = _partial_count(blank)
    node = "nodes" if layout == "wide" else "n2"
    notes = [line for line in result.stderr.splitlines() if "get no ensemble score" in line]
    if expected == 0:
        assert notes == []
        return
    assert len(notes) == 1, result.stderr
    assert re.match(rf"warning: {node}: {expected} of {N} time steps get no", notes[0])
    for j, metric in enumerate(METRICS):  # each metric to blame, with its own count
        count = sum(1 for i in range(N) if blank(i, j)
                    and 0 < sum(blank(i, k) for k in range(len(METRICS))) < len(METRICS))
        assert (f"'{metric}' at {count}" in notes[0]) == (count > 0)
    with out.open() as handle:  # those steps have no score in the file
        rows = [r for r in csv.DictReader(handle) if r["entity"] == node]
    assert len(rows) == N
    for i, row in enumerate(rows):
        if 0 < sum(blank(i, j) for j in range(len(METRICS))) < len(METRICS):
            assert row["score"] == "", (i, row)


def test_many_nodes_are_summed_up_after_the_first_few():
    n_nodes, n_t = 9, 4
    values = [[1.0, math.nan] * n_nodes if i < 3 else [1.0, 2.0] * n_nodes for i in range(n_t)]
    entities = [f"n{k}" for k in range(n_nodes) for _ in range(2)]
    frame = SeriesFrame.from_arrays([i * 60.0 for i in range(n_t)], values,
                                    entities=entities, metrics=["cpu", "gpu"] * n_nodes)
    assert partial_steps(frame) == {f"n{k}": (3, [("gpu", 3)]) for k in range(n_nodes)}
    notes = unscored_notes(frame, "ensemble")
    assert len(notes) == 6
    assert notes[-1].startswith(f"warning: and {n_nodes - 5} more node(s) with "
                                f"{3 * (n_nodes - 5)} step(s)")
