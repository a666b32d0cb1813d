"""``kizashi detect --explain / --incidents / --group-by / --peers-by``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.detect import detect

N, NODES = 800, 6


@pytest.fixture
def cluster(tmp_path):
    rng = np.random.default_rng(0)
    stamps = pd.date_range("2026-01-01", periods=N, freq="1min")
    rows = []
    for i in range(NODES):
        cpu = 50 + rng.normal(0, 1, N)
        lat = 3 + rng.normal(0, 0.1, N)
        lat[600:615] += 5.0                       # every node's latency at once
        if i == 4:
            cpu[300:330] += 12.0                  # one node's CPU, against its peers
        for metric, values in (("cpu_util", cpu), ("gpfs_latency", lat)):
            rows.append(pd.DataFrame({"timestamp": stamps, "entity": f"n{i}",
                                      "metric": metric, "value": values}))
    data = tmp_path / "cluster.csv"
    pd.concat(rows).to_csv(data, index=False)
    racks = tmp_path / "racks.csv"
    pd.DataFrame({"entity": [f"n{i}" for i in range(NODES)],
                  "rack": ["a"] * 3 + ["b"] * 3}).to_csv(racks, index=False)
    return data, racks


def run(*args):
    result = CliRunner().invoke(detect, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result.output


def test_explain_groups_the_cluster_wide_event_and_names_causes(cluster, tmp_path):
    data, _ = cluster
    out, incidents = tmp_path / "scores.csv", tmp_path / "incidents.csv"
    text = run(data, "-d", "threshold", "-p", "window=200", "-p", "k=6", "--min-steps", "2",
               "--explain", "--incidents", incidents, "--out", out, "-q")
    table = pd.read_csv(incidents)
    hang = table[table.summary == f"gpfs_latency on {NODES}/{NODES} nodes"]
    assert len(hang) == 1 and hang.members.iloc[0] == NODES
    assert hang.causes.iloc[0].startswith("gpfs_latency ")
    assert hang.type.iloc[0] == "level_shift"
    assert "gpfs_latency on 6/6 nodes  [level_shift]" in text
    scores = pd.read_csv(out, keep_default_na=False)
    flagged = scores[(scores.is_anomaly.astype(str) == "True")]
    assert (flagged.causes != "").all()
    at_hang = flagged[flagged.metric == "gpfs_latency"]
    assert at_hang.causes.str.startswith("gpfs_latency ").all()
    assert (scores[scores.is_anomaly.astype(str) == "False"].causes == "").all()


def test_group_by_rack_splits_the_event(cluster, tmp_path):
    data, racks = cluster
    incidents = tmp_path / "incidents.csv"
    run(data, "-d", "threshold", "-p", "window=200", "-p", "k=6", "--min-steps", "2",
        "--incidents", incidents, "--group-by", "rack", "--entity-labels", racks, "-q")
    table = pd.read_csv(incidents)
    hang = table[table.summary.str.startswith("gpfs_latency on 3/3 nodes")]
    assert sorted(hang["rack"]) == ["a", "b"]


def test_peers_detector_flags_the_odd_node(cluster, tmp_path):
    data, racks = cluster
    out = tmp_path / "peers.csv"
    run(data, "--detector", "peers", "--peers-by", "rack", "--entity-labels", racks,
        "--out", out, "-q")
    scores = pd.read_csv(out)
    flagged = scores[scores.is_anomaly]
    odd = flagged[(flagged.entity == "n4") & (flagged.metric == "cpu_util")]
    assert len(odd) >= 20
    others = flagged[~((flagged.entity == "n4") & (flagged.metric == "cpu_util"))]
    assert len(others) < 0.005 * N * 2 * NODES   # 3 peers a rack: a few stray flags


def test_unknown_label_is_one_line_error(cluster):
    data, racks = cluster
    result = CliRunner().invoke(detect, [str(data), "--detector", "peers", "--peers-by", "job",
                                         "--entity-labels", str(racks)])
    assert result.exit_code == 1 and "--peers-by job" in result.output
    assert "Traceback" not in result.output


def test_explain_with_a_training_file_names_the_metric_that_moved(tmp_path):
    # the default detector fitted on --train judges each node by its fixed reference, and
    # the causes are each metric's deviation from its training rows
    rng = np.random.default_rng(3)

    def node_file(name, n, shift):
        stamps = pd.date_range("2026-01-01", periods=n, freq="1min")
        values = {"cpu_util": 50 + rng.normal(0, 5, n), "mem_used": 30 + rng.normal(0, 1, n),
                  "gpfs_latency": 3 + rng.normal(0, 0.1, n)}
        if shift:
            values["gpfs_latency"][300:400] += 2.0
        pd.concat(pd.DataFrame({"timestamp": stamps, "entity": "n1", "metric": metric,
                                "value": series}) for metric, series in values.items()
                  ).to_csv(tmp_path / name, index=False)
        return tmp_path / name

    train, test = node_file("train.csv", 3000, False), node_file("test.csv", 600, True)
    out = tmp_path / "scores.csv"
    run(test, "--train", train, "--explain", "--out", out, "-q")
    scores = pd.read_csv(out, keep_default_na=False)
    flagged = scores[scores.is_anomaly.astype(str) == "True"]
    assert len(flagged) > 0
    assert flagged.causes.str.startswith("gpfs_latency ").all()


QUIET_FILES = {  # files whose every step stays under the cutoff: no incident at all
    "constant": lambda i: 42.0,
    "short": None,  # 20 rows: every step learning
    "alternating-1e300": lambda i: 1e300 if i % 2 else -1e300,
    "all-missing": lambda i: float("nan"),
}


@pytest.mark.parametrize("grouped", [False, True])
@pytest.mark.parametrize("family", sorted(QUIET_FILES))
def test_incidents_file_without_incidents_is_a_header(tmp_path, family, grouped):
    """No incident still writes a table (its header, no rows), which reads back."""
    value = QUIET_FILES[family] or (lambda i: 50.0 + i % 3)
    n = 20 if family == "short" else 300
    stamps = 1_704_067_200 + 60 * np.arange(n)
    rows = [{"timestamp": t, "entity": e, "metric": "cpu", "value": value(i)}
            for i, t in enumerate(stamps) for e in ("n1", "n2")]
    data = tmp_path / "quiet.csv"
    pd.DataFrame(rows).to_csv(data, index=False)
    incidents = tmp_path / "incidents.csv"
    extra = []
    if grouped:
        racks = tmp_path / "racks.csv"
        pd.DataFrame({"entity": ["n1", "n2"], "rack": ["a", "b"]}).to_csv(racks, index=False)
        extra = ["--group-by", "rack", "--entity-labels", racks]
    result = CliRunner().invoke(detect, [str(a) for a in (data, "-d", "threshold",
                                                          "--incidents", incidents, "-q",
                                                          *extra)])
    assert result.exit_code == 0, result.output
    table = pd.read_csv(incidents)
    assert len(table) == 0
    assert {"start", "end", "summary", "causes", "members"} <= set(table.columns)
    assert ("rack" in table.columns) == grouped


@pytest.mark.parametrize("key", ["job", "Rack", "rack ", "entity"])
def test_group_by_a_label_the_file_lacks_is_one_line_error(cluster, key):
    """A key no column names would put every node in one group, silently."""
    data, racks = cluster
    result = CliRunner().invoke(detect, [str(data), "-q", "-d", "threshold", "--group-by", key,
                                         "--entity-labels", str(racks)])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: --group-by {key}: "), lines
    assert "has no column" in lines[0] and "rack" in lines[0]


@pytest.mark.parametrize("listed", [6, 5, 1, 0])
def test_entities_missing_from_the_labels_are_named(cluster, tmp_path, listed):
    data, _ = cluster
    labels = tmp_path / "some-racks.csv"
    pd.DataFrame({"entity": [f"n{i}" for i in range(listed)] + ["elsewhere"],
                  "rack": ["a"] * (listed + 1)}).to_csv(labels, index=False)
    result = CliRunner().invoke(detect, [str(data), "-q", "-d", "threshold", "--group-by",
                                         "rack", "--entity-labels", str(labels)])
    assert result.exit_code == 0, result.output
    notes = [line for line in result.stderr.splitlines() if "does not list" in line]
    if listed == NODES:
        assert notes == []
    else:
        missing = [f"n{i}" for i in range(listed, NODES)]
        assert notes == [f"warning: {labels} does not list {len(missing)} of the {NODES} "
                         f"entities scored ({', '.join(missing[:5])}"
                         + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
                         + "); they are grouped without a label"]
