"""Singular Spectrum Transformation: peaks where it should, krylov ≈ exact, solvers' contracts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import kizashi
from kizashi.detectors.changepoint.singular_spectrum import (
    KEK_THRESHOLD,
    SingularSpectrumTransform,
)
from kizashi.state import from_json_safe, to_json_safe


def frequency_change(n: int = 600, at: int = 300) -> np.ndarray:
    t = np.arange(n)
    return np.where(t < at, np.sin(2 * np.pi * t / 40), np.sin(2 * np.pi * t / 12))


def test_exact_peaks_at_a_frequency_change():
    detector = SingularSpectrumTransform(window=20, rank=2, solver="exact")
    scores = detector.score(frequency_change())
    segment = 20 + 20 - 1
    assert 300 <= int(np.argmax(scores)) < 300 + segment
    assert scores.max() > 0.5
    # a pure sinusoid stays in its own subspace: no change before the switch
    assert np.all(scores[detector.n_warmup: 300] < 0.01)


def test_exact_peaks_at_a_level_shift():
    rng = np.random.default_rng(0)
    t = np.arange(600)
    values = np.sin(2 * np.pi * t / 25) + rng.normal(0, 0.05, 600) + np.where(t < 350, 0.0, 3.0)
    scores = SingularSpectrumTransform(window=20, rank=3, solver="exact").score(values)
    assert 350 <= int(np.argmax(scores)) < 350 + 39
    assert scores[350:389].max() > 10 * np.percentile(scores[100:340], 95)


def structured(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    period = np.where(t < n // 2, 30.0, 17.0)
    return 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, n) + 0.002 * t


@pytest.mark.parametrize("solver", ["krylov", "ide-tsuda"])
def test_krylov_solvers_track_exact(solver):
    values = structured()
    exact = SingularSpectrumTransform(solver="exact").score(values)
    krylov = kizashi.detector("sst", window=50, solver=solver).score(values)
    ready = slice(SingularSpectrumTransform().n_warmup, None)
    assert np.corrcoef(exact[ready], krylov[ready])[0, 1] > 0.99
    assert np.max(np.abs(exact - krylov)) < 0.1


def test_krylov_keeps_its_precision_on_a_large_level():
    # the Gram matrix is updated from values minus a stored center: a level of 1e6
    # with unit-sized patterns must not drown them in rounding (de-meaned scores
    # do not depend on the level, so both runs must agree)
    values = structured(1500)
    params = {"window": 20, "rank": 3, "solver": "krylov"}
    low = SingularSpectrumTransform(**params).score(values)
    high = SingularSpectrumTransform(**params).score(values + 1e6)
    ready = slice(SingularSpectrumTransform(**params).n_warmup, None)
    assert np.abs(high[ready] - low[ready]).max() < 1e-3


def test_krylov_takes_as_many_lanczos_steps_as_its_convergence_test_asks():
    values = structured(800)
    calm = SingularSpectrumTransform(window=20, rank=3, lanczos_steps=16)
    calm.update_many(values)
    fixed = SingularSpectrumTransform(window=20, rank=3, lanczos_steps=16, ritz_tolerance=0)
    fixed.update_many(values)
    assert int(fixed.state_["taken"][0]) == 16  # no test: always the most
    assert 3 < int(calm.state_["taken"][0]) < 16
    with pytest.raises(ValueError, match="ritz_tolerance"):
        SingularSpectrumTransform(ritz_tolerance=-1e-3).score(values)


NOISE = {"window": 30, "rank": 4, "noise_steps": 8}  # at most 3·4 + 3 = 15 steps otherwise


def noise_families(n: int = 700) -> dict[str, np.ndarray]:
    """Noise-like series, where the noise stop acts, with the odd inputs SST must survive."""
    rng = np.random.default_rng(7)
    spikes = rng.normal(size=n)
    spikes[rng.integers(0, n, 10)] += 15.0
    gaps = rng.normal(size=n)
    gaps[rng.random(n) < 0.05] = np.nan
    return {"white noise": rng.normal(size=n), "spikes": spikes, "NaN gaps": gaps,
            "constant stretch": np.r_[rng.normal(size=n // 2), np.full(n - n // 2, 3.0)],
            "level shift": rng.normal(size=n) + np.where(np.arange(n) < n // 2, 0.0, 4.0),
            "short": rng.normal(size=100)}


def steps_per_point(detector: SingularSpectrumTransform,
                    values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lanczos steps each point took, and its smallest top Ritz value over its largest."""
    taken, spread = [], []
    for value in values:
        detector.update(np.array([value]))
        taken.append(int(detector.state_["taken"][0]))
        ritz = detector.state_["ritz"][0, 0]
        spread.append(ritz[-1] / ritz[0] if ritz[0] > 0 else 0.0)
    ready = slice(detector.n_warmup, None)
    return np.array(taken[ready]), np.array(spread[ready])


@pytest.mark.slow
@pytest.mark.parametrize("family", list(noise_families()))
def test_noise_stop_caps_the_steps_on_noise_and_still_follows_exact(family):
    values = noise_families()[family]
    exact = SingularSpectrumTransform(solver="exact", **{**NOISE, "noise_steps": None})
    stopped = SingularSpectrumTransform(**NOISE)
    expected, scores = exact.score(values), stopped.score(values)
    assert np.array_equal(np.isnan(scores), np.isnan(values))
    assert np.nanmin(scores) >= 0.0 and np.nanmax(scores) <= 1.0
    ready = slice(stopped.n_warmup, None)
    finite = np.isfinite(values[ready])
    if finite.sum() > 200:  # (the short series has too few scores for a correlation)
        r = np.corrcoef(expected[ready][finite], scores[ready][finite])[0, 1]
        assert r > 0.7
    # when every window of full rank counts as noise-like, none of them runs past the
    # first test at or after noise_steps (tests come every 3 steps): at most
    # noise_steps + 2 (a window of lower rank, half constant, is not noise)
    always = SingularSpectrumTransform(**{**NOISE, "noise_ratio": 1e-9})
    full = SingularSpectrumTransform(**{**NOISE, "noise_steps": None})
    (capped, spread), (free, _) = steps_per_point(always, values), steps_per_point(full, values)
    assert capped[spread > 1e-3].max(initial=0) <= NOISE["noise_steps"] + 2
    if family != "short":
        assert free.mean() > capped.mean()


def test_noise_stop_leaves_structured_series_alone():
    # a sinusoid well above its noise: θ_rank is far below θ_1 / 2 in every window,
    # so the stop never acts and the scores are the default's, bit for bit
    values = structured(1200)
    default = SingularSpectrumTransform(window=30, rank=4).score(values)
    np.testing.assert_array_equal(SingularSpectrumTransform(**NOISE).score(values), default)


def test_noise_stop_resumes_mid_stream_as_if_unbroken():
    rng = np.random.default_rng(9)
    values = rng.normal(size=(400, 2))
    values[rng.random(values.shape) < 0.03] = np.nan
    unbroken = SingularSpectrumTransform(**NOISE)
    expected = np.array([unbroken.update(row) for row in values])
    first = SingularSpectrumTransform(**NOISE)
    head = np.array([first.update(row) for row in values[:230]])
    saved = json.dumps(to_json_safe(first.state_dict()))
    resumed = SingularSpectrumTransform(**NOISE).load_state_dict(from_json_safe(json.loads(saved)))
    tail = np.array([resumed.update(row) for row in values[230:]])
    assert np.nanmax(expected[230:]) > 0.1  # scores, not the warm-up's zeros
    np.testing.assert_array_equal(np.r_[head, tail], expected)


def test_krylov_converges_to_exact_with_a_tight_tolerance():
    # the convergence test is what trades accuracy for speed: tightened, it reaches
    # the exact subspaces even for noise-level directions (rank 3 here takes one)
    values = structured(1500)
    params = {"window": 20, "rank": 3}
    exact = SingularSpectrumTransform(solver="exact", **params).score(values)
    ready = slice(SingularSpectrumTransform(**params).n_warmup, None)
    loose, tight = (SingularSpectrumTransform(solver="krylov", ritz_tolerance=tol, **params)
                    .score(values)[ready] for tol in (2e-3, 1e-5))
    assert np.corrcoef(exact[ready], tight)[0, 1] > 0.999
    assert np.abs(exact[ready] - tight).max() < np.abs(exact[ready] - loose).max()


@pytest.mark.parametrize("solver,statistic", [("exact", "beta"), ("exact", "angle"),
                                              ("krylov", "beta"), ("ide-tsuda", "beta")])
@pytest.mark.parametrize("normalize", ["demean", "none"])
def test_batch_streaming_round_trip_with_gaps(solver, statistic, normalize):
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=(160, 3)), axis=0)
    values[rng.random(values.shape) < 0.05] = np.nan
    values[40:60, 1] = 7.0  # a flat stretch
    params = {"window": 6, "lag": 3, "rank": 2, "solver": solver, "statistic": statistic,
              "normalize": normalize}
    detector = SingularSpectrumTransform(**params).fit(values[:60])
    batch = detector.score(values[60:])
    saved = json.dumps(to_json_safe(detector.state_dict()))
    streamed = np.array([detector.update(row) for row in values[60:]])
    np.testing.assert_allclose(streamed, batch, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert np.array_equal(np.isnan(batch), np.isnan(values[60:]))
    assert np.nanmin(batch) >= 0.0 and np.nanmax(batch) <= 1.0
    resumed = SingularSpectrumTransform(**params).load_state_dict(from_json_safe(json.loads(saved)))
    np.testing.assert_array_equal(np.array([resumed.update(row) for row in values[60:]]), streamed)


def test_kek_preset_is_banpei_sst():
    preset = SingularSpectrumTransform.kek_compatible()
    assert preset.default_threshold == KEK_THRESHOLD == 0.10
    assert SingularSpectrumTransform().default_threshold is None
    banpei = pytest.importorskip(
        "banpei", reason="optional comparison: pip install --no-deps banpei")
    rng = np.random.default_rng(4)
    values = np.r_[rng.normal(10, 1, 300), rng.normal(10, 1, 300) + 3 * np.sin(np.arange(300))]
    expected = banpei.SST(w=50).detect(values)
    scores = preset.score(values)
    # banpei's score at t belongs to the test segment ending at t - 2 + L (L = 12)
    t = np.arange(75, len(values) - 11)
    np.testing.assert_allclose(scores[t - 2 + 12], expected[t], atol=1e-8)


@pytest.mark.parametrize("params", [{"window": 1}, {"rank": 60}, {"solver": "svd"},
                                    {"statistic": "angle"}, {"normalize": "zscore"},
                                    {"lanczos_steps": 99}, {"power_iterations": 0},
                                    {"noise_steps": 5}, {"noise_steps": 51},
                                    {"noise_ratio": 0.0}, {"noise_ratio": 1.5}])
def test_bad_parameters(params):
    with pytest.raises(ValueError, match="sst"):
        SingularSpectrumTransform(**params).score(np.arange(200.0))


def test_numpy_ide_tsuda_path_matches_compiled_path(monkeypatch):
    from kizashi.detectors.changepoint import krylov_kernel

    rng = np.random.default_rng(6)
    values = np.cumsum(rng.normal(size=(300, 2)), axis=0) + 3 * np.sin(np.arange(300) / 4)[:, None]
    values[rng.random(values.shape) < 0.03] = np.nan
    detector = SingularSpectrumTransform(window=12, rank=3, solver="ide-tsuda").fit(values[:100])
    default = detector.score(values[100:])
    monkeypatch.setattr(krylov_kernel, "HAVE_NUMBA", False)
    numpy_path = detector.score(values[100:])
    np.testing.assert_allclose(numpy_path, default, rtol=1e-9, atol=1e-10, equal_nan=True)
    streamed = np.array([detector.update(row) for row in values[100:]])
    np.testing.assert_allclose(streamed, numpy_path, rtol=1e-9, atol=1e-12, equal_nan=True)


@pytest.mark.parametrize("tolerance,atol", [(0.0, 1e-7), (2e-3, 1e-3)])
def test_krylov_kernel_runs_without_numba(tolerance, atol):
    """The tracking kernel is plain Python under ``NUMBA_DISABLE_JIT``: same scores.

    With a fixed number of Lanczos steps (``ritz_tolerance=0``) they agree to
    rounding; with the convergence test a rounding difference can change when
    a step counts as converged, which moves a score by about the tolerance.
    """
    params = f"window=8, rank=2, ritz_tolerance={tolerance}"
    script = (
        "import json, sys, numpy as np\n"
        "from kizashi.detectors.changepoint.singular_spectrum import SingularSpectrumTransform\n"
        "values = np.array(json.load(sys.stdin))\n"
        f"print(json.dumps(SingularSpectrumTransform({params}).score(values).tolist()))\n"
    )
    rng = np.random.default_rng(8)
    values = np.cumsum(rng.normal(size=120)) + 2 * np.sin(np.arange(120) / 3)
    values[70:85] = 4.0
    compiled = SingularSpectrumTransform(window=8, rank=2,
                                         ritz_tolerance=tolerance).score(values)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(values.tolist()),
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    interpreted = np.array(json.loads(done.stdout))
    assert compiled[40:].max() > 0.1
    # the compiled sums are reassociated (vectorised): equal to rounding, amplified a little
    np.testing.assert_allclose(interpreted, compiled, atol=atol)
