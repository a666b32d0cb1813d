"""The krylov SST kernel's Gram bookkeeping against numpy, and its state across calls."""

from __future__ import annotations

import itertools
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


def lanczos_basis(matrix_of, seed_of, steps, partial=False):
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
                                    np.empty(window), np.empty(steps), 0, steps, partial,
                                    np.empty((4, steps + 1)), np.zeros(2, np.int64))
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


@pytest.mark.parametrize("partial", [False, True])
def test_lanczos_restarts_past_an_invariant_subspace(partial):
    # a seed that is an eigenvector closes the Krylov space at once; the run must go on
    # orthogonally and still span the whole space after `window` steps
    rng = np.random.default_rng(6)
    window, n_columns = 6, 10
    y = rng.normal(size=window + n_columns - 1)
    lagged = lag_matrix(y, window)
    _, vectors = np.linalg.eigh(lagged.T @ lagged)
    basis, _, beta, _ = lanczos_basis((y, window, n_columns), vectors[:, -1], window, partial)
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


# ------------------------------------------------ partial re-orthogonalisation
SEMI = np.sqrt(np.finfo(float).eps)


def spectra(rng: np.random.Generator, w: int) -> dict[str, np.ndarray]:
    """Eigenvalue families that stress Lanczos' orthogonality in different ways."""
    return {
        "spread": np.linspace(1.0, 100.0, w),  # slow convergence, little loss
        "geometric": 1e3 * 0.7 ** np.arange(w),  # fast convergence of the top: large loss
        "clustered": np.r_[100, 99.9, 99.8, 50, 49.99, np.ones(w - 5)] * (1 + 1e-3 * rng.random(w)),
        "rank-deficient": np.r_[np.linspace(10.0, 100.0, 10), np.zeros(w - 10)],
        "close pair on top": np.r_[1e4, 1e4 * (1 - 1e-6), rng.uniform(0, 1, w - 2)],
    }


def partial_run(matrix: np.ndarray, seed: np.ndarray, steps: int):
    """The kernel's Lanczos with partial re-orthogonalisation, one step per call, keeping
    each step's estimates ω_{j+1, k} of |q_{j+1}ᵀ q_k|."""
    w = matrix.shape[0]
    basis = np.zeros((steps, w))
    basis[0] = seed / np.linalg.norm(seed)
    alpha, beta = np.zeros(steps), np.zeros(steps)
    omega, flags = np.zeros((4, steps + 1)), np.zeros(2, np.int64)
    estimate = np.eye(steps)
    for j in range(steps):
        done = tracking_kernel._lanczos(matrix, np.zeros(w), 0.0, 1, basis, alpha, beta,
                                        np.empty(w), np.empty(steps), j, j + 1, True, omega,
                                        flags)
        if done == j + 1 and beta[j] == 0.0 and j + 1 < steps and not basis[j + 1].any():
            steps = j + 1  # the basis spans everything
            break
        if j + 1 < steps:
            estimate[j + 1, : j + 1] = estimate[: j + 1, j + 1] = np.abs(omega[1, : j + 1])
    return (basis[:steps], alpha[:steps], beta[:steps], estimate[:steps, :steps],
            int(flags[1]))


def random_symmetric(rng: np.random.Generator, spectrum: np.ndarray) -> np.ndarray:
    q, _ = np.linalg.qr(rng.normal(size=(spectrum.size, spectrum.size)))
    matrix = (q * spectrum) @ q.T
    return (matrix + matrix.T) / 2


@pytest.mark.parametrize("steps", [18, 40, 50])
def test_partial_reorthogonalisation_keeps_the_basis_semi_orthogonal(steps):
    # on symmetric matrices of known spectrum: |q_iᵀ q_j| ≤ √eps for every pair (what
    # keeps Ritz pairs accurate), and the recurrence's estimate follows the measured loss
    # (within a factor of 10 before any restart; Simon's ω is an estimate, not a bound)
    rng = np.random.default_rng(11)
    w = 50
    passes = dict.fromkeys(spectra(rng, w), 0)
    for _ in range(6):
        for family, spectrum in spectra(rng, w).items():
            basis, _, beta, estimate, fired = partial_run(random_symmetric(rng, spectrum),
                                                          rng.normal(size=w), steps)
            loss = np.abs(basis @ basis.T - np.eye(basis.shape[0]))
            assert loss.max() <= SEMI
            restart = np.flatnonzero(beta == 0.0)
            end = restart[0] + 1 if restart.size else basis.shape[0]
            assert np.all(loss[:end, :end] <= 10 * estimate[:end, :end])
            passes[family] += fired
    # a fast-converging top loses orthogonality and needs full passes; in 18 steps on an
    # evenly spread spectrum nothing converges, and none is needed
    assert passes["geometric"] > 0 and passes["close pair on top"] > 0
    if steps == 18:
        assert passes["spread"] == 0


@pytest.mark.parametrize("family", ["spread", "geometric", "clustered", "rank-deficient",
                                    "close pair on top"])
def test_partial_reorthogonalisation_gives_accurate_ritz_values(family):
    # a run through the whole space gives every eigenvalue (numpy's), and after 30
    # steps the top five Ritz values are those of full re-orthogonalisation
    rng = np.random.default_rng(12)
    w = 50
    matrix = random_symmetric(rng, spectra(rng, w)[family])
    seed = rng.normal(size=w)
    true = np.linalg.eigvalsh(matrix)
    _, alpha, beta, _, _ = partial_run(matrix, seed, w)
    tridiagonal = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    np.testing.assert_allclose(np.linalg.eigvalsh(tridiagonal), true, rtol=0,
                               atol=1e-10 * true[-1])
    steps = 30
    found = []
    for partial in (False, True):
        basis = np.zeros((steps, w))
        basis[0] = seed / np.linalg.norm(seed)
        alpha, beta = np.zeros(steps), np.zeros(steps)
        tracking_kernel._lanczos(matrix, np.zeros(w), 0.0, 1, basis, alpha, beta, np.empty(w),
                                 np.empty(steps), 0, steps, partial,
                                 np.zeros((4, steps + 1)), np.zeros(2, np.int64))
        tridiagonal = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
        found.append(np.linalg.eigvalsh(tridiagonal)[::-1][:5])
    np.testing.assert_allclose(found[1], found[0], rtol=0, atol=1e-10 * true[-1])


def test_partial_reorthogonalisation_scores_like_full():
    # the detector's scores with partial re-orthogonalisation follow the exact solver as
    # the full one does, on a structured series and on white noise
    rng = np.random.default_rng(13)
    t = np.arange(2500)
    series = [np.sin(2 * np.pi * t / np.where(t < 1200, 40, 17)) + 0.3 * rng.normal(size=t.size),
              rng.normal(size=t.size)]
    params = {"window": 20, "rank": 3}
    for x in series:
        ready = SingularSpectrumTransform(**params).n_warmup
        exact = SingularSpectrumTransform(solver="exact", **params).score(x)[ready:]
        full = SingularSpectrumTransform(reorthogonalise="full", **params).score(x)[ready:]
        partial = SingularSpectrumTransform(reorthogonalise="partial", **params).score(x)[ready:]
        assert np.corrcoef(exact, partial)[0, 1] >= np.corrcoef(exact, full)[0, 1] - 0.01
        assert np.corrcoef(full, partial)[0, 1] > 0.99


def mixed_series(n_time: int, n_series: int, seed: int) -> np.ndarray:
    """``(time, series)``: white noise, seasonal, a random walk, a flat stretch, NaN gaps."""
    rng = np.random.default_rng(seed)
    t = np.arange(n_time)[:, None]
    values = rng.normal(size=(n_time, n_series))
    values[:, 1::3] += 5 * np.sin(2 * np.pi * t / rng.integers(10, 60, n_series)[1::3])
    values[:, 2::3] = np.cumsum(values[:, 2::3], axis=0)
    values[50:90, 0] = 3.0
    values[rng.random(values.shape) < 0.03] = np.nan
    return values


@pytest.mark.parametrize("params", [{"reorthogonalise": "partial"},
                                    {"reorthogonalise": "partial", "threads": 2},
                                    {"reorthogonalise": "full", "threads": 2}])
def test_partial_and_threaded_runs_agree_bit_for_bit_however_fed(params):
    # batch, one row at a time, uneven blocks and a JSON-resumed state give the same
    # scores exactly: every choice is made from the state
    values = mixed_series(260, 7, seed=14)
    params = {"window": 8, "lag": 4, "rank": 2, **params}
    batch = SingularSpectrumTransform(**params).fit(values[:60])
    expected = batch.score(values[60:])
    streamed = SingularSpectrumTransform(**params).fit(values[:60])
    np.testing.assert_array_equal(np.array([streamed.update(row) for row in values[60:]]),
                                  expected)
    blocks = SingularSpectrumTransform(**params).fit(values[:60])
    cuts = [60, 61, 64, 100, 101, 173, 260]
    pieces = [blocks.update_many(values[lo:hi]) for lo, hi in itertools.pairwise(cuts)]
    np.testing.assert_array_equal(np.concatenate(pieces), expected)
    half = SingularSpectrumTransform(**params).fit(values[:60])
    first = half.update_many(values[60:150])
    saved = json.loads(json.dumps(to_json_safe(half.state_dict())))
    resumed = SingularSpectrumTransform(**params).load_state_dict(from_json_safe(saved))
    np.testing.assert_array_equal(np.concatenate([first, resumed.update_many(values[150:])]),
                                  expected)
    whole = SingularSpectrumTransform(**params).fit(values)
    for key in ("products", "seed", "ring", "ritz", "taken"):
        np.testing.assert_array_equal(whole.state_[key], blocks.state_[key])


@pytest.mark.parametrize("partial", [False, True])
def test_threaded_kernel_equals_the_one_thread_kernel(partial):
    # the series split into chunks run on numba's threads give the one-thread path's
    # scores and state exactly (three chunks, whatever the machine's thread count)
    values = mixed_series(200, 11, seed=15)
    values = np.nan_to_num(values, nan=0.5)
    detector = SingularSpectrumTransform(window=10, lag=5, rank=3).fit(values[:80])
    results = []
    for threaded in (False, True):
        state = {key: np.array(value, copy=True) for key, value in detector.state_.items()
                 if isinstance(value, np.ndarray)}
        c = detector._config()
        full = np.concatenate([state["history"], values[80:].T], axis=1)
        out = np.zeros((11, 120))
        events = np.zeros((11, 2), dtype=np.int64)
        arguments = (full, state["count"], state["center"], state["products"], state["seed"],
                     state["ritz"], state["taken"], state["start_at"], state["ring"],
                     state["ring_state"], out, c["seg"], c["w"], c["g"], c["r"], c["k"], True,
                     1e-20, c["seg"], c["k_first"], 3, c["tol"], 0.25, c["noise_ratio"],
                     c["noise_steps"], partial, events)
        if threaded:
            tracking_kernel.tracking_block_threaded(*arguments, 3)
        else:
            tracking_kernel.tracking_block(*arguments)
        results.append((out, state, events))
    (out1, state1, events1), (out3, state3, events3) = results
    assert out1.max() > 0.5  # the series do change
    np.testing.assert_array_equal(out3, out1)
    np.testing.assert_array_equal(events3, events1)
    for key in state1:
        np.testing.assert_array_equal(state3[key], state1[key])


def test_threaded_detectors_in_several_python_threads_at_once():
    # a Dask worker runs tasks in Python threads: threaded blocks from several of them at
    # once must neither abort the process (numba's workqueue layer does when two enter a
    # parallel region together) nor change any score
    from concurrent.futures import ThreadPoolExecutor

    values = [mixed_series(220, 6, seed=20 + i) for i in range(4)]
    params = {"window": 8, "lag": 4, "rank": 2}
    expected = [SingularSpectrumTransform(**params).score(v) for v in values]
    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(lambda v: SingularSpectrumTransform(threads=2, **params).score(v),
                            values))
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
