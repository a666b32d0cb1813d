"""Compiled inner loop of the Krylov SST solver, used when numba is installed.

The loop is the same algorithm as the numpy path of
:class:`~kizashi.detectors.changepoint.singular_spectrum.SingularSpectrumTransform`
(power iteration warm-started from the previous ``β``, then Lanczos with full
re-orthogonalisation on the past Gram matrix), written per series and per
step so that it compiles to tight loops. Streaming and batch scoring call the
same kernel, so they give identical numbers. Without numba the detector falls
back to its numpy path (slower on one series; the scores agree to rounding).
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["HAVE_NUMBA", "krylov_block"]

from kizashi.detectors.changepoint.jit import HAVE_NUMBA, REORDER, njit
from kizashi.detectors.changepoint.tridiagonal import tridiagonal_eigen


@njit(cache=True)
def _load(row: np.ndarray, start: int, size: int, demean: bool, flat_tol: float,
          out: np.ndarray) -> bool:
    raw = 0.0
    total = 0.0
    for i in range(size):
        value = row[start + i]
        out[i] = value
        raw += value * value
        total += value
    if demean:
        mean = total / size
        for i in range(size):
            out[i] -= mean
    energy = 0.0
    for i in range(size):
        energy += out[i] * out[i]
    return energy <= flat_tol * raw


@njit(cache=True, fastmath=REORDER)
def _gram_matvec(segment: np.ndarray, n: int, w: int, x: np.ndarray, u: np.ndarray,
                 v: np.ndarray) -> None:
    """``v = Aᵀ (A x)`` for the trajectory matrix ``A[j, a] = segment[j + a]`` (n × w)."""
    for j in range(n):
        acc = 0.0
        for a in range(w):
            acc += segment[j + a] * x[a]
        u[j] = acc
    for a in range(w):
        v[a] = 0.0
    for j in range(n):
        uj = u[j]
        for a in range(w):
            v[a] += segment[j + a] * uj


@njit(cache=True, fastmath=REORDER)
def _lanczos(segment: np.ndarray, seed: np.ndarray, n: int, w: int, k: int,
             basis: np.ndarray, tridiagonal: np.ndarray, u: np.ndarray, v: np.ndarray,
             coefficients: np.ndarray) -> None:
    """``k`` Lanczos steps (full re-orthogonalisation) on ``AᵀA`` from unit ``seed``.

    Fills ``basis`` (k × w) and the tridiagonal matrix; after a breakdown the
    remaining basis vectors are 0.
    """
    q = seed.copy()
    for x in range(k):
        for y in range(k):
            tridiagonal[x, y] = 0.0
    scale = 0.0
    for j in range(k):
        for a in range(w):
            basis[j, a] = q[a]
        _gram_matvec(segment, n, w, q, u, v)
        acc = 0.0
        for a in range(w):
            acc += q[a] * v[a]
        tridiagonal[j, j] = acc
        scale = max(scale, abs(acc))
        for m in range(j + 1):
            acc = 0.0
            for a in range(w):
                acc += basis[m, a] * v[a]
            coefficients[m] = acc
        for m in range(j + 1):
            for a in range(w):
                v[a] -= coefficients[m] * basis[m, a]
        if j + 1 == k:
            break
        norm = 0.0
        for a in range(w):
            norm += v[a] * v[a]
        norm = math.sqrt(norm)
        if norm > 1e-10 * scale:
            tridiagonal[j, j + 1] = norm
            tridiagonal[j + 1, j] = norm
            for a in range(w):
                q[a] = v[a] / norm
        else:
            for a in range(w):
                q[a] = 0.0


@njit(cache=True)
def krylov_block(full: np.ndarray, beta: np.ndarray, count: np.ndarray, out: np.ndarray,
                 seg: int, w: int, g: int, r: int, k: int, p: int, k_test: int, demean: bool,
                 flat_tol: float) -> None:
    """Advance every series (rows of ``full``: history then ``out.shape[1]`` new values)."""
    n_series = full.shape[0]
    n_time = out.shape[1]
    offset = full.shape[1] - n_time
    n = seg - w + 1
    test = np.empty(seg)
    past = np.empty(seg)
    u = np.empty(n)
    v = np.empty(w)
    size = max(k, k_test)
    basis = np.empty((size, w))
    coefficients = np.empty(size)
    tridiagonal = np.empty((k, k))
    tridiagonal_test = np.empty((k_test, k_test))
    diagonal = np.empty(k)
    off = np.zeros(k)
    ritz_values = np.empty(k)
    first = np.empty((k, 1))
    scratch = np.empty(k)
    no_guesses = np.empty(0)
    for b in range(n_series):
        current = beta[b].copy()
        c = count[b]
        row = full[b]
        for i in range(n_time):
            c += 1
            out[b, i] = 0.0
            if c < seg:
                continue
            end = offset + i + 1
            test_flat = _load(row, end - seg, seg, demean, flat_tol, test)
            if not test_flat:
                for _ in range(p):
                    _gram_matvec(test, n, w, current, u, v)
                    norm = 0.0
                    for a in range(w):
                        norm += v[a] * v[a]
                    norm = math.sqrt(norm)
                    if norm > 0.0:
                        for a in range(w):
                            current[a] = v[a] / norm
                if k_test > 1:
                    _lanczos(test, current, n, w, k_test, basis, tridiagonal_test, u, v,
                             coefficients)
                    _, ritz = np.linalg.eigh(tridiagonal_test)
                    norm = 0.0
                    for a in range(w):
                        acc = 0.0
                        for m in range(k_test):
                            acc += ritz[m, k_test - 1] * basis[m, a]
                        v[a] = acc
                        norm += acc * acc
                    norm = math.sqrt(norm)
                    if norm > 0.0:
                        for a in range(w):
                            current[a] = v[a] / norm
            if c < seg + g or test_flat:
                continue
            if _load(row, end - g - seg, seg, demean, flat_tol, past):
                out[b, i] = 1.0
                continue
            _lanczos(past, current, n, w, k, basis, tridiagonal, u, v, coefficients)
            for m in range(k):
                diagonal[m] = tridiagonal[m, m]
                if m + 1 < k:
                    off[m] = tridiagonal[m + 1, m]
            tridiagonal_eigen(diagonal, off, k, ritz_values, first, 1, scratch, no_guesses, k)
            order = np.argsort(ritz_values)
            captured = 0.0
            for m in range(r):
                s = first[order[k - 1 - m], 0]
                captured += s * s
            out[b, i] = min(max(1.0 - captured, 0.0), 1.0)
        beta[b] = current
        count[b] = c
