"""The compiled tridiagonal eigensolver behind the Krylov SST solvers, against LAPACK."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.changepoint.tridiagonal import tridiagonal_eigen


def random_tridiagonal(rng: np.random.Generator, k: int, split: bool) -> tuple:
    alpha = rng.normal(size=k) * 10 ** rng.uniform(-2, 2)
    beta = rng.normal(size=k) * 10 ** rng.uniform(-2, 2)
    if split:  # a decoupled block, as after a Lanczos breakdown
        beta[rng.integers(0, k - 1)] = 0.0
    dense = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    return alpha, beta, dense


def decompose(alpha, beta, k, guesses=None, wanted=None):
    guesses = np.empty(0) if guesses is None else guesses
    values, vectors, scratch = np.zeros(k), np.zeros((k, k)), np.zeros(k)
    done = tridiagonal_eigen(alpha, beta, k, values, vectors, k, scratch, guesses,
                             k if wanted is None else wanted)
    return done, values, vectors


def assert_eigenpairs(dense, values, vectors, rows):
    scale = np.abs(np.linalg.eigvalsh(dense)).max()
    for i in rows:
        residual = dense @ vectors[i] - values[i] * vectors[i]
        assert np.abs(residual).max() < 1e-10 * scale
        assert abs(np.linalg.norm(vectors[i]) - 1.0) < 1e-12


@pytest.mark.parametrize("split", [False, True])
def test_full_decomposition_matches_lapack(split):
    rng = np.random.default_rng(1)
    for _ in range(50):
        k = int(rng.integers(2, 25))
        alpha, beta, dense = random_tridiagonal(rng, k, split)
        done, values, vectors = decompose(alpha, beta, k)
        assert done == k
        np.testing.assert_allclose(np.sort(values), np.linalg.eigvalsh(dense),
                                   atol=1e-12 * np.abs(values).max())
        assert_eigenpairs(dense, values, vectors, range(k))


@pytest.mark.parametrize("quality", ["exact", "close", "rough", "wrong"])
def test_guided_shifts_stop_early_only_with_the_largest(quality):
    # with guesses of the top eigenvalues the QL may stop once they are found, but the
    # rows it reports done must hold the r largest (and be true eigenpairs), however
    # poor the guesses (pointing at the smallest eigenvalues, say)
    rng = np.random.default_rng(2)
    stops = 0
    for _ in range(200):
        k, r = int(rng.integers(6, 25)), int(rng.integers(1, 6))
        alpha, beta, dense = random_tridiagonal(rng, k, split=False)
        exact = np.linalg.eigvalsh(dense)
        top = exact[::-1][:r]
        guesses = {"exact": top, "close": top * (1 + 1e-3 * rng.normal(size=r)),
                   "rough": top * (1 + 0.1 * rng.normal(size=r)),
                   "wrong": exact[:r]}[quality]
        done, values, vectors = decompose(alpha, beta, k, guesses, r)
        assert r <= done <= k
        stops += done == r
        rows = range(done)
        found = np.sort(values[list(rows)])[::-1][:r]
        np.testing.assert_allclose(found, top, atol=1e-11 * np.abs(exact).max())
        assert_eigenpairs(dense, values, vectors, rows)
    if quality == "exact":
        assert stops > 150  # exact shifts mostly deflate their eigenvalues first


def test_stops_as_soon_as_the_rows_done_hold_the_largest():
    # a matrix that splits into blocks: guesses aimed at the second block's eigenvalues
    # make the QL find those first; it may stop only once the rows done include every
    # eigenvalue above the r-th largest, and it must then say how many rows it did
    rng = np.random.default_rng(4)
    for _ in range(100):
        k, r = int(rng.integers(6, 20)), int(rng.integers(1, 4))
        alpha, beta, dense = random_tridiagonal(rng, k, split=True)
        exact = np.linalg.eigvalsh(dense)
        guesses = exact[rng.permutation(k)[:r]]
        done, values, vectors = decompose(alpha, beta, k, guesses, r)
        assert r <= done <= k
        np.testing.assert_allclose(np.sort(values[:done])[::-1][:r], exact[::-1][:r],
                                   atol=1e-11 * np.abs(exact).max())
        assert_eigenpairs(dense, values, vectors, range(done))
