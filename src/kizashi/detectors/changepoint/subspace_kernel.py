"""Compiled kernel of SST by block subspace tracking: Chebyshev-filtered subspace iteration.

Used by :class:`~kizashi.detectors.changepoint.singular_spectrum.SingularSpectrumTransform`
with ``solver="subspace"``. It keeps, per series, an orthonormal block ``X`` of
``block`` vectors (``block > rank``; the previous point's top Ritz vectors,
filtered once more) and for every new value

1. moves on the Gram matrix's first row and fills the de-meaned Gram matrix
   ``C`` exactly as the krylov solver does (``tracking_kernel``);
2. Rayleigh–Ritz on the block: ``Y = C X`` (all block vectors in one pass over
   ``C``), ``H = Xᵀ Y`` (``block × block``), whose eigenpairs come from at most
   two sweeps of cyclic Jacobi — ``X`` holds the previous point's Ritz vectors,
   so ``H`` is nearly diagonal — and the Ritz vectors ``U = X S`` with
   ``C U = Y S`` follow without another product;
3. when a top-``rank`` Ritz pair has ``‖C u − θ u‖ > tolerance · θ_1`` and
   fewer than ``iterations`` Rayleigh–Ritz steps were done, filters ``U`` with
   the degree-``degree`` Chebyshev polynomial that is at most 1 on
   ``[0, θ_block]`` (``C`` is positive semi-definite; the smallest Ritz value of
   the block bounds what is damped, so the top of the spectrum is amplified),
   re-orthonormalises it (Gram–Schmidt) and goes to 2;
4. scores ``1 − ‖U_r(t − lag)ᵀ β(t)‖²`` with ``β(t)`` the top Ritz vector, as
   the krylov solver does, and keeps as the next point's block ``U`` filtered
   once more (``U`` itself when its pairs passed the test): a point's filter
   step serves the next point, whose ``C`` differs by a few rank-one terms, so
   with ``iterations = 1`` each point costs one Rayleigh–Ritz step and one
   filter.

Every choice is made from the state and the history (``block``), so batch and
streaming agree bit for bit and a restored state continues exactly. A
series' first full segment is diagonalised exactly once to start.
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import REORDER, njit
from kizashi.detectors.changepoint.tracking_kernel import (
    EMPTY,
    FLAT,
    READY,
    _dot,
    _fill_gram,
    _shift_gram,
    segment_step,
)

__all__ = ["block_product", "jacobi_eigen", "subspace_block"]

#: Jacobi rotations are skipped for off-diagonal entries below this fraction of the
#: largest diagonal entry; the sweeps end when a sweep needs none.
_JACOBI_EPS = 1e-7
#: Jacobi sweeps per Rayleigh–Ritz step: the block holds the previous point's Ritz
#: vectors, so its projected matrix is nearly diagonal; what two sweeps leave (a small
#: rotation within the block) the next point's step continues from.
_JACOBI_SWEEPS = 2


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def block_product(matrix: np.ndarray, x: np.ndarray, count: int, out: np.ndarray) -> None:
    """``out[j] = matrix · x[j]`` for ``j < count`` (``matrix`` symmetric, vectors as rows).

    Four columns of ``matrix`` at a time serve two block vectors at once, so each
    loaded entry feeds two sums.

    >>> import numpy as np
    >>> m = np.array([[2.0, 1.0], [1.0, 3.0]]); x = np.eye(2); out = np.empty((2, 2))
    >>> block_product(m, x, 2, out); out.tolist()
    [[2.0, 1.0], [1.0, 3.0]]
    """
    w = matrix.shape[0]
    for j in range(count):
        for a in range(w):
            out[j, a] = 0.0
    blocked = w - w % 4
    paired = count - count % 2
    for e in range(0, blocked, 4):
        for j in range(0, paired, 2):
            x0, x1, x2, x3 = x[j, e], x[j, e + 1], x[j, e + 2], x[j, e + 3]
            z0, z1, z2, z3 = x[j + 1, e], x[j + 1, e + 1], x[j + 1, e + 2], x[j + 1, e + 3]
            for a in range(w):
                c0 = matrix[e, a]
                c1 = matrix[e + 1, a]
                c2 = matrix[e + 2, a]
                c3 = matrix[e + 3, a]
                out[j, a] += c0 * x0 + c1 * x1 + c2 * x2 + c3 * x3
                out[j + 1, a] += c0 * z0 + c1 * z1 + c2 * z2 + c3 * z3
        for j in range(paired, count):
            x0, x1, x2, x3 = x[j, e], x[j, e + 1], x[j, e + 2], x[j, e + 3]
            for a in range(w):
                out[j, a] += (matrix[e, a] * x0 + matrix[e + 1, a] * x1
                              + matrix[e + 2, a] * x2 + matrix[e + 3, a] * x3)
    for e in range(blocked, w):
        for j in range(count):
            xe = x[j, e]
            for a in range(w):
                out[j, a] += matrix[e, a] * xe


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def jacobi_eigen(h: np.ndarray, p: int, values: np.ndarray, vectors: np.ndarray,
                 sweeps: int) -> int:
    """Eigenpairs of the symmetric ``h[:p, :p]`` by cyclic Jacobi (``h`` is overwritten).

    ``vectors[i, :p]`` is the unit eigenvector of ``values[i]`` (unsorted): ``h``
    rotated by ``vectors`` is diagonal up to entries below ``1e-7`` of its largest
    diagonal entry, or after at most ``sweeps`` sweeps (the number done is
    returned), an approximation of that. Fast when ``h`` is nearly diagonal: each
    sweep about squares the off-diagonal part.

    >>> import numpy as np
    >>> h = np.array([[2.0, 1.0], [1.0, 2.0]]); values = np.empty(2); v = np.empty((2, 2))
    >>> _ = jacobi_eigen(h, 2, values, v, 10); sorted(values.round(12).tolist())
    [1.0, 3.0]
    """
    for i in range(p):
        for j in range(p):
            vectors[i, j] = 1.0 if i == j else 0.0
    scale = 0.0
    for i in range(p):
        scale = max(scale, abs(h[i, i]))
    floor = _JACOBI_EPS * scale
    done = 0
    while done < sweeps:
        done += 1
        rotated = False
        for i in range(p - 1):
            for j in range(i + 1, p):
                hij = h[i, j]
                if abs(hij) <= floor:
                    continue
                rotated = True
                theta = (h[j, j] - h[i, i]) / (2.0 * hij)
                t = 1.0 / (abs(theta) + math.sqrt(theta * theta + 1.0))
                if theta < 0.0:
                    t = -t
                c = 1.0 / math.sqrt(t * t + 1.0)
                s = t * c
                hii = h[i, i] - t * hij
                hjj = h[j, j] + t * hij
                for k in range(p):  # columns i and j (rows i and j are fixed below)
                    g = h[k, i]
                    f = h[k, j]
                    h[k, i] = c * g - s * f
                    h[k, j] = s * g + c * f
                for k in range(p):
                    h[i, k] = h[k, i]
                    h[j, k] = h[k, j]
                h[i, i] = hii
                h[j, j] = hjj
                h[i, j] = 0.0
                h[j, i] = 0.0
                for k in range(p):
                    g = vectors[i, k]
                    f = vectors[j, k]
                    vectors[i, k] = c * g - s * f
                    vectors[j, k] = s * g + c * f
        if not rotated:
            break
    for i in range(p):
        values[i] = h[i, i]
    return done


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _orthonormalise(z: np.ndarray, p: int, fallback: np.ndarray) -> None:
    """Gram–Schmidt (twice) on the rows of ``z[:p]`` in order, in place. A row that
    vanishes against the ones before it is replaced by the same row of ``fallback``, then
    by coordinate vectors."""
    w = z.shape[1]
    axis = 0
    for m in range(p):
        for attempt in range(2 + w):
            if attempt == 1:
                for a in range(w):
                    z[m, a] = fallback[m, a]
            elif attempt >= 2:
                for a in range(w):
                    z[m, a] = 0.0
                z[m, axis % w] = 1.0
                axis += 1
            first = math.sqrt(_dot(z[m], z[m]))
            before = first
            norm = before
            for _ in range(2):  # a second pass only when the first cancelled much
                for q in range(m):
                    weight = _dot(z[q], z[m])
                    for a in range(w):
                        z[m, a] -= weight * z[q, a]
                norm = math.sqrt(_dot(z[m], z[m]))
                if norm > 0.7 * before:
                    break
                before = norm
            if first > 0.0 and norm > 1e-9 * first:
                break
        for a in range(w):
            z[m, a] /= norm


@njit(cache=True, error_model="numpy")
def _initial_block(matrix: np.ndarray, p: int, x: np.ndarray) -> None:
    """The top ``p`` eigenvectors of ``matrix`` as the rows of ``x`` (a full decomposition)."""
    w = matrix.shape[0]
    _, vectors = np.linalg.eigh(matrix.copy())
    for m in range(p):
        for a in range(w):
            x[m, a] = vectors[a, w - 1 - m]


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _rayleigh_ritz(gram: np.ndarray, x: np.ndarray, p: int, y: np.ndarray, h: np.ndarray,
                   values: np.ndarray, vectors: np.ndarray, order: np.ndarray,
                   u: np.ndarray, cu: np.ndarray) -> None:
    """Ritz pairs of ``C`` on the orthonormal rows of ``x``: ``values[order[m]]`` descending,
    ``u[m]`` the Ritz vectors in that order, ``cu[m] = C u[m]``."""
    w = gram.shape[0]
    block_product(gram, x, p, y)
    for i in range(p):
        for j in range(i, p):
            value = _dot(x[i], y[j])
            h[i, j] = value
            h[j, i] = value
    jacobi_eigen(h, p, values, vectors, _JACOBI_SWEEPS)
    for m in range(p):  # selection sort, descending
        best = -1
        for i in range(p):
            taken = False
            for q in range(m):
                taken = taken or order[q] == i
            if not taken and (best < 0 or values[i] > values[best]):
                best = i
        order[m] = best
    for m in range(p):
        index = order[m]
        for a in range(w):
            u[m, a] = 0.0
            cu[m, a] = 0.0
        for j in range(p):
            weight = vectors[index, j]
            for a in range(w):
                u[m, a] += weight * x[j, a]
                cu[m, a] += weight * y[j, a]


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _residual(cu: np.ndarray, theta: float, u: np.ndarray) -> float:
    """``‖C u − θ u‖²`` given ``C u``."""
    acc = 0.0
    for a in range(u.shape[0]):
        d = cu[a] - theta * u[a]
        acc += d * d
    return acc


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _filter(gram: np.ndarray, u: np.ndarray, cu: np.ndarray, values: np.ndarray,
            order: np.ndarray, p: int, degree: int, x: np.ndarray, z: np.ndarray,
            cz: np.ndarray) -> None:
    """``x``: the orthonormalised rows of ``T_k((2C − θ_p)/θ_p) u`` (``k = degree``), the
    Chebyshev polynomial at most 1 on ``[0, θ_p]`` applied to the Ritz vectors ``u``
    (``cu = C u``); a power step when ``θ_p`` is about 0 (``C`` of low rank)."""
    w = u.shape[1]
    top = values[order[0]]
    half = 0.5 * values[order[p - 1]]
    if half <= 1e-12 * top:
        for m in range(p):
            for a in range(w):
                x[m, a] = cu[m, a]
    else:
        inverse = 1.0 / half
        for m in range(p):  # z = T_1 = (C − half) u / half, x = T_0 = u
            for a in range(w):
                x[m, a] = u[m, a]
                z[m, a] = cu[m, a] * inverse - u[m, a]
        twice = 2.0 * inverse
        for _ in range(1, degree):
            block_product(gram, z, p, cz)
            for m in range(p):
                for a in range(w):
                    following = cz[m, a] * twice - 2.0 * z[m, a] - x[m, a]
                    x[m, a] = z[m, a]
                    z[m, a] = following
        for m in range(p):
            for a in range(w):
                x[m, a] = z[m, a]
    _orthonormalise(x, p, u)


@njit(cache=True, error_model="numpy")
def subspace_block(full: np.ndarray, count: np.ndarray, center: np.ndarray,
                   products: np.ndarray, block: np.ndarray, taken: np.ndarray,
                   ring: np.ndarray, ring_state: np.ndarray, out: np.ndarray, seg: int,
                   w: int, g: int, r: int, p: int, iterations: int, degree: int,
                   demean: bool, flat_tol: float, recenter: int, tolerance: float) -> None:
    """Advance every series (rows of ``full``: history then ``out.shape[1]`` new values).

    State arrays are updated in place: ``count``, ``center`` and ``products`` as
    in :func:`~kizashi.detectors.changepoint.tracking_kernel.tracking_block`;
    ``block`` ``(series, p, w)`` (the last point's top ``p`` Ritz vectors, rows,
    descending; 0 before the first), ``taken`` ``(series,)`` (Rayleigh–Ritz steps
    the last point needed), ``ring`` ``(series, lag, rank, w)`` and ``ring_state``
    ``(series, lag)``.
    """
    n_series = full.shape[0]
    n_time = out.shape[1]
    offset = full.shape[1] - n_time
    n = seg - w + 1
    gram = np.empty((w, w))
    sums = np.empty(w)
    y = np.empty(seg)
    x = np.empty((p, w))
    image = np.empty((p, w))
    h = np.empty((p, p))
    values = np.empty(p)
    vectors = np.empty((p, p))
    order = np.empty(p, dtype=np.int64)
    u = np.empty((p, w))
    cu = np.empty((p, w))
    z = np.empty((p, w))
    cz = np.empty((p, w))
    for s in range(n_series):
        c = count[s]
        row = full[s]
        for i in range(n_time):
            c += 1
            out[s, i] = 0.0
            if c < seg:
                continue
            end = offset + i + 1
            start = end - seg
            level, mean, raw, energy = segment_step(row, start, seg, (c - seg) % recenter == 0,
                                                    center, s, y, n, w, products[s])
            slot = (c - 1) % g
            past = ring_state[s, slot] if c >= seg + g else EMPTY
            flat = energy <= flat_tol * raw if demean else raw == 0.0
            if flat:
                ring_state[s, slot] = FLAT
                continue
            _fill_gram(y, n, w, products[s], gram, sums)
            _shift_gram(gram, sums, mean if demean else -level, n)
            if _dot(block[s, 0], block[s, 0]) == 0.0:
                _initial_block(gram, p, block[s])
            for m in range(p):
                for a in range(w):
                    x[m, a] = block[s, m, a]
            steps = 0
            while True:
                _rayleigh_ritz(gram, x, p, image, h, values, vectors, order, u, cu)
                steps += 1
                top = values[order[0]]
                residual = 0.0
                for m in range(r):
                    residual = max(residual, _residual(cu[m], values[order[m]], u[m]))
                converged = residual <= (tolerance * top) ** 2
                if converged or steps >= iterations:
                    break
                _filter(gram, u, cu, values, order, p, degree, x, z, cz)
            taken[s] = steps
            for m in range(r):
                norm = math.sqrt(_dot(u[m], u[m]))
                for a in range(w):
                    z[m, a] = u[m, a] / norm
            if past == READY:
                captured = 0.0
                for q in range(r):
                    value = _dot(ring[s, slot, q], z[0])
                    captured += value * value
                out[s, i] = min(max(1.0 - captured, 0.0), 1.0)
            for m in range(r):
                for a in range(w):
                    ring[s, slot, m, a] = z[m, a]
            if converged:  # the next point starts from these Ritz vectors
                for m in range(p):
                    for a in range(w):
                        x[m, a] = u[m, a]
                _orthonormalise(x, p, u)
            else:  # or from them filtered once more
                _filter(gram, u, cu, values, order, p, degree, x, z, cz)
            for m in range(p):
                for a in range(w):
                    block[s, m, a] = x[m, a]
            if past == FLAT:
                out[s, i] = 1.0
            ring_state[s, slot] = READY
        count[s] = c
