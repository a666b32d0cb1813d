"""score_frame: the one batch path (training rule, warm-up, multivariate groups, quantiles)."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.data.synthetic import spikes
from kizashi.engine import batch
from kizashi.engine.batch import incidents, score_frame


def test_blocks_equal_one_pass(monkeypatch):
    values, labels = spikes(n=900, n_series=2, seed=5, magnitude=40.0)
    frame = SeriesFrame.from_arrays(np.arange(900) * 60.0, values, labels=labels)
    monkeypatch.setattr("kizashi.engine.stream.BLOCK", 64)
    blocked = score_frame(frame, "threshold", {"window": 100})
    monkeypatch.setattr("kizashi.engine.stream.BLOCK", 10_000)
    whole = score_frame(frame, "threshold", {"window": 100})
    np.testing.assert_array_equal(blocked.scores, whole.scores)
    np.testing.assert_array_equal(blocked.flags, whole.flags)
    assert blocked.cutoffs.tolist() == [3.0, 3.0]  # the detector's own k
    assert blocked.calibration == "none"
    assert (blocked.flags & labels).sum() >= 8


def test_long_output_has_one_row_per_point_and_empty_warmup_scores():
    frame = SeriesFrame.from_arrays(np.arange(50) * 60.0, np.random.default_rng(0).normal(
        size=(50, 3)))
    result = score_frame(frame, "quantile_threshold", {"window": 20, "min_periods": 5})
    long = result.to_long()
    assert len(long) == 150 and set(long.detector) == {"quantile_threshold"}
    assert long.score[:15].isna().all()            # 5 warm-up steps × 3 series: no score
    assert result.learning[:5].all() and not result.learning[5:].any()


def test_training_rows_are_not_rescored():
    rng = np.random.default_rng(3)
    frame = SeriesFrame.from_arrays(np.arange(200) * 60.0, rng.normal(size=(200, 2)),
                                    entities=["n1", "n1"], metrics=["a", "b"])
    result = score_frame(frame, "autoencoder", {"window": 4, "hidden": 4, "epochs": 1,
                                                "device": "cpu"}) \
        if _has_torch() else None
    if result is None:
        pytest.skip("torch is not installed")
    fitted = int(batch.FIT_FRACTION * 200)
    assert np.isnan(result.scores[:fitted]).all() and result.learning[:fitted].all()
    assert np.isfinite(result.scores[fitted + 10:]).all()


def _has_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def test_incidents_are_runs_of_active_steps():
    active = np.zeros((10, 2), dtype=bool)
    active[2:5, 0] = True
    active[7:, 0] = True
    active[1, 1] = True
    found = [(i.series, i.start, i.end) for i in incidents(active)]
    assert found == [(1, 1, 1), (0, 2, 4), (0, 7, 9)]


def test_quantile_cutoff_flags_about_the_quantile():
    rng = np.random.default_rng(7)
    frame = SeriesFrame.from_arrays(np.arange(3000) * 60.0, rng.normal(size=(3000, 1)))
    result = score_frame(frame, "threshold", {"window": 200}, decision={"cutoff": "q0.99",
                                                                        "protect": False})
    rate = result.flags[~np.isnan(result.levels)].mean()
    assert 0.005 < rate < 0.02


def test_the_band_each_step_was_judged_against_leaves_protected_steps_out():
    """``bands=True``: a series alternating 0, 1 has mean 0.5 and σ 0.5 over any even window,
    so its band is 0.5 ± 3·0.5 = [−1, 2]. A shift to 20 is protected from its first step (it
    is above the cutoff), so the band stays [−1, 2] all through it, where the detector's own
    typed output, learning every value, widens."""
    from kizashi.detectors.registry import create

    values = np.r_[np.tile([0.0, 1.0], 50), np.full(30, 20.0), np.tile([0.0, 1.0], 20)]
    frame = SeriesFrame.from_arrays(np.arange(values.size) * 60.0, values)
    params = {"window": 50, "min_periods": 10}
    result = score_frame(frame, "threshold", params, bands=True)
    np.testing.assert_allclose(result.upper[50:131, 0], 2.0, atol=1e-9)
    np.testing.assert_allclose(result.lower[50:131, 0], -1.0, atol=1e-9)
    assert np.isnan(result.upper[:10, 0]).all()                    # still learning
    assert result.flags[105:130, 0].all()
    learning_everything = create("threshold", **params).explain(values[:, None])
    assert learning_everything.upper[110, 0] > 10.0
    assert score_frame(frame, "threshold", params).upper is None    # only when asked


@pytest.mark.parametrize("name", ["threshold", "static_threshold", "range_rule",
                                  "seasonal_threshold"])
@pytest.mark.parametrize("chunk", [7, 8192])
def test_scores_are_empty_for_each_series_first_observed_warmup_steps(monkeypatch, name, chunk):
    """Gaps inside the warm-up of some series (none in others): a series' raw score is
    empty until it has been observed ``n_warmup`` times, whichever rows those are; after
    that it is the stream's own score. Chunks of 7 rows (growing) or one chunk."""
    from kizashi.detectors.registry import create
    from kizashi.engine.decider import Decider
    from kizashi.engine.stream import DetectorStream

    params = {"threshold": {"window": 20, "min_periods": 6},
              "static_threshold": {"low": -2.0, "high": 2.0},
              "range_rule": {"min_periods": 4},
              "seasonal_threshold": {"period": "20m", "slot": "5m"}}[name]
    rng = np.random.default_rng(len(name))
    values = rng.normal(size=(120, 3))
    values[[0, 2, 3, 9], 0] = np.nan     # gaps in series 0's warm-up
    values[:, 2][rng.random(120) < 0.2] = np.nan
    t = np.arange(120) * 60.0
    monkeypatch.setattr(batch, "CHUNK", chunk)
    monkeypatch.setattr(batch, "CHUNK_POINTS", 0)
    # chunks only with a progress bar
    result = score_frame(SeriesFrame.from_arrays(t, values), name, params, progress=chunk < 100)
    detector = create(name, **params)
    reference = DetectorStream(detector, Decider.for_detector(detector)).process(values, t)
    warmup = int(create(name, **params).n_warmup)
    observed = ~np.isnan(values)
    seen = np.cumsum(observed, axis=0)   # observations up to and including each row
    want = np.where(observed & (seen > warmup), reference.scores, np.nan)
    np.testing.assert_array_equal(result.scores, want)
    np.testing.assert_array_equal(result.flags, reference.decision.active)
    np.testing.assert_array_equal(result.learning, reference.decision.learning)


@pytest.mark.parametrize("name", ["threshold", "changefinder", "ensemble", "autoencoder"])
def test_the_memory_layout_of_a_frame_changes_no_result(name):
    # a frame taken out of another (a Dask partition, `SeriesFrame.take`) holds its values
    # column-major; the engine must score it exactly as the same values held row-major
    params = {"window": 4, "hidden": 8, "latent": 2, "epochs": 2} if name == "autoencoder" \
        else {}
    if name == "autoencoder":
        pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    values = 10 + np.sin(np.arange(400)[:, None] / 15.0 + np.arange(3)) \
        + rng.normal(0, 0.3, (400, 3))
    values[250:260, 1] += 6.0
    frames = [SeriesFrame.from_arrays(np.arange(400) * 60.0, layout(values),
                                      entities=["n1"] * 3, metrics=["a", "b", "c"], name="f")
              for layout in (np.ascontiguousarray, np.asfortranarray)]
    assert frames[0].values.flags["C_CONTIGUOUS"] and not frames[1].values.flags["C_CONTIGUOUS"]
    row_major, column_major = (score_frame(frame, name, params) for frame in frames)
    for field in ("scores", "levels", "flags", "learning"):
        np.testing.assert_array_equal(getattr(column_major, field), getattr(row_major, field),
                                      err_msg=field)
