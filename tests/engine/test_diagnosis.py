"""Diagnosis of a batch run: causes from either kind of detector, per row and per incident."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.engine.batch import score_frame
from kizashi.engine.diagnosis import diagnose, row_causes

METRICS = ("cpu", "mem", "io", "net")


def frame_with(broken: dict[str, list[int]], n: int = 900, nodes: int = 3) -> SeriesFrame:
    rng = np.random.default_rng(7)
    t = np.arange(n)
    columns, entities, metrics = [], [], []
    for i in range(nodes):
        base = np.sin(2 * np.pi * t / 60 + i)
        for k, metric in enumerate(METRICS):
            columns.append(base * (k + 1) + rng.normal(0, 0.1, n))
            entities.append(f"n{i}")
            metrics.append(metric)
    values = np.column_stack(columns)
    for node, rows in broken.items():
        i, metric = node.split("/")
        values[rows, int(i) * len(METRICS) + METRICS.index(metric)] += 20.0
    stamps = (t * 60).astype("datetime64[s]").astype("datetime64[ns]")
    return SeriesFrame(stamps, values, tuple(entities), tuple(metrics))


def test_univariate_causes_name_the_broken_metric_on_each_row():
    frame = frame_with({"1/io": list(range(700, 720))})
    result = score_frame(frame, "threshold", {"window": 200, "k": 5.0})
    causes = row_causes(result, frame)
    flagged = np.argwhere(result.flags)
    assert flagged.size
    for row, column in flagged:
        assert causes[row, column].split(" ")[0] == result.metrics[column]
    assert (causes[~result.flags] == "").all()
    found = diagnose(result, frame)
    assert [d.summary for d in found][:1] == ["io on n1"]
    assert found[0].causes[0][0] == "io" and found[0].nodes == []


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="needs torch")
def test_multivariate_attribution_is_kept_and_ranks_causes():
    frame = frame_with({"2/mem": list(range(800, 815))})
    params = {"window": 4, "hidden": 16, "latent": 3, "epochs": 8, "device": "cpu"}
    plain = score_frame(frame, "autoencoder", params)
    assert plain.attribution is None
    result = score_frame(frame, "autoencoder", params, explain=True)
    np.testing.assert_array_equal(result.scores, plain.scores)   # explaining changes nothing
    assert result.attribution.shape == frame.values.shape
    assert np.isnan(result.attribution[:270]).all()                # the fitted 30 %
    n2 = [j for j, e in enumerate(frame.entities) if e == "n2"]
    top = np.nanargmax(result.attribution[800:815][:, n2], axis=1)
    assert (np.asarray(frame.metrics)[np.asarray(n2)[top]] == "mem").mean() > 0.8
    found = [d for d in diagnose(result, frame) if 800 <= d.group.start <= 815]
    assert found and found[0].group.entities == ("n2",) and found[0].causes[0][0] == "mem"
    assert found[0].summary.startswith("mem and ") and found[0].summary.endswith(" on n2")
    causes = row_causes(result, frame)
    fired = np.flatnonzero(result.flags[800:815, 2])
    assert fired.size and all(causes[800 + r, 2].startswith("mem ") for r in fired)
