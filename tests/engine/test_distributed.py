"""Two Dask workers give exactly the scores, decisions and incidents of one process."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.data.frame import SeriesFrame
from kizashi.engine.batch import score_frame

distributed = pytest.importorskip("distributed")

from kizashi.engine.distributed import (  # noqa: E402
    partition_columns,
    score_files_distributed,
    score_frame_distributed,
)


def frame_of(n: int = 900, n_series: int = 7, seed: int = 0) -> SeriesFrame:
    """Noisy seasonal series on 3 entities with shifts, spikes and a gap."""
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None]
    values = 10 + np.sin(t / 15.0 + np.arange(n_series)) + rng.normal(0, 0.3, (n, n_series))
    values[n * 4 // 9: n // 2, min(1, n_series - 1)] += 5.0
    values[n * 7 // 9, min(4, n_series - 1)] -= 9.0
    values[n * 2 // 3: n * 2 // 3 + 20, min(2, n_series - 1)] = np.nan
    entities = [f"node{j % 3}" for j in range(n_series)]
    metrics = [f"m{j}" for j in range(n_series)]
    return SeriesFrame.from_arrays(t[:, 0] * 60.0, values, entities=entities, metrics=metrics,
                                   name="synthetic")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as dask_client:
        yield dask_client


def assert_same(got, expected):
    for field in ("scores", "levels", "cutoffs", "flags", "learning", "values"):
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field),
                                      err_msg=field)
    assert got.entities == expected.entities and got.metrics == expected.metrics
    assert got.incidents == expected.incidents
    assert got.calibration == expected.calibration


CASES = [
    ("threshold", {"window": 60, "min_periods": 10}, {}),
    ("quantile_threshold", {"window": 60, "min_periods": 10}, {"min_steps": 2}),
    ("changefinder", {}, {}),  # likelihood calibration
    ("sst", {"window": 10, "n_columns": 10, "lag": 5, "rank": 2}, {"cutoff": "q0.99"}),
]


@pytest.mark.parametrize(("name", "params", "decision"), CASES)
@pytest.mark.parametrize("partitions", [2, 3, 7])
def test_two_workers_score_exactly_as_one_process(client, name, params, decision, partitions):
    frame = frame_of()
    expected = score_frame(frame, name, params, decision=decision)
    got = score_frame_distributed(frame, name, params, client=client, decision=decision,
                                  partitions=partitions)
    assert_same(got, expected)
    assert expected.incidents, "the data must raise alerts for the comparison to mean much"


@pytest.mark.slow
def test_a_multivariate_detector_keeps_each_entity_whole(client):
    pytest.importorskip("torch")
    frame = frame_of(n=400)
    params = {"window": 4, "hidden": 8, "latent": 2, "epochs": 2}
    expected = score_frame(frame, "autoencoder", params)
    got = score_frame_distributed(frame, "autoencoder", params, client=client, partitions=2)
    assert_same(got, expected)


def test_a_training_file_is_cut_with_the_series(client):
    frame, train = frame_of(seed=1), frame_of(seed=2)
    params = {"window": 60, "min_periods": 10}
    expected = score_frame(frame, "threshold", params, train=train)
    assert_same(score_frame_distributed(frame, "threshold", params, client=client, train=train),
                expected)


def test_many_files_one_task_each(client):
    frames = [frame_of(seed=s) for s in range(3)]
    got = score_files_distributed(frames, "threshold", {"window": 60}, client=client)
    for frame, result in zip(frames, got, strict=True):
        assert_same(result, score_frame(frame, "threshold", {"window": 60}))


@pytest.mark.parametrize("n_series", [1, 2, 5, 13])
@pytest.mark.parametrize("n_parts", [1, 2, 4, 20])
def test_partitions_cover_every_column_once(n_series, n_parts):
    frame = SeriesFrame.from_arrays(np.arange(3.0), np.zeros((3, n_series)),
                                    entities=[f"e{j % 4}" for j in range(n_series)],
                                    metrics=[f"m{j}" for j in range(n_series)])
    for by_entity in (False, True):
        parts = partition_columns(frame, n_parts, by_entity=by_entity)
        assert sorted(j for p in parts for j in p) == list(range(n_series))
        assert 1 <= len(parts) <= n_parts and all(parts)
        if by_entity:
            owners = [{frame.entities[j] for j in p} for p in parts]
            assert sum(len(o) for o in owners) == len(set(frame.entities))


@pytest.mark.slow  # starts two worker processes
def test_detect_cli_on_a_local_cluster_writes_the_same_scores(tmp_path):
    from kizashi.cli.main import cli

    frame = frame_of(n=500, n_series=4)
    long = frame.to_long()
    path = tmp_path / "data.csv"
    long.to_csv(path, index=False)
    runner = CliRunner()
    one = runner.invoke(cli, ["detect", str(path), "-q", "--out", str(tmp_path / "one.csv")])
    assert one.exit_code == 0, one.output
    two = runner.invoke(cli, ["detect", str(path), "-q", "--dask", "local:2",
                              "--out", str(tmp_path / "two.csv")])
    assert two.exit_code == 0, two.output
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "one.csv"),
                                  pd.read_csv(tmp_path / "two.csv"))
    # the same summary (all but the path); the cluster may add warnings of its own (its
    # dashboard's port taken by another cluster), but keeps every warning of the data
    said = [[line for line in run.output.splitlines()[:-1] if not line.startswith("warning:")]
            for run in (one, two)]
    assert said[0] == said[1]
    warned = [{line for line in run.output.splitlines() if line.startswith("warning:")}
              for run in (one, two)]
    assert warned[0] <= warned[1]


def test_detect_cli_names_a_bad_cluster_address(tmp_path):
    from kizashi.cli.main import cli

    path = tmp_path / "data.csv"
    frame_of(n=50, n_series=1).to_long().to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["detect", str(path), "-q", "--dask", "local:x"])
    assert result.exit_code != 0 and "local:N" in result.output
