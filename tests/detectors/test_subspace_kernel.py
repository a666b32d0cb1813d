"""Block subspace SST kernel: its parts against numpy, the solver against exact SST."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.changepoint.singular_spectrum import SingularSpectrumTransform
from kizashi.detectors.changepoint.subspace_kernel import (
    _orthonormalise,
    block_product,
    jacobi_eigen,
)
from kizashi.state import from_json_safe, to_json_safe


@pytest.mark.parametrize("w,count", [(1, 1), (3, 2), (5, 5), (8, 3), (50, 8), (51, 7)])
def test_block_product_is_the_matrix_times_every_block_vector(w, count):
    rng = np.random.default_rng(w + count)
    a = rng.normal(size=(w, w))
    matrix = a + a.T
    x = rng.normal(size=(count + 1, w))
    out = np.full((count + 1, w), 7.0)
    block_product(matrix, x, count, out)
    np.testing.assert_allclose(out[:count], x[:count] @ matrix, rtol=1e-12, atol=1e-12)
    assert np.all(out[count] == 7.0)  # rows past ``count`` untouched


def symmetric_family(p: int, rng: np.random.Generator) -> list[np.ndarray]:
    a = rng.normal(size=(p, p))
    diagonal = np.diag(np.arange(p, 0, -1.0))
    equal = np.ones((p, p))  # rank one: p − 1 equal (zero) eigenvalues
    return [a + a.T, diagonal, diagonal + 1e-3 * (a + a.T), equal, np.zeros((p, p)),
            np.eye(p) * 3.0, -(a @ a.T)]


@pytest.mark.parametrize("p", [1, 2, 5, 8, 10])
def test_jacobi_finds_every_eigenpair(p):
    rng = np.random.default_rng(p)
    for matrix in symmetric_family(p, rng):
        values, vectors = np.empty(p), np.empty((p, p))
        jacobi_eigen(matrix.copy(), p, values, vectors, 50)
        expected = np.linalg.eigvalsh(matrix)
        scale = max(np.abs(matrix).max(), 1.0)
        np.testing.assert_allclose(np.sort(values), expected, atol=1e-6 * scale)
        np.testing.assert_allclose(vectors @ vectors.T, np.eye(p), atol=1e-12)
        # each row is an eigenvector of its value
        np.testing.assert_allclose(vectors @ matrix, values[:, None] * vectors,
                                   atol=1e-6 * scale)


def test_two_jacobi_sweeps_do_for_a_nearly_diagonal_matrix():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(8, 8))
    matrix = np.diag(np.linspace(10, 3, 8)) + 1e-2 * (a + a.T)
    values, vectors = np.empty(8), np.empty((8, 8))
    done = jacobi_eigen(matrix.copy(), 8, values, vectors, 2)
    assert done <= 2
    np.testing.assert_allclose(np.sort(values), np.linalg.eigvalsh(matrix), atol=1e-6)


def test_orthonormalise_replaces_dependent_rows():
    rng = np.random.default_rng(5)
    z = rng.normal(size=(5, 12))
    z[2] = 2 * z[0] - z[1]  # in the span of the rows before it
    z[4] = 0.0
    fallback = np.linalg.qr(rng.normal(size=(12, 5)))[0].T.copy()
    original = z.copy()
    _orthonormalise(z, 5, fallback)
    np.testing.assert_allclose(z @ z.T, np.eye(5), atol=1e-12)
    # Gram–Schmidt in order: the first rows span what the original first rows span
    for m in (1, 2):
        projection = z[:m].T @ (z[:m] @ original[:m].T)
        np.testing.assert_allclose(projection, original[:m].T, atol=1e-10)


def structured(n: int = 3000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    period = np.where(t < n // 2, 30.0, 17.0)
    return 5 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1, n) + 0.002 * t


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_subspace_solver_tracks_exact_on_structured_series(seed):
    values = structured(seed=seed)
    exact = SingularSpectrumTransform(solver="exact").score(values)
    subspace = SingularSpectrumTransform(solver="subspace").score(values)
    ready = slice(SingularSpectrumTransform().n_warmup, None)
    assert np.corrcoef(exact[ready], subspace[ready])[0, 1] > 0.99
    assert np.max(np.abs(exact - subspace)) < 0.1


def test_subspace_solver_tracks_exact_on_white_noise_and_more_iterations_help():
    values = np.random.default_rng(7).normal(size=2500)
    ready = slice(SingularSpectrumTransform().n_warmup, None)
    exact = SingularSpectrumTransform(solver="exact").score(values)[ready]
    one, three = (SingularSpectrumTransform(solver="subspace", subspace_iterations=k)
                  .score(values)[ready] for k in (1, 3))
    assert np.corrcoef(exact, one)[0, 1] > 0.95
    assert np.corrcoef(exact, three)[0, 1] > 0.995
    assert np.abs(exact - three).mean() < np.abs(exact - one).mean()


def test_subspace_finds_a_frequency_change():
    t = np.arange(600)
    values = np.where(t < 300, np.sin(2 * np.pi * t / 40), np.sin(2 * np.pi * t / 12))
    detector = SingularSpectrumTransform(window=20, rank=2, solver="subspace")
    scores = detector.score(values)
    assert 300 <= int(np.argmax(scores)) < 300 + 39
    assert scores.max() > 0.5
    assert np.all(scores[detector.n_warmup: 300] < 0.01)  # a pure sinusoid: no change


def test_subspace_keeps_its_precision_on_a_large_level():
    values = structured(1500)
    params = {"window": 20, "rank": 3, "solver": "subspace"}
    low = SingularSpectrumTransform(**params).score(values)
    high = SingularSpectrumTransform(**params).score(values + 1e6)
    ready = slice(SingularSpectrumTransform(**params).n_warmup, None)
    assert np.abs(high[ready] - low[ready]).max() < 1e-3


@pytest.mark.parametrize("normalize", ["demean", "none"])
@pytest.mark.parametrize("iterations", [1, 3])
def test_subspace_batch_streaming_blocks_and_round_trip_with_gaps(normalize, iterations):
    rng = np.random.default_rng(1)
    values = np.cumsum(rng.normal(size=(160, 3)), axis=0)
    values[rng.random(values.shape) < 0.05] = np.nan
    values[40:60, 1] = 7.0  # a flat stretch
    values[100:120, 2] = -3.0  # another one, after the warm-up
    params = {"window": 6, "lag": 3, "rank": 2, "solver": "subspace", "normalize": normalize,
              "subspace_iterations": iterations}
    detector = SingularSpectrumTransform(**params).fit(values[:60])
    saved = json.dumps(to_json_safe(detector.state_dict()))
    batch = detector.score(values[60:])
    assert np.array_equal(np.isnan(batch), np.isnan(values[60:]))
    assert np.nanmin(batch) >= 0.0 and np.nanmax(batch) <= 1.0
    resumed = SingularSpectrumTransform(**params).load_state_dict(
        from_json_safe(json.loads(saved)))
    streamed = np.array([resumed.update(row) for row in values[60:]])
    np.testing.assert_array_equal(streamed, batch)  # bit for bit
    blocks = SingularSpectrumTransform(**params).load_state_dict(
        from_json_safe(json.loads(saved)))
    in_blocks = np.concatenate([blocks.update_many(values[a:b]) for a, b in
                                ((60, 75), (75, 76), (76, 130), (130, 160))])
    np.testing.assert_array_equal(in_blocks, batch)


def test_subspace_scores_one_after_a_flat_past():
    values = np.r_[np.full(200, 3.0), np.sin(np.arange(300) / 3)]
    scores = SingularSpectrumTransform(window=10, rank=2, solver="subspace").score(values)
    exact = SingularSpectrumTransform(window=10, rank=2, solver="exact").score(values)
    np.testing.assert_array_equal(scores[:200], 0.0)
    past_flat = exact == 1.0  # the exact solver scores 1 where the past segment is flat
    assert past_flat.sum() >= 5
    np.testing.assert_array_equal(scores[past_flat], 1.0)
    # just after, the block catches up with a spectrum that changes fast
    assert np.corrcoef(scores, exact)[0, 1] > 0.98
    np.testing.assert_allclose(scores[260:], exact[260:], atol=1e-3)


@pytest.mark.parametrize("params", [{"block_size": 4}, {"block_size": 51},
                                    {"subspace_iterations": 0}, {"filter_degree": 0},
                                    {"solver": "subspace", "statistic": "angle"}])
def test_bad_subspace_parameters(params):
    with pytest.raises(ValueError, match="sst"):
        SingularSpectrumTransform(**{"solver": "subspace", **params}).score(np.arange(200.0))


def test_subspace_kernel_runs_without_numba():
    """Under ``NUMBA_DISABLE_JIT`` the kernel runs as plain Python: the same scores to
    rounding away from low-rank windows (``ritz_tolerance=0``: every point filters, so the
    convergence test cannot take a different branch)."""
    import os
    import subprocess
    import sys

    params = "window=8, rank=2, solver='subspace', ritz_tolerance=0.0"
    script = (
        "import json, sys, numpy as np\n"
        "from kizashi.detectors.changepoint.singular_spectrum import SingularSpectrumTransform\n"
        "values = np.array(json.load(sys.stdin))\n"
        f"print(json.dumps(SingularSpectrumTransform({params}).score(values).tolist()))\n"
    )
    rng = np.random.default_rng(8)
    values = np.cumsum(rng.normal(size=120)) + 2 * np.sin(np.arange(120) / 3)
    values[70:85] = 4.0
    compiled = SingularSpectrumTransform(window=8, rank=2, solver="subspace",
                                         ritz_tolerance=0.0).score(values)
    done = subprocess.run([sys.executable, "-c", script], input=json.dumps(values.tolist()),
                          capture_output=True, text=True, check=True,
                          env={**os.environ, "NUMBA_DISABLE_JIT": "1"})
    interpreted = np.array(json.loads(done.stdout))
    assert compiled[40:].max() > 0.1
    # segments that hold part of the flat stretch (and the points whose past does) have
    # Gram matrices of low rank: the block's directions in their null space are arbitrary,
    # and there the compiled (reassociated) sums and plain Python pick differently
    low_rank = np.zeros(values.size, dtype=bool)
    low_rank[70: 85 + 15 + 4] = True
    np.testing.assert_allclose(interpreted[~low_rank], compiled[~low_rank], atol=1e-6)
    np.testing.assert_allclose(interpreted[low_rank], compiled[low_rank], atol=1e-2)
