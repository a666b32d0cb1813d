"""ChangeFinder: paper mode by hand, compat mode against the ``changefinder`` package."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import kizashi
from kizashi.detectors.changepoint.change_finder import ChangeFinder
from kizashi.state import from_json_safe, to_json_safe
from kizashi.streaming.sdar import SDAR


def series(n: int = 1200, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    third = n // 3
    return np.r_[rng.normal(0, 1, third), rng.normal(5, 2, third),
                 rng.normal(1, 0.5, n - 2 * third)]


def test_sdar_ar1_by_hand():
    # r = 0.5, order 1, x = 0, 1, 0, 1. Worked through the paper's recursions:
    # t0: μ=0, C=(0, 0), ω=0, σ²=0.    t1: μ=.5, C=(.125, -.125), ω=-1, x̂=1, σ²=0.
    # t2: μ=.25, C=(.09375, -.15625), ω=-5/3, x̂=-1, σ²=.5.
    # t3 (first score, start = 1 + 1/r = 3): predictive x̂ = .25 + (-5/3)(0 - .25) = 2/3,
    #     log-loss = ½ log(2π·½) + (1 - 2/3)² / (2·½) = ½ log π + 1/9.
    sdar = SDAR(order=1, r=0.5)
    state = sdar.init(1)
    scores = [sdar.step(state, np.array([x]))[0][0] for x in (0.0, 1.0, 0.0)]
    assert np.all(np.isnan(scores))
    assert state["mean"][0] == 0.25
    np.testing.assert_allclose(state["cov"][:, 0], [0.09375, -0.15625])
    np.testing.assert_allclose(state["coef"][0, 0], -5.0 / 3.0)
    assert state["var"][0] == 0.5
    score, valid = sdar.step(state, np.array([1.0]))
    assert valid[0]
    assert score[0] == pytest.approx(0.5 * math.log(math.pi) + 1.0 / 9.0, rel=1e-12)
    assert state["mean"][0] == 0.625


def reference_paper(x: np.ndarray, r: float, order: int, smooth: int, smooth2: int) -> np.ndarray:
    """A plain scalar transcription of the paper's two-stage algorithm (our start rule)."""

    def sdar_scores(values):
        start = 1 + math.ceil(1 / r)
        mu, var = values[0], 0.0
        cov, coef = np.zeros(order + 1), np.zeros(order)
        hist = [values[0]] * order  # most recent first
        out = []
        for t, v in enumerate(values):
            if t >= start:
                pred = mu + sum(coef[i] * (hist[i] - mu) for i in range(order))
                s2 = max(var, 1e-12 * (1 + mu * mu))
                out.append(0.5 * math.log(2 * math.pi * s2) + (v - pred) ** 2 / (2 * s2))
            else:
                out.append(None)
            mu = (1 - r) * mu + r * v
            lagged = [v, *hist]
            cov = np.array([(1 - r) * cov[j] + r * (v - mu) * (lagged[j] - mu)
                            for j in range(order + 1)])
            toeplitz = np.array([[cov[abs(i - j)] for j in range(order)] for i in range(order)])
            coef = np.linalg.solve(toeplitz, cov[1:]) if cov[0] > 0 else np.zeros(order)
            xhat = mu + sum(coef[i] * (hist[i] - mu) for i in range(order))
            var = (1 - r) * var + r * (v - xhat) ** 2
            hist = [v, *hist[:-1]]
        return out

    def smoothed(scores, size):
        kept, out = [], []
        for s in scores:
            if s is None:
                out.append(None)
                continue
            kept = [*kept, s][-size:]
            out.append(sum(kept) / len(kept))
        return out

    first = smoothed(sdar_scores(x), smooth)
    valid = [v for v in first if v is not None]
    second = smoothed(sdar_scores(np.array(valid)), smooth2)
    final, it = [], iter(second)
    for v in first:
        final.append(0.0 if v is None else next(it))
    return np.array([0.0 if v is None else v for v in final])


def test_paper_mode_matches_scalar_reference():
    x = series(600)
    detector = ChangeFinder(r=0.05, order=1, smooth=5, smooth2=3)
    expected = reference_paper(x, 0.05, 1, 5, 3)
    expected[: detector.n_warmup] = 0.0
    np.testing.assert_allclose(detector.score(x), expected, rtol=1e-8, atol=1e-10)


def test_paper_mode_finds_the_change():
    x = series(1200)
    scores = kizashi.detector("changefinder", r=0.02, order=2, smooth=7).score(x)
    assert 400 <= int(np.argmax(scores)) < 440


@pytest.mark.parametrize("order,smooth,r", [(1, 7, 0.01), (2, 7, 0.05), (3, 5, 0.1)])
def test_compat_matches_package(order, smooth, r):
    changefinder = pytest.importorskip(
        "changefinder",
        reason="the reference package is a test-only dependency: pip install changefinder",
    )
    x = series(1500)
    reference = changefinder.ChangeFinder(r=r, order=order, smooth=smooth)
    start = (0.3, 0.7, 0.2, 0.9)  # μ, σ² of stage 1 and stage 2 (the package draws them)
    reference._sdar_first._mu, reference._sdar_first._sigma = start[:2]
    reference._sdar_second._mu, reference._sdar_second._sigma = start[2:]
    expected = np.array([reference.update(v) for v in x])

    detector = ChangeFinder(r=r, order=order, smooth=smooth, compat="changefinder").reset(1)
    state = detector.state_dict()
    state["state"]["stage1"]["mean"][:], state["state"]["stage1"]["var"][:] = start[:2]
    state["state"]["stage2"]["mean"][:], state["state"]["stage2"]["var"][:] = start[2:]
    detector.load_state_dict(state)
    np.testing.assert_allclose(detector.score(x), expected, rtol=1e-9, atol=1e-6)
    streamed = np.array([detector.update(v) for v in x])
    np.testing.assert_allclose(streamed, expected, rtol=1e-9, atol=1e-6)


@pytest.mark.parametrize("compat", [None, "changefinder"])
def test_batch_streaming_round_trip_with_gaps(compat):
    rng = np.random.default_rng(2)
    values = np.cumsum(rng.normal(size=(400, 3)), axis=0)
    values[rng.random(values.shape) < 0.05] = np.nan
    detector = ChangeFinder(r=0.05, order=2, smooth=4, compat=compat).fit(values[:150])
    batch = detector.score(values[150:])
    saved = json.dumps(to_json_safe(detector.state_dict()))
    streamed = np.array([detector.update(row) for row in values[150:]])
    np.testing.assert_allclose(streamed, batch, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.array_equal(np.isnan(batch), np.isnan(values[150:]))
    resumed = ChangeFinder(r=0.05, order=2, smooth=4, compat=compat)
    resumed.load_state_dict(from_json_safe(json.loads(saved)))
    again = np.array([resumed.update(row) for row in values[150:]])
    np.testing.assert_array_equal(again, streamed)


def test_one_update_advances_every_series_independently():
    rng = np.random.default_rng(3)
    values = rng.normal(size=(300, 4))
    together = ChangeFinder(r=0.05).score(values)
    for column in range(4):
        alone = ChangeFinder(r=0.05).score(values[:, column])
        np.testing.assert_allclose(together[:, column], alone, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("params", [{"r": 0.0}, {"r": 1.5}, {"order": 0}, {"smooth": 0},
                                    {"smooth2": 0}, {"compat": "statsmodels"}])
def test_bad_parameters(params):
    with pytest.raises(ValueError, match="changefinder"):
        ChangeFinder(**params).score(np.arange(50.0))


@pytest.mark.parametrize("compat", [None, "changefinder"])
def test_numpy_block_path_matches_compiled_path(monkeypatch, compat):
    from kizashi.detectors.changepoint import change_finder_kernel

    rng = np.random.default_rng(5)
    values = np.cumsum(rng.normal(size=(500, 3)), axis=0)
    values[rng.random(values.shape) < 0.05] = np.nan
    detector = ChangeFinder(r=0.05, order=2, smooth=4, compat=compat).fit(values[:100])
    default = detector.score(values[100:])
    monkeypatch.setattr(change_finder_kernel, "HAVE_NUMBA", False)
    numpy_path = detector.score(values[100:])
    np.testing.assert_allclose(numpy_path, default, rtol=1e-9, atol=1e-12, equal_nan=True)
    streamed = np.array([detector.update(row) for row in values[100:]])
    np.testing.assert_allclose(streamed, numpy_path, rtol=1e-9, atol=1e-12, equal_nan=True)
