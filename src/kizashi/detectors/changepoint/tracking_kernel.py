"""Compiled kernel of Krylov SST by subspace tracking: one Lanczos run per point.

Used by :class:`~kizashi.detectors.changepoint.singular_spectrum.SingularSpectrumTransform`
with ``solver="krylov"``. For every new value of a series it

1. moves on the first row of the Gram matrix ``G = Σ_j y_j y_jᵀ`` of the
   segment's lag vectors ``y_j`` (values minus a per-series ``center``): the
   row is kept in the state, and one value leaving and one entering change
   each entry by two products (``O(window)``); the whole matrix follows from
   its first row, since entries along a diagonal differ by the same two
   products (``window²`` products, no history re-read), row by row. De-meaning
   is a rank-2 correction of that matrix, applied once per point, so each
   Lanczos step is a plain matrix–vector product;
2. runs Lanczos steps on the de-meaned ``C`` (three-term recurrence, then a
   Gram–Schmidt pass against the whole basis at every step, or — partial
   re-orthogonalisation — only where Simon's estimate of the loss of
   orthogonality exceeds ``√eps``) seeded with the unit sum of the
   previous step's top ``rank`` Ritz vectors, so the Krylov space starts
   inside the subspace it must find, and takes the top ``rank`` Ritz vectors
   of the tridiagonal matrix (implicit QL whose first shifts are the previous
   Ritz values, extrapolated, so that it can stop once it has the top
   ``rank``). It first tests convergence at the step count where the
   previous point converged (one step earlier when that point converged with
   room to spare; at least ``k_first``) and adds ``k_more`` steps until
   every top Ritz pair's residual ``‖C u − θ u‖`` — the last Lanczos
   residual norm times the last entry of the pair's vector in the tridiagonal
   basis, so it costs nothing — is at most ``tolerance · θ_1``, or until more
   steps no longer move the top Ritz values (by ``tolerance · θ_1 / 8``), or
   ``k`` steps are done, or (when asked for) at least ``noise_steps`` are done
   and the top Ritz values are flat, ``θ_rank ≥ noise_ratio · θ_1`` (noise);
3. scores ``1 − ‖U_r(t − lag)ᵀ β(t)‖²`` with ``β(t)`` the top Ritz vector and
   ``U_r(t − lag)`` the top Ritz vectors kept from ``lag`` steps ago (the past
   matrix at ``t`` is the test matrix at ``t − lag``, so one decomposition per
   point serves both).

The ``center`` (the segment mean) is reset, and the Gram row recomputed from
the segment, every ``recenter`` steps, so that a large level does not cost
precision and rounding does not accumulate. Everything a step uses comes
from the saved state and the history, so one ``update`` of many series costs
what one step of the batch path costs, and a series resumed from its saved
state continues bit for bit. Without numba the same code runs as plain Python
(slowly) and gives the same scores to rounding, except where a rounding
difference changes whether a step counts as converged (the scores then differ
by about the tolerance).
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import REORDER, njit, prange
from kizashi.detectors.changepoint.tridiagonal import tridiagonal_eigen

__all__ = ["EMPTY", "FLAT", "READY", "segment_step", "tracking_block", "tracking_block_threaded"]

#: Ring slot states: no basis stored yet, a basis, a flat (constant) segment.
EMPTY, READY, FLAT = 0, 1, 2
#: A run also ends when more steps moved no top Ritz value by more than this
#: fraction of the residual tolerance (times ``θ_1``).
_SETTLED = 1 / 8


@njit(cache=True, error_model="numpy")
def _lag_products(y: np.ndarray, n: int, w: int, products: np.ndarray) -> None:
    """``products[d] = Σ_{j<n} y[j] · y[j + d]`` (``d < w``): the Gram matrix's first row."""
    for d in range(w):
        acc = 0.0
        for j in range(n):
            acc += y[j] * y[j + d]
        products[d] = acc


@njit(cache=True, error_model="numpy")
def _slide_products(y: np.ndarray, dropped: float, n: int, w: int,
                    products: np.ndarray) -> None:
    """Move ``_lag_products`` one value on: ``y`` is the new segment, ``dropped`` the value
    that left it (both minus the same center); ``O(window)`` instead of ``O(window · n)``."""
    newest = y[n - 1]
    products[0] += y[n - 1] * y[n - 1] - dropped * dropped
    for d in range(1, w):
        products[d] += newest * y[n - 1 + d] - dropped * y[d - 1]


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _fill_gram(y: np.ndarray, n: int, w: int, products: np.ndarray, gram: np.ndarray,
               sums: np.ndarray) -> None:
    """The Gram matrix ``Σ_j y_j y_jᵀ`` of the lag vectors ``y_j = y[j : j + w]`` from its
    first row (entries along a diagonal differ by one product leaving, one entering) and
    the lag vectors' sum ``sums``.

    Each row follows from the one above it in full (its first entry is the first row's,
    by symmetry), so the fill runs along rows only."""
    for d in range(w):
        gram[0, d] = products[d]
    for a in range(w - 1):
        ya = y[a]
        yn = y[a + n]
        gram[a + 1, 0] = products[a + 1]
        for b in range(w - 1):
            gram[a + 1, b + 1] = gram[a, b] - ya * y[b] + yn * y[b + n]
    total = 0.0
    for j in range(n):
        total += y[j]
    sums[0] = total
    for b in range(1, w):
        total += y[b - 1 + n] - y[b - 1]
        sums[b] = total


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _shift_gram(gram: np.ndarray, sums: np.ndarray, shift: float, n: int) -> None:
    """Turn ``gram`` (``Σ_j y_j y_jᵀ``, with ``sums = Σ_j y_j``) into the Gram matrix of
    the shifted lag vectors ``Σ_j (y_j − shift·1)(y_j − shift·1)ᵀ``, in place."""
    if shift == 0.0:
        return
    w = gram.shape[0]
    constant = n * shift * shift
    for a in range(w):
        row = constant - shift * sums[a]
        for b in range(w):
            gram[a, b] += row - shift * sums[b]


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _dot(x: np.ndarray, y: np.ndarray) -> float:
    acc = 0.0
    for a in range(x.shape[0]):
        acc += x[a] * y[a]
    return acc


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _matvec(matrix: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """``out = matrix · x`` for a symmetric ``matrix``, summed eight columns at a time.

    Eight columns per pass over ``out`` keep the loop free of horizontal sums,
    which for rows this short would cost more than the products, and load and
    store ``out`` once per eight products.
    """
    w = matrix.shape[0]
    for a in range(w):
        out[a] = 0.0
    blocked = w - w % 8
    for e in range(0, blocked, 8):
        x0, x1, x2, x3 = x[e], x[e + 1], x[e + 2], x[e + 3]
        x4, x5, x6, x7 = x[e + 4], x[e + 5], x[e + 6], x[e + 7]
        for a in range(w):
            out[a] += (matrix[e, a] * x0 + matrix[e + 1, a] * x1
                       + matrix[e + 2, a] * x2 + matrix[e + 3, a] * x3
                       + matrix[e + 4, a] * x4 + matrix[e + 5, a] * x5
                       + matrix[e + 6, a] * x6 + matrix[e + 7, a] * x7)
    for e in range(blocked, w):
        xe = x[e]
        for a in range(w):
            out[a] += matrix[e, a] * xe


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _orthogonalise(basis: np.ndarray, count: int, v: np.ndarray,
                   coefficients: np.ndarray) -> float:
    """Remove from ``v`` its part in ``basis[:count]`` (classical Gram–Schmidt, repeated
    when it cancels much: "twice is enough"); returns the new norm of ``v``."""
    w = v.shape[0]
    before = math.sqrt(_dot(v, v))
    norm = before
    for _ in range(2):
        for m in range(count):
            coefficients[m] = _dot(basis[m], v)
        for m in range(count):
            for a in range(w):
                v[a] -= coefficients[m] * basis[m, a]
        norm = math.sqrt(_dot(v, v))
        if norm > 0.7 * before:
            break
        before = norm
    return norm


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _apply(gram: np.ndarray, sums: np.ndarray, shift: float, n: int, x: np.ndarray,
           out: np.ndarray) -> None:
    """``out = C x`` for ``C = Σ_j (y_j − shift·1)(y_j − shift·1)ᵀ``, given the Gram matrix
    ``Σ_j y_j y_jᵀ`` and ``sums = Σ_j y_j``: ``C = G − shift (s 1ᵀ + 1 sᵀ) + n shift² 1 1ᵀ``,
    applied as a rank-2 correction of ``G x``."""
    _matvec(gram, x, out)
    if shift != 0.0:
        ones = 0.0
        for a in range(x.shape[0]):
            ones += x[a]
        along = _dot(sums, x)
        constant = n * shift * shift * ones - shift * along
        scaled = shift * ones
        for a in range(x.shape[0]):
            out[a] += constant - scaled * sums[a]


#: Semi-orthogonality level of partial re-orthogonalisation: the basis is
#: re-orthogonalised when the estimated ``|q_iᵀ q_j|`` exceeds ``√eps``.
_SEMI = math.sqrt(np.finfo(np.float64).eps)
_EPS = float(np.finfo(np.float64).eps)
#: What a Gram–Schmidt pass against a semi-orthogonal basis leaves, in units of
#: ``eps · window`` times the norm it removed relative to the norm left.
_REMAINDER = 4.0


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _estimate_orthogonality(alpha: np.ndarray, beta: np.ndarray, j: int, norm: float,
                            anorm: float, w: int, omega: np.ndarray) -> float:
    """Simon's recurrence for the loss of orthogonality of the next Lanczos vector.

    ``omega[0, :j - 1]`` holds the estimates ``ω_{j-1,k} ≈ q_{j-1}ᵀ q_k``,
    ``omega[1, :j]`` the estimates ``ω_{j,k}``, ``omega[3, k]`` any extra error
    of the Lanczos relation of column ``k`` (a residual dropped at a restart).
    Writes ``ω_{j+1,k}`` (``k ≤ j``) to ``omega[2]`` for the residual of norm
    ``norm = β_j`` and returns their largest magnitude. From
    ``A q_k = β_{k−1} q_{k−1} + α_k q_k + β_k q_{k+1} + f_k`` for ``k`` and ``j``:
    ``β_j ω_{j+1,k} = β_k ω_{j,k+1} + (α_k − α_j) ω_{j,k} + β_{k−1} ω_{j,k−1}
    − β_{j−1} ω_{j−1,k} ± (‖f_k‖ + ‖f_j‖)``, each rounding term taken with the
    sign that makes the estimate larger (H. D. Simon, Math. Comp. 42, 1984).
    ``O(j)`` scalar work.
    """
    rounding = _EPS * w * anorm  # ‖f‖ of one matrix–vector product and its updates
    previous_beta = beta[j - 1] if j > 0 else 0.0
    largest = 0.0
    for k in range(j):
        below = beta[k - 1] * omega[1, k - 1] if k > 0 else 0.0
        if k == j - 1:  # β_{j−1} ω_{j,j} and β_{j−1} ω_{j−1,j−1} (both 1) cancel
            t = (alpha[k] - alpha[j]) * omega[1, k] + below
        else:
            t = (beta[k] * omega[1, k + 1] + (alpha[k] - alpha[j]) * omega[1, k] + below
                 - previous_beta * omega[0, k])
        noise = 2.0 * rounding + omega[3, k] + omega[3, j]
        t = (t + noise if t >= 0.0 else t - noise) / norm
        omega[2, k] = t
        largest = max(largest, abs(t))
    omega[2, j] = rounding / norm  # q_jᵀ q_{j+1}: α_j was taken from the same vector
    return max(largest, omega[2, j])


@njit(cache=True, error_model="numpy")
def _advance_estimates(omega: np.ndarray, j: int, floor: float, reset: bool) -> None:
    """Move the estimates on one Lanczos vector: ``ω_j → omega[0]``, ``ω_{j+1} → omega[1]``
    (set to ``floor`` when the new vector was re-orthogonalised against the basis)."""
    for k in range(j):
        omega[0, k] = omega[1, k]
    omega[0, j] = 1.0
    for k in range(j + 1):
        omega[1, k] = floor if reset else omega[2, k]
    omega[1, j + 1] = 1.0


@njit(cache=True, fastmath=REORDER, error_model="numpy")
def _lanczos(gram: np.ndarray, sums: np.ndarray, shift: float, n: int, basis: np.ndarray,
             alpha: np.ndarray, beta: np.ndarray, v: np.ndarray, coefficients: np.ndarray,
             start: int, stop: int, partial: bool, omega: np.ndarray,
             flags: np.ndarray) -> int:
    """Lanczos steps ``start … stop − 1`` on ``C`` (see :func:`_apply`); returns the steps
    done.

    ``basis[start]`` must hold the next unit Lanczos vector (``basis[0]``: the
    seed). Step ``j`` writes ``alpha[j]``, the residual norm ``beta[j]`` and,
    room permitting, ``basis[j + 1]``.

    Full re-orthogonalisation (``partial`` false): the three-term recurrence
    removes the residual's large parts first, so one Gram–Schmidt pass against
    the whole basis (two when it still cancels much) restores orthogonality at
    every step. Partial re-orthogonalisation (``partial``): the three-term
    recurrence alone (``α_j`` taken after ``β_{j−1} q_{j−1}`` is removed), with
    :func:`_estimate_orthogonality` tracking ``|q_iᵀ q_j|``; when an estimate
    exceeds ``√eps`` (or the residual nearly vanishes), that step and the next
    are re-orthogonalised against the whole basis, as Simon's method needs, so
    the basis stays semi-orthogonal and the Ritz pairs accurate. ``omega``
    ``(4, ≥ stop + 1)`` and ``flags`` (``[re-orthogonalise the next step,
    count of full passes]``) carry the estimates from one call to the next of
    the same run (``start = 0`` resets them; the count only grows).

    When the Krylov space closes (an invariant subspace: ``beta[j] = 0``), the
    run goes on from the first coordinate vector not in it, fully
    orthogonalised, so that eigenvalues the seed cannot reach — the second of
    an equal pair, say — are still found; it ends early only when the basis
    spans everything.
    """
    capacity, w = basis.shape
    scale = 0.0
    anorm = 0.0
    for j in range(start):
        scale = max(scale, abs(alpha[j]))
        below = beta[j - 1] if j > 0 else 0.0
        anorm = max(anorm, math.sqrt(alpha[j] * alpha[j] + beta[j] * beta[j] + below * below))
    if partial and start == 0:
        flags[0] = 0
        for k in range(omega.shape[1]):
            omega[3, k] = 0.0
        omega[1, 0] = 1.0
    for j in range(start, stop):
        _apply(gram, sums, shift, n, basis[j], v)
        previous = beta[j - 1] if j > 0 else 0.0
        if partial:
            if j > 0:
                for a in range(w):
                    v[a] -= previous * basis[j - 1, a]
            alpha[j] = _dot(basis[j], v)
            for a in range(w):
                v[a] -= alpha[j] * basis[j, a]
        else:
            alpha[j] = _dot(basis[j], v)
            for a in range(w):
                v[a] -= alpha[j] * basis[j, a]
            if j > 0:
                for a in range(w):
                    v[a] -= previous * basis[j - 1, a]
        scale = max(scale, abs(alpha[j]))
        floor = 0.0
        if partial:
            norm = math.sqrt(_dot(v, v))
            anorm = max(anorm, math.sqrt(alpha[j] * alpha[j] + norm * norm
                                         + previous * previous))
            full = flags[0] != 0 or norm <= 1e-10 * scale
            if not full:
                full = _estimate_orthogonality(alpha, beta, j, norm, anorm, w, omega) > _SEMI
            if full:
                before = norm
                norm = _orthogonalise(basis, j + 1, v, coefficients)
                # what Gram–Schmidt leaves, relative to the new norm
                floor = _REMAINDER * _EPS * w * before / max(norm, 1e-300 * before)
                flags[1] += 1
                flags[0] = 0 if flags[0] != 0 else 1  # Simon: this step and the next
        else:
            norm = _orthogonalise(basis, j + 1, v, coefficients)
            full = True
        beta[j] = norm
        if norm <= 1e-10 * scale:  # the Krylov space is invariant: restart orthogonally
            dropped = norm
            beta[j] = 0.0
            norm = 0.0
            room = j + 1 < min(capacity, w)  # a place for the next vector, a direction left
            for axis in range(w if room else 0):
                for a in range(w):
                    v[a] = 1.0 if a == axis else 0.0
                norm = _orthogonalise(basis, j + 1, v, coefficients)
                if norm > 0.5:
                    break
            if norm <= 0.5:
                return j + 1
            if partial:  # the restart's new vector is orthogonal; the dropped residual
                omega[3, j] = dropped  # is an error of column j's Lanczos relation
                flags[0] = 1
                floor = _REMAINDER * _EPS * w / norm
        if partial:
            _advance_estimates(omega, j, floor, full)
        if j + 1 < capacity:
            for a in range(w):
                basis[j + 1, a] = v[a] / norm
    return stop


@njit(cache=True, error_model="numpy")
def _largest(values: np.ndarray, candidates: int, wanted: int, order: np.ndarray) -> None:
    """``order[:wanted]``: the ``wanted`` largest of ``values[:candidates]``, descending."""
    for m in range(wanted):
        best = -1
        for i in range(candidates):
            taken = False
            for q in range(m):
                taken = taken or order[q] == i
            if not taken and (best < 0 or values[i] > values[best]):
                best = i
        order[m] = best


@njit(cache=True, error_model="numpy")
def _initial_seed(gram: np.ndarray, sums: np.ndarray, shift: float, n: int, r: int,
                  seed: np.ndarray) -> None:
    """The unit sum of the top ``r`` eigenvectors of ``C`` (:func:`_apply`; one full
    decomposition)."""
    w = gram.shape[0]
    matrix = np.empty((w, w))
    for a in range(w):
        for e in range(w):
            matrix[a, e] = gram[a, e] - shift * (sums[a] + sums[e]) + n * shift * shift
    _, vectors = np.linalg.eigh(matrix)
    for a in range(w):
        seed[a] = 0.0
        for i in range(r):
            seed[a] += vectors[a, w - 1 - i]
    norm = math.sqrt(_dot(seed, seed))
    for a in range(w):
        seed[a] /= norm


@njit(cache=True, error_model="numpy")
def segment_step(row: np.ndarray, start: int, seg: int, rebuild: bool, center: np.ndarray,
                 s: int, y: np.ndarray, n: int, w: int,
                 products: np.ndarray) -> tuple[float, float, float, float]:
    """Move series ``s`` on to the segment ``row[start : start + seg]``: ``y`` gets its
    values minus the series' ``center`` (recomputed as the segment mean when
    ``rebuild``), ``products`` the Gram matrix's first row (:func:`_lag_products` on a
    rebuild, else :func:`_slide_products`). Returns the center, the mean of ``y``, the
    sum of squared values and the energy of ``y`` about its mean (a flat segment has
    none)."""
    if rebuild:
        total = 0.0
        for a in range(seg):
            total += row[start + a]
        center[s] = total / seg
    level = center[s]
    raw = 0.0
    total = 0.0
    for a in range(seg):
        y[a] = row[start + a] - level
        raw += row[start + a] * row[start + a]
        total += y[a]
    if rebuild:
        _lag_products(y, n, w, products)
    else:
        _slide_products(y, row[start - 1] - level, n, w, products)
    mean = total / seg
    energy = 0.0
    for a in range(seg):
        energy += (y[a] - mean) * (y[a] - mean)
    return level, mean, raw, energy


@njit(cache=True, error_model="numpy")
def _track_series(lo: int, hi: int, full: np.ndarray, count: np.ndarray, center: np.ndarray,
                  products: np.ndarray, seed: np.ndarray, ritz: np.ndarray,
                  taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
                  ring_state: np.ndarray,
                  out: np.ndarray, seg: int, w: int, g: int, r: int, k: int, demean: bool,
                  flat_tol: float, recenter: int, k_first: int, k_more: int,
                  tolerance: float, comfort: float, noise_ratio: float,
                  noise_steps: int, partial: bool, events: np.ndarray) -> None:
    """Advance series ``lo … hi − 1`` (see :func:`tracking_block`), with scratch arrays of
    their own."""
    n_time = out.shape[1]
    offset = full.shape[1] - n_time
    n = seg - w + 1
    gram = np.empty((w, w))
    sums = np.empty(w)
    y = np.empty(seg)
    basis = np.empty((k, w))
    alpha = np.empty(k)
    beta = np.empty(k)
    values = np.empty(k)
    vectors = np.empty((k, k))
    work = np.empty(k)
    v = np.empty(w)
    top = np.empty(w)
    order = np.empty(k, dtype=np.int64)
    guesses = np.empty(r)
    previous = np.empty(r)
    omega = np.empty((4, k + 1))
    flags = np.zeros(2, dtype=np.int64)
    for s in range(lo, hi):
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
                ritz[s, :, 0] = 0.0  # no estimates for the next step's eigenvalues
                continue
            _fill_gram(y, n, w, products[s], gram, sums)
            _shift_gram(gram, sums, mean if demean else -level, n)  # C itself: no shift left
            shift = 0.0
            if _dot(seed[s], seed[s]) == 0.0:
                _initial_seed(gram, sums, shift, n, r, seed[s])
            guided = r if ritz[s, 0, 0] > 0.0 else 0
            for m in range(guided):  # the Ritz values drift smoothly: extrapolate them
                trend = ritz[s, 0, m] - ritz[s, 1, m] if ritz[s, 1, 0] > 0.0 else 0.0
                guesses[m] = ritz[s, 0, m] + trend
            for a in range(w):
                basis[0, a] = seed[s, a]
            steps = 0
            extended = False
            stop = min(max(k_first, start_at[s]), k)  # neighbours need about as many
            comfortable = False
            noisy = False
            while True:
                steps = _lanczos(gram, sums, shift, n, basis, alpha, beta, v, work, steps, stop,
                                 partial, omega, flags)
                wanted = min(r, steps)
                found = tridiagonal_eigen(alpha, beta, steps, values, vectors, steps, work,
                                          guesses[:min(guided, wanted)], wanted)
                _largest(values, found, wanted, order)
                if steps < stop:
                    break
                # ‖C u − θ u‖ of a Ritz pair is |β_last · the last entry of its vector|
                residual = 0.0
                for m in range(wanted):
                    residual = max(residual, abs(beta[steps - 1] * vectors[order[m], steps - 1]))
                if residual <= tolerance * values[order[0]] and beta[steps - 1] > 0.0:
                    margin = comfort * tolerance * values[order[0]]
                    comfortable = not extended and residual <= margin
                    break  # (β = 0: the space closed at the last step; look beyond it)
                if steps >= k:
                    break
                # a flat top spectrum (θ_r ≥ noise_ratio · θ_1: noise) may stop early
                noise_like = values[order[wanted - 1]] >= noise_ratio * values[order[0]]
                if steps >= noise_steps and noise_like:
                    noisy = True
                    break
                # Ritz values that no longer move while their vectors do not settle belong
                # to clustered eigenvalues (noise), whose vectors the data leave undetermined
                moved = 0.0
                for m in range(wanted):
                    moved = max(moved, abs(values[order[m]] - previous[m]))
                    previous[m] = values[order[m]]
                settled = moved <= _SETTLED * tolerance * values[order[0]]
                if extended and tolerance > 0.0 and beta[steps - 1] > 0.0 and settled:
                    break
                extended = True
                stop = min(steps + k_more, k)
            taken[s] = steps
            events[s, 0] += steps
            start_at[s] = steps - 1 if comfortable else steps
            if noisy:  # test there first next time
                start_at[s] = noise_steps
            events[s, 1] += flags[1]
            flags[1] = 0
            for a in range(w):
                seed[s, a] = 0.0
            for m in range(r):
                ritz[s, 1, m] = ritz[s, 0, m]
                ritz[s, 0, m] = values[order[m]] if m < wanted else 0.0
            for m in range(wanted):
                index = order[m]
                for a in range(w):
                    top[a] = 0.0
                for j in range(steps):
                    weight = vectors[index, j]
                    for a in range(w):
                        top[a] += weight * basis[j, a]
                norm = math.sqrt(_dot(top, top))
                if m == 0 and past == READY:
                    captured = 0.0
                    for q in range(r):
                        value = _dot(ring[s, slot, q], top) / norm
                        captured += value * value
                    out[s, i] = min(max(1.0 - captured, 0.0), 1.0)
                for a in range(w):
                    ring[s, slot, m, a] = top[a] / norm
                    seed[s, a] += top[a] / norm
            for m in range(wanted, r):
                for a in range(w):
                    ring[s, slot, m, a] = 0.0
            norm = math.sqrt(_dot(seed[s], seed[s]))
            for a in range(w):
                seed[s, a] /= norm
            if past == FLAT:
                out[s, i] = 1.0
            ring_state[s, slot] = READY
        count[s] = c


@njit(cache=True, error_model="numpy")
def tracking_block(full: np.ndarray, count: np.ndarray, center: np.ndarray,
                   products: np.ndarray, seed: np.ndarray, ritz: np.ndarray,
                   taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
                   ring_state: np.ndarray,
                   out: np.ndarray, seg: int, w: int, g: int, r: int, k: int, demean: bool,
                   flat_tol: float, recenter: int, k_first: int, k_more: int,
                   tolerance: float, comfort: float, noise_ratio: float,
                   noise_steps: int, partial: bool, events: np.ndarray) -> None:
    """Advance every series (rows of ``full``: history then ``out.shape[1]`` new values),
    one after another.

    State arrays are updated in place: ``count`` (values seen), ``center``,
    ``products`` ``(series, w)`` (the first row of the Gram matrix of the
    values minus ``center``), ``seed`` ``(series, w)`` (unit sum of the last
    top ``rank`` Ritz vectors, 0 before the first), ``ritz`` ``(series, 2,
    rank)`` (their Ritz values at the last two steps, extrapolated to the next
    QL's first shifts; 0: none), ``taken`` ``(series,)`` (Lanczos steps the
    last point needed; the next starts one below), ``ring`` ``(series, lag,
    rank, w)`` and ``ring_state`` ``(series, lag)`` (the slot of the value
    with 1-based count ``c`` is ``(c − 1) % lag``). ``partial``: partial
    instead of full re-orthogonalisation of the Lanczos basis (:func:`_lanczos`).
    ``events`` ``(series, 2)`` (int) gains each series' Lanczos steps and full
    re-orthogonalisation passes.
    """
    _track_series(0, full.shape[0], full, count, center, products, seed, ritz, taken,
                  start_at, ring, ring_state, out, seg, w, g, r, k, demean, flat_tol,
                  recenter, k_first, k_more, tolerance, comfort, noise_ratio, noise_steps,
                  partial, events)


@njit(cache=True, error_model="numpy", parallel=True)
def tracking_block_threaded(full: np.ndarray, count: np.ndarray, center: np.ndarray,
                            products: np.ndarray, seed: np.ndarray, ritz: np.ndarray,
                            taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
                            ring_state: np.ndarray,
                            out: np.ndarray, seg: int, w: int, g: int, r: int, k: int,
                            demean: bool, flat_tol: float, recenter: int, k_first: int,
                            k_more: int, tolerance: float, comfort: float,
                            noise_ratio: float, noise_steps: int, partial: bool,
                            events: np.ndarray, chunks: int) -> None:
    """:func:`tracking_block` with the series split into ``chunks`` contiguous ranges run
    on numba's threads (``numba.set_num_threads``), each with its own scratch arrays.

    A series' arithmetic is the same whichever thread runs it, so the scores and
    the state equal the one-thread path's bit for bit.
    """
    n_series = full.shape[0]
    for chunk in prange(chunks):
        lo = chunk * n_series // chunks
        hi = (chunk + 1) * n_series // chunks
        _track_series(lo, hi, full, count, center, products, seed, ritz, taken,
                      start_at, ring, ring_state, out, seg, w, g, r, k, demean, flat_tol,
                      recenter, k_first, k_more, tolerance, comfort, noise_ratio,
                      noise_steps, partial, events)

