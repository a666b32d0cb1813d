"""Eigenpairs of small symmetric tridiagonal matrices (the Lanczos matrices of SST).

LAPACK's routines cost several microseconds of call overhead for a 16 × 16
matrix when called from numba; this compiled QL has none.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import REORDER, njit

__all__ = ["tridiagonal_eigen"]



@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _rotate(vectors: np.ndarray, i: int, components: int, s: float, c: float) -> None:
    for q in range(components):
        f = vectors[i + 1, q]
        vectors[i + 1, q] = s * vectors[i, q] + c * f
        vectors[i, q] = c * vectors[i, q] - s * f


@njit(cache=True, error_model="numpy")
def tridiagonal_eigen(alpha: np.ndarray, beta: np.ndarray, k: int, values: np.ndarray,
                      vectors: np.ndarray, components: int, e: np.ndarray,
                      guesses: np.ndarray, wanted: int) -> int:
    """Eigenpairs of the ``k × k`` symmetric tridiagonal matrix ``(alpha, beta)``.

    ``values[i]`` receives an eigenvalue and
    ``vectors[i, :components]`` the first ``components`` entries of its unit
    eigenvector (``components = k``: all of it; 1: the first entry, all a
    Gauss-quadrature weight needs), unsorted. Implicit QL with Wilkinson
    shifts, as in EISPACK's ``tql2``; only the requested entries are rotated.
    ``e`` (``k``) is scratch.

    When only the ``wanted`` largest eigenpairs are needed and estimates of
    them are known (``guesses``, in the units of ``alpha``, e.g. the previous
    step's Ritz values), the first QL sweep at row ``i`` uses ``guesses[i]``
    as its shift, so rows ``0 … wanted − 1`` tend to converge to those
    eigenvalues first. Once ``wanted`` or more rows are done, the
    decomposition stops as soon as a Sturm count confirms that the rest of the
    matrix holds only eigenvalues below the ``wanted``-th largest found so far
    (a guess that missed costs a few more rows, not the whole matrix).
    Returns the number of rows done: the ``wanted`` largest eigenpairs are
    among rows ``0 … returned − 1`` (``k``: the whole decomposition).
    ``wanted = k`` gives the plain decomposition (without ``guesses`` it can
    still stop early, only less often).
    """
    norm = 0.0
    for i in range(k):
        norm = max(norm, abs(alpha[i]) + (abs(beta[i]) if i + 1 < k else 0.0))
    if norm == 0.0:
        norm = 1.0
    for i in range(k):
        values[i] = alpha[i] / norm
        e[i] = beta[i] / norm if i + 1 < k else 0.0
        for q in range(components):
            vectors[i, q] = 1.0 if i == q else 0.0
    for low in range(k):
        if 0 < wanted <= low and _all_below(values, e, low, k, _kth_largest(values, low, wanted)):
            _rescale(values, k, norm)
            return low
        for sweep in range(100):
            m = low
            while m < k - 1 and abs(e[m]) > 1e-15:
                m += 1
            if m == low:
                break
            if sweep == 0 and low < guesses.shape[0]:
                g = values[m] - guesses[low] / norm
            else:
                g = (values[low + 1] - values[low]) / (2.0 * e[low])
                r = math.sqrt(g * g + 1.0)  # entries are at most 1: no overflow
                g = values[m] - values[low] + e[low] / (g + math.copysign(r, g))
            s = 1.0
            c = 1.0
            p = 0.0
            i = m - 1
            deflated = False
            while i >= low:
                f = s * e[i]
                b = c * e[i]
                r = math.sqrt(f * f + g * g)
                e[i + 1] = r
                if r == 0.0:
                    values[i + 1] -= p
                    e[m] = 0.0
                    deflated = True
                    break
                s = f / r
                c = g / r
                g = values[i + 1] - p
                r = (values[i] - g) * s + 2.0 * c * b
                p = s * r
                values[i + 1] = g + p
                g = c * r - b
                _rotate(vectors, i, components, s, c)
                i -= 1
            if deflated:
                continue
            values[low] -= p
            e[low] = g
            e[m] = 0.0
    _rescale(values, k, norm)
    return k


@njit(cache=True, error_model="numpy")
def _rescale(values: np.ndarray, k: int, norm: float) -> None:
    for i in range(k):
        values[i] *= norm


@njit(cache=True, error_model="numpy")
def _kth_largest(values: np.ndarray, count: int, kth: int) -> float:
    """The ``kth`` largest distinct value of ``values[:count]`` (−inf if there are fewer):
    with repeated values it is at most the ``kth`` largest, so a bound drawn from it errs
    on the safe side."""
    above = math.inf
    for _ in range(kth):
        best = -math.inf
        for i in range(count):
            if best < values[i] < above:
                best = values[i]
        above = best
    return above


@njit(cache=True, error_model="numpy")
def _all_below(values: np.ndarray, e: np.ndarray, start: int, k: int, bound: float) -> bool:
    """Whether every eigenvalue of the trailing block ``start … k − 1`` is below ``bound``.

    Sturm count: the pivots of ``T − bound·I``'s LDLᵀ factorisation are all
    negative exactly when ``bound`` exceeds every eigenvalue of the block.
    """
    pivot = -1.0
    for i in range(start, k):
        coupling = e[i - 1] * e[i - 1] if i > start else 0.0
        pivot = values[i] - bound - coupling / pivot
        if not pivot < 0.0:
            return False
    return True
