"""The krylov SST kernel's Gram bookkeeping against numpy, and its state across calls."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kizashi.detectors.changepoint import tracking_kernel
from kizashi.detectors.changepoint.singular_spectrum import SingularSpectrumTransform
from kizashi.state import from_json_safe, to_json_safe


def lag_matrix(y: np.ndarray, window: int) -> np.ndarray:
    """The lag vectors of ``y`` as rows, built by indexing (the reference)."""
    n = y.size - window + 1
    return np.array([y[j:j + window] for j in range(n)])


@pytest.mark.parametrize("window,n_columns", [(2, 1), (5, 5), (8, 3), (6, 11), (50, 50)])
def test_gram_row_slides_and_fills_the_whole_gram(window, n_columns):
    # the first Gram row moved on by one value at a time (O(window) per value) and the
    # whole matrix filled from it must equal A Aᵀ of every segment, built afresh
    rng = np.random.default_rng(window * 100 + n_columns)
    seg = window + n_columns - 1
    values = rng.normal(size=seg + 300) * 5 + 3
    products = np.empty(window)
    gram = np.empty((window, window))
    sums = np.empty(window)
    tracking_kernel._lag_products(values[:seg], n_columns, window, products)
    for start in range(1, 301):
        y = values[start:start + seg]
        tracking_kernel._slide_products(y, values[start - 1], n_columns, window, products)
        tracking_kernel._fill_gram(y, n_columns, window, products, gram, sums)
        lagged = lag_matrix(y, window)
        scale = np.abs(lagged.T @ lagged).max()
        np.testing.assert_allclose(gram, lagged.T @ lagged, rtol=0, atol=1e-11 * scale)
        np.testing.assert_allclose(sums, lagged.sum(axis=0), rtol=0, atol=1e-11 * scale)


@pytest.mark.parametrize("shift", [0.0, 0.7, -40.0])
def test_operator_is_the_gram_of_the_shifted_lag_vectors(shift):
    # C x with the rank-2 correction equals (A − shift)ᵀ(A − shift) x, formed explicitly
    rng = np.random.default_rng(3)
    window, n_columns = 7, 9
    y = rng.normal(size=window + n_columns - 1) + 2.0
    products = np.empty(window)
    gram = np.empty((window, window))
    sums = np.empty(window)
    tracking_kernel._lag_products(y, n_columns, window, products)
    tracking_kernel._fill_gram(y, n_columns, window, products, gram, sums)
    shifted = lag_matrix(y, window) - shift
    for _ in range(5):
        x = rng.normal(size=window)
        out = np.empty(window)
        tracking_kernel._apply(gram, sums, shift, n_columns, x, out)
        np.testing.assert_allclose(out, shifted.T @ (shifted @ x), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shift", [0.0, 0.7, -40.0])
def test_shifted_gram_is_the_gram_of_the_shifted_lag_vectors(shift):
    # the de-meaned matrix the kernel forms once per point equals (A − shift)ᵀ(A − shift)
    rng = np.random.default_rng(4)
    window, n_columns = 9, 6
    y = rng.normal(size=window + n_columns - 1) * 3 + 5.0
    products = np.empty(window)
    gram = np.empty((window, window))
    sums = np.empty(window)
    tracking_kernel._lag_products(y, n_columns, window, products)
    tracking_kernel._fill_gram(y, n_columns, window, products, gram, sums)
    tracking_kernel._shift_gram(gram, sums, shift, n_columns)
    shifted = lag_matrix(y, window) - shift
    expected = shifted.T @ shifted
    np.testing.assert_allclose(gram, expected, rtol=0, atol=1e-11 * np.abs(expected).max())


def lanczos_basis(matrix_of, seed_of, steps):
    """Run the kernel's Lanczos on the Gram of ``y``; return basis, alpha, beta."""
    y, window, n_columns = matrix_of
    products = np.empty(window)
    gram = np.empty((window, window))
    sums = np.empty(window)
    tracking_kernel._lag_products(y, n_columns, window, products)
    tracking_kernel._fill_gram(y, n_columns, window, products, gram, sums)
    basis = np.zeros((steps, window))
    basis[0] = seed_of / np.linalg.norm(seed_of)
    alpha, beta = np.zeros(steps), np.zeros(steps)
    done = tracking_kernel._lanczos(gram, sums, 0.0, n_columns, basis, alpha, beta,
                                    np.empty(window), np.empty(steps), 0, steps)
    return basis[:done], alpha[:done], beta[:done], gram


def test_lanczos_gives_an_orthonormal_basis_and_its_tridiagonal_matrix():
    # Vᵀ C V must be the tridiagonal (alpha, beta) and V orthonormal: the defining
    # properties, checked with numpy products
    rng = np.random.default_rng(5)
    window, n_columns = 12, 20
    y = np.sin(np.arange(window + n_columns - 1) / 3) + 0.3 * rng.normal(size=31)
    basis, alpha, beta, gram = lanczos_basis((y, window, n_columns), rng.normal(size=window), 9)
    np.testing.assert_allclose(basis @ basis.T, np.eye(9), atol=1e-12)
    projected = basis @ gram @ basis.T
    tridiagonal = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    np.testing.assert_allclose(projected, tridiagonal, atol=1e-10 * np.abs(gram).max())


def test_lanczos_restarts_past_an_invariant_subspace():
    # a seed that is an eigenvector closes the Krylov space at once; the run must go on
    # orthogonally and still span the whole space after `window` steps
    rng = np.random.default_rng(6)
    window, n_columns = 6, 10
    y = rng.normal(size=window + n_columns - 1)
    lagged = lag_matrix(y, window)
    _, vectors = np.linalg.eigh(lagged.T @ lagged)
    basis, _, beta, _ = lanczos_basis((y, window, n_columns), vectors[:, -1], window)
    assert beta[0] == 0.0
    np.testing.assert_allclose(basis @ basis.T, np.eye(window), atol=1e-12)


def test_state_saved_before_the_gram_row_was_kept_resumes():
    # a krylov state from before the first Gram row was part of it (no "products",
    # "start_at") continues as if never stopped, in batch and streaming, gaps included:
    # the row is rebuilt from the saved history
    rng = np.random.default_rng(2)
    values = np.cumsum(rng.normal(size=(500, 2)), axis=0) + 4 * np.sin(np.arange(500) / 5)[:, None]
    values[rng.random(values.shape) < 0.03] = np.nan
    params = {"window": 10, "rank": 3, "ritz_tolerance": 0.0}
    reference = SingularSpectrumTransform(**params).fit(values[:300])
    expected = reference.score(values[300:])
    saved = json.loads(json.dumps(to_json_safe(reference.state_dict())))
    old = from_json_safe(saved)
    del old["state"]["products"], old["state"]["start_at"]
    batch = SingularSpectrumTransform(**params).load_state_dict(old)
    np.testing.assert_allclose(batch.score(values[300:]), expected, rtol=0, atol=1e-9)
    streamed = SingularSpectrumTransform(**params).load_state_dict(old)
    np.testing.assert_allclose(np.array([streamed.update(row) for row in values[300:]]),
                               expected, rtol=0, atol=1e-9)
