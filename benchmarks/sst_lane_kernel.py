"""Prototype, measured and not used by kizashi: krylov SST with many points in lockstep.

``benchmarks/sst_lanes.py`` times it against the per-point kernel
(:mod:`kizashi.detectors.changepoint.tracking_kernel`); the numbers and why the
design was not adopted are in ``docs/changepoint.md`` ("Issue 14, fourth round").

The same algorithm as the per-point kernel (Lanczos on the de-meaned Gram
matrix seeded with earlier Ritz vectors, a convergence test on the Ritz
residuals, the top Ritz vector scored against the top ``rank`` Ritz vectors
of ``lag`` steps before), arranged so that ``LANES`` points run their Lanczos
steps together, with every per-point array laid out ``[row, lane]``
(contiguous along the lanes): each loop's innermost index is the lane, so
that the compiler may vectorise it across points without reordering any
point's sums. A lane's arithmetic is the same whichever points share its
tile, so a batch and a stream of single steps agree bit for bit.

Points must not depend on each other to share a tile. Series are
independent; within a series, point ``t`` is seeded from point ``t − period``
(the per-point kernel: ``t − 1``): the state keeps ``period`` seeds, Ritz
value pairs and step counts per series, one per residue of the point count,
so ``period`` consecutive points of one series are independent and run in one
tile (``period ≤ lag``, so that the past each point is scored against is
already known). After each Lanczos step the lanes due for a convergence test
diagonalise their tridiagonal matrix one by one
(:func:`~kizashi.detectors.changepoint.tridiagonal.tridiagonal_eigen`) and
either stop or set their next test; lanes that stopped keep computing (their
results are not read), so a tile costs its slowest lane.
:func:`lockstep_ql` is the tridiagonal QL itself run in lockstep across lanes
(measured on its own).
"""

from __future__ import annotations

import math

import numpy as np

from kizashi.detectors.changepoint.jit import njit
from kizashi.detectors.changepoint.tracking_kernel import (
    _SETTLED,
    EMPTY,
    FLAT,
    READY,
    _initial_seed,
    _lag_products,
    _largest,
    _slide_products,
)
from kizashi.detectors.changepoint.tridiagonal import tridiagonal_eigen

__all__ = ["LANES", "lane_block", "lockstep_ql"]

#: Points per tile: one AVX-512 vector of doubles (two AVX2 vectors) per row.
LANES = 8


@njit(error_model="numpy")
def _fill_grams(ys: np.ndarray, rows: np.ndarray, shifts: np.ndarray, n: int,
                gram: np.ndarray, sums: np.ndarray) -> None:
    """Every lane's Gram matrix of the lag vectors of ``ys[:, lane]`` minus ``shifts[lane]``.

    ``rows[:, lane]`` is the first row of the unshifted matrix; each further row
    follows from the one above (entries along a diagonal differ by one product
    leaving and one entering), then the shift is a rank-2 correction.
    """
    w = gram.shape[0]
    for d in range(w):
        for lane in range(LANES):
            gram[0, d, lane] = rows[d, lane]
    for a in range(w - 1):
        for lane in range(LANES):
            gram[a + 1, 0, lane] = rows[a + 1, lane]
        for b in range(w - 1):
            for lane in range(LANES):
                gram[a + 1, b + 1, lane] = (gram[a, b, lane] - ys[a, lane] * ys[b, lane]
                                            + ys[a + n, lane] * ys[b + n, lane])
    for lane in range(LANES):
        sums[0, lane] = 0.0
    for j in range(n):
        for lane in range(LANES):
            sums[0, lane] += ys[j, lane]
    for b in range(1, w):
        for lane in range(LANES):
            sums[b, lane] = sums[b - 1, lane] + ys[b - 1 + n, lane] - ys[b - 1, lane]
    for a in range(w):
        for b in range(w):
            for lane in range(LANES):
                shift = shifts[lane]
                gram[a, b, lane] += ((n * shift * shift - shift * sums[a, lane])
                                     - shift * sums[b, lane])


@njit(error_model="numpy")
def _matvec(gram: np.ndarray, x: np.ndarray, out: np.ndarray) -> None:
    """``out[:, lane] = gram[:, :, lane] · x[:, lane]`` (symmetric), eight columns a pass."""
    w = gram.shape[0]
    for a in range(w):
        for lane in range(LANES):
            out[a, lane] = 0.0
    blocked = w - w % 8
    for e in range(0, blocked, 8):
        for a in range(w):
            for lane in range(LANES):
                out[a, lane] += (gram[e, a, lane] * x[e, lane]
                                 + gram[e + 1, a, lane] * x[e + 1, lane]
                                 + gram[e + 2, a, lane] * x[e + 2, lane]
                                 + gram[e + 3, a, lane] * x[e + 3, lane]
                                 + gram[e + 4, a, lane] * x[e + 4, lane]
                                 + gram[e + 5, a, lane] * x[e + 5, lane]
                                 + gram[e + 6, a, lane] * x[e + 6, lane]
                                 + gram[e + 7, a, lane] * x[e + 7, lane])
    for e in range(blocked, w):
        for a in range(w):
            for lane in range(LANES):
                out[a, lane] += gram[e, a, lane] * x[e, lane]


@njit(error_model="numpy")
def _dots(x: np.ndarray, y: np.ndarray, out: np.ndarray) -> None:
    """``out[lane] = Σ_a x[a, lane] · y[a, lane]``, summed in row order."""
    for lane in range(LANES):
        out[lane] = 0.0
    for a in range(x.shape[0]):
        for lane in range(LANES):
            out[lane] += x[a, lane] * y[a, lane]


@njit(error_model="numpy")
def _project_out(basis: np.ndarray, count: int, v: np.ndarray, coefficients: np.ndarray,
                 mask: np.ndarray) -> None:
    """One classical Gram–Schmidt pass: remove from ``v`` its part in ``basis[:count]``,
    in the lanes where ``mask`` is set (the others keep ``v`` unchanged)."""
    w = v.shape[0]
    for m in range(count):
        for lane in range(LANES):
            coefficients[m, lane] = 0.0
    for a in range(w):
        for m in range(count):
            for lane in range(LANES):
                coefficients[m, lane] += basis[m, a, lane] * v[a, lane]
    for m in range(count):  # a lane left out subtracts exact zeros
        for lane in range(LANES):
            coefficients[m, lane] = coefficients[m, lane] if mask[lane] else 0.0
    for a in range(w):
        for m in range(count):
            for lane in range(LANES):
                v[a, lane] -= coefficients[m, lane] * basis[m, a, lane]


@njit(error_model="numpy")
def _restart(basis: np.ndarray, count: int, v: np.ndarray, lane: int) -> float:
    """The Krylov space of ``lane`` closed: put into ``v[:, lane]`` the first coordinate
    vector with a part outside ``basis[:count]`` (orthogonalised twice); returns the
    norm of that part (≤ 0.5: none left)."""
    w = v.shape[0]
    norm = 0.0
    if count >= min(basis.shape[0], w):
        return 0.0
    for axis in range(w):
        for a in range(w):
            v[a, lane] = 1.0 if a == axis else 0.0
        for _ in range(2):
            for m in range(count):
                coefficient = 0.0
                for a in range(w):
                    coefficient += basis[m, a, lane] * v[a, lane]
                for a in range(w):
                    v[a, lane] -= coefficient * basis[m, a, lane]
        norm = 0.0
        for a in range(w):
            norm += v[a, lane] * v[a, lane]
        norm = math.sqrt(norm)
        if norm > 0.5:
            return norm
    return norm


@njit(error_model="numpy")
def _run_tile(filled: int, ys: np.ndarray, rows: np.ndarray, shifts: np.ndarray,
              lane_series: np.ndarray, lane_time: np.ndarray, lane_slot: np.ndarray,
              lane_phase: np.ndarray, lane_past: np.ndarray, seed: np.ndarray,
              ritz: np.ndarray, taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
              ring_state: np.ndarray, out: np.ndarray, n: int, r: int, k: int,
              k_first: int, k_more: int, tolerance: float, comfort: float,
              noise_ratio: float, noise_steps: int, work: tuple) -> None:
    """Advance the ``filled`` points of a tile (lanes ``filled …`` are padding)."""
    (gram, sums, basis, alpha, beta, v, coefficients, norms, before, mask,
     alpha_l, beta_l, values, vectors, scratch, order, guesses, previous, flat_gram,
     lane_seed, top, final_steps, final_weights, final_values, final_wanted) = work
    w = gram.shape[0]
    for lane in range(filled, LANES):
        shifts[lane] = 0.0
        for a in range(ys.shape[0]):
            ys[a, lane] = 0.0
        for a in range(w):
            rows[a, lane] = 0.0
    _fill_grams(ys, rows, shifts, n, gram, sums)
    stop = np.empty(LANES, dtype=np.int64)
    active = np.zeros(LANES, dtype=np.bool_)
    extended = np.zeros(LANES, dtype=np.bool_)
    comfortable = np.zeros(LANES, dtype=np.bool_)
    noisy = np.zeros(LANES, dtype=np.bool_)
    scale = np.zeros(LANES)
    guided = np.zeros(LANES, dtype=np.int64)
    for lane in range(LANES):
        if lane >= filled:
            for a in range(w):
                basis[0, a, lane] = 1.0 if a == 0 else 0.0
            continue
        s, phase = lane_series[lane], lane_phase[lane]
        energy = 0.0
        for a in range(w):
            energy += seed[s, phase, a] * seed[s, phase, a]
        if energy == 0.0:
            for a in range(w):
                for b in range(w):
                    flat_gram[a, b] = gram[a, b, lane]
            _initial_seed(flat_gram, sums[:, lane].copy(), 0.0, n, r, lane_seed)
            seed[s, phase, :] = lane_seed
        for a in range(w):
            basis[0, a, lane] = seed[s, phase, a]
        guided[lane] = r if ritz[s, phase, 0, 0] > 0.0 else 0
        for m in range(guided[lane]):  # the Ritz values drift smoothly: extrapolate them
            trend = (ritz[s, phase, 0, m] - ritz[s, phase, 1, m]
                     if ritz[s, phase, 1, 0] > 0.0 else 0.0)
            guesses[lane, m] = ritz[s, phase, 0, m] + trend
        stop[lane] = min(max(k_first, start_at[s, phase]), k)
        active[lane] = True
    j = 0
    while j < k:
        any_active = False
        for lane in range(LANES):
            any_active = any_active or active[lane]
        if not any_active:
            break
        _matvec(gram, basis[j], v)
        _dots(basis[j], v, alpha[j])
        for lane in range(LANES):
            scale[lane] = max(scale[lane], abs(alpha[j, lane]))
        for a in range(w):
            for lane in range(LANES):
                v[a, lane] -= alpha[j, lane] * basis[j, a, lane]
        if j > 0:
            for a in range(w):
                for lane in range(LANES):
                    v[a, lane] -= beta[j - 1, lane] * basis[j - 1, a, lane]
        _dots(v, v, before)
        for lane in range(LANES):
            before[lane] = math.sqrt(before[lane])
            mask[lane] = True
        _project_out(basis, j + 1, v, coefficients, mask)
        _dots(v, v, norms)
        again = False
        for lane in range(LANES):
            norms[lane] = math.sqrt(norms[lane])
            mask[lane] = not norms[lane] > 0.7 * before[lane]
            again = again or (mask[lane] and active[lane])
        if again:  # "twice is enough", in the lanes whose vector cancelled much
            _project_out(basis, j + 1, v, coefficients, mask)
            _dots(v, v, before)
            for lane in range(LANES):
                norms[lane] = math.sqrt(before[lane]) if mask[lane] else norms[lane]
        ended = np.zeros(LANES, dtype=np.bool_)
        for lane in range(LANES):
            beta[j, lane] = norms[lane]
            if active[lane] and norms[lane] <= 1e-10 * scale[lane]:
                # the Krylov space is invariant: go on orthogonally, from a coordinate
                beta[j, lane] = 0.0
                norms[lane] = _restart(basis, j + 1, v, lane)
                if norms[lane] <= 0.5:
                    ended[lane] = True
                    norms[lane] = 1.0
        if j + 1 < k:
            for a in range(w):
                for lane in range(LANES):
                    basis[j + 1, a, lane] = v[a, lane] / norms[lane]
        j += 1
        for lane in range(LANES):
            if not active[lane] or not (ended[lane] or stop[lane] == j):
                continue
            steps = j
            for q in range(steps):
                alpha_l[q] = alpha[q, lane]
                beta_l[q] = beta[q, lane]
            wanted = min(r, steps)
            found = tridiagonal_eigen(alpha_l, beta_l, steps, values, vectors, steps, scratch,
                                      guesses[lane, :min(guided[lane], wanted)], wanted)
            _largest(values, found, wanted, order)
            done = ended[lane]
            if not done:
                residual = 0.0
                for m in range(wanted):
                    residual = max(residual,
                                   abs(beta_l[steps - 1] * vectors[order[m], steps - 1]))
                top_value = values[order[0]]
                if residual <= tolerance * top_value and beta_l[steps - 1] > 0.0:
                    comfortable[lane] = (not extended[lane]
                                         and residual <= comfort * tolerance * top_value)
                    done = True
                elif steps >= k:
                    done = True
                elif steps >= noise_steps and values[order[wanted - 1]] >= noise_ratio * top_value:
                    noisy[lane] = True
                    done = True
                else:
                    moved = 0.0
                    for m in range(wanted):
                        moved = max(moved, abs(values[order[m]] - previous[m, lane]))
                        previous[m, lane] = values[order[m]]
                    settled = moved <= _SETTLED * tolerance * top_value
                    if extended[lane] and tolerance > 0.0 and beta_l[steps - 1] > 0.0 and settled:
                        done = True
                    else:
                        extended[lane] = True
                        stop[lane] = min(steps + k_more, k)
            if done:
                active[lane] = False
                final_steps[lane] = steps
                final_wanted[lane] = wanted
                for m in range(wanted):
                    final_values[m, lane] = values[order[m]]
                    for q in range(steps):
                        final_weights[m, q, lane] = vectors[order[m], q]
    for lane in range(filled):
        _finish(lane, lane_series[lane], lane_time[lane], lane_slot[lane], lane_phase[lane],
                lane_past[lane], final_steps[lane], final_wanted[lane], final_weights,
                final_values, comfortable[lane], noisy[lane], basis, top, seed, ritz, taken,
                start_at, ring, ring_state, out, r, noise_steps)


@njit(error_model="numpy")
def _finish(lane: int, s: int, i: int, slot: int, phase: int, past: int, steps: int,
            wanted: int, weights: np.ndarray, values: np.ndarray, comfortable: bool,
            noisy: bool, basis: np.ndarray, top: np.ndarray, seed: np.ndarray,
            ritz: np.ndarray, taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
            ring_state: np.ndarray, out: np.ndarray, r: int, noise_steps: int) -> None:
    """One lane's Ritz vectors: its score, its ring slot, the seed of its phase."""
    w = top.shape[0]
    start_at[s, phase] = steps - 1 if comfortable else steps
    if noisy:  # test there first next time
        start_at[s, phase] = noise_steps
    taken[s] = steps
    for m in range(r):
        ritz[s, phase, 1, m] = ritz[s, phase, 0, m]
        ritz[s, phase, 0, m] = values[m, lane] if m < wanted else 0.0
    for a in range(w):
        seed[s, phase, a] = 0.0
    for m in range(wanted):
        for a in range(w):
            top[a] = 0.0
        for q in range(steps):
            weight = weights[m, q, lane]
            for a in range(w):
                top[a] += weight * basis[q, a, lane]
        norm = 0.0
        for a in range(w):
            norm += top[a] * top[a]
        norm = math.sqrt(norm)
        if m == 0 and past == READY:
            captured = 0.0
            for q in range(r):
                value = 0.0
                for a in range(w):
                    value += ring[s, slot, q, a] * top[a]
                value /= norm
                captured += value * value
            out[s, i] = min(max(1.0 - captured, 0.0), 1.0)
        for a in range(w):
            ring[s, slot, m, a] = top[a] / norm
            seed[s, phase, a] += top[a] / norm
    for m in range(wanted, r):
        for a in range(w):
            ring[s, slot, m, a] = 0.0
    norm = 0.0
    for a in range(w):
        norm += seed[s, phase, a] * seed[s, phase, a]
    norm = math.sqrt(norm)
    for a in range(w):
        seed[s, phase, a] /= norm
    if past == FLAT:
        out[s, i] = 1.0
    ring_state[s, slot] = READY


@njit(error_model="numpy")
def lane_block(full: np.ndarray, count: np.ndarray, center: np.ndarray,
               products: np.ndarray, seed: np.ndarray, ritz: np.ndarray,
               taken: np.ndarray, start_at: np.ndarray, ring: np.ndarray,
               ring_state: np.ndarray, out: np.ndarray, seg: int, w: int, g: int, r: int,
               k: int, demean: bool, flat_tol: float, recenter: int, k_first: int,
               k_more: int, tolerance: float, comfort: float, noise_ratio: float,
               noise_steps: int) -> None:
    """Advance every series (rows of ``full``: history then ``out.shape[1]`` new values).

    State arrays are updated in place, as in
    :func:`~kizashi.detectors.changepoint.tracking_kernel.tracking_block`, except
    that ``seed`` ``(series, period, w)``, ``ritz`` ``(series, period, 2, rank)``
    and ``start_at`` ``(series, period)`` hold one entry per phase: the point
    with 1-based count ``c`` reads and writes phase ``(c − 1) % period``
    (``period = seed.shape[1] ≤ lag``). ``taken`` is the step count of each
    series' last point.
    """
    period = seed.shape[1]
    n_series = full.shape[0]
    n_time = out.shape[1]
    offset = full.shape[1] - n_time
    n = seg - w + 1
    y = np.empty(seg)
    ys = np.zeros((seg, LANES))
    rows = np.zeros((w, LANES))
    shifts = np.zeros(LANES)
    lane_series = np.zeros(LANES, dtype=np.int64)
    lane_time = np.zeros(LANES, dtype=np.int64)
    lane_slot = np.zeros(LANES, dtype=np.int64)
    lane_phase = np.zeros(LANES, dtype=np.int64)
    lane_past = np.zeros(LANES, dtype=np.int64)
    work = (np.empty((w, w, LANES)), np.empty((w, LANES)), np.zeros((k, w, LANES)),
            np.zeros((k, LANES)), np.zeros((k, LANES)), np.empty((w, LANES)),
            np.empty((k, LANES)), np.empty(LANES), np.empty(LANES),
            np.ones(LANES, dtype=np.bool_), np.empty(k), np.empty(k), np.empty(k),
            np.empty((k, k)), np.empty(k), np.empty(k, dtype=np.int64),
            np.zeros((LANES, r)), np.zeros((r, LANES)), np.empty((w, w)), np.empty(w),
            np.empty(w), np.zeros(LANES, dtype=np.int64), np.zeros((r, k, LANES)),
            np.zeros((r, LANES)), np.zeros(LANES, dtype=np.int64))
    filled = 0
    for first in range(0, n_time, period):
        last = min(first + period, n_time)
        for s in range(n_series):
            c = count[s]
            row = full[s]
            for i in range(first, last):
                c += 1
                out[s, i] = 0.0
                if c < seg:
                    continue
                end = offset + i + 1
                start = end - seg
                rebuild = (c - seg) % recenter == 0
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
                    _lag_products(y, n, w, products[s])
                else:
                    _slide_products(y, row[start - 1] - level, n, w, products[s])
                mean = total / seg
                energy = 0.0
                for a in range(seg):
                    energy += (y[a] - mean) * (y[a] - mean)
                slot = (c - 1) % g
                phase = (c - 1) % period
                past = ring_state[s, slot] if c >= seg + g else EMPTY
                flat = energy <= flat_tol * raw if demean else raw == 0.0
                if flat:
                    ring_state[s, slot] = FLAT
                    ritz[s, phase, :, 0] = 0.0  # no estimates for this phase's next point
                    continue
                for a in range(seg):
                    ys[a, filled] = y[a]
                for a in range(w):
                    rows[a, filled] = products[s, a]
                shifts[filled] = mean if demean else -level
                lane_series[filled] = s
                lane_time[filled] = i
                lane_slot[filled] = slot
                lane_phase[filled] = phase
                lane_past[filled] = past
                filled += 1
                if filled == LANES:
                    _run_tile(filled, ys, rows, shifts, lane_series, lane_time, lane_slot,
                              lane_phase, lane_past, seed, ritz, taken, start_at, ring,
                              ring_state, out, n, r, k, k_first, k_more, tolerance, comfort,
                              noise_ratio, noise_steps, work)
                    filled = 0
            count[s] = c
        if filled:  # the next points depend on these
            _run_tile(filled, ys, rows, shifts, lane_series, lane_time, lane_slot,
                      lane_phase, lane_past, seed, ritz, taken, start_at, ring, ring_state,
                      out, n, r, k, k_first, k_more, tolerance, comfort, noise_ratio,
                      noise_steps, work)
            filled = 0


@njit(error_model="numpy")
def lockstep_ql(alpha: np.ndarray, beta: np.ndarray, k: int, values: np.ndarray,
                e: np.ndarray, vectors: np.ndarray) -> None:
    """Every lane's full eigendecomposition of its ``k × k`` tridiagonal matrix
    ``(alpha[:, lane], beta[:, lane])`` by implicit QL with Wilkinson shifts (EISPACK's
    ``tql2``, as in :func:`~kizashi.detectors.changepoint.tridiagonal.tridiagonal_eigen`),
    the lanes in lockstep: every sweep runs over the rows of the lane that needs most,
    each lane's updates kept or dropped by a select. ``values[i, lane]`` and
    ``vectors[i, :, lane]`` receive the eigenpairs (unsorted); ``e`` is scratch."""
    norm = np.zeros(LANES)
    for i in range(k):
        for lane in range(LANES):
            off = abs(beta[i, lane]) if i + 1 < k else 0.0
            norm[lane] = max(norm[lane], abs(alpha[i, lane]) + off)
    for lane in range(LANES):
        norm[lane] = norm[lane] if norm[lane] > 0.0 else 1.0
    for i in range(k):
        for lane in range(LANES):
            values[i, lane] = alpha[i, lane] / norm[lane]
            e[i, lane] = beta[i, lane] / norm[lane] if i + 1 < k else 0.0
        for q in range(k):
            for lane in range(LANES):
                vectors[i, q, lane] = 1.0 if i == q else 0.0
    ms = np.empty(LANES, dtype=np.int64)
    run = np.empty(LANES, dtype=np.bool_)
    s = np.empty(LANES)
    c = np.empty(LANES)
    p = np.empty(LANES)
    g = np.empty(LANES)
    zero = np.empty(LANES, dtype=np.bool_)
    for low in range(k):
        for _sweep in range(100):
            top = low
            for lane in range(LANES):
                m = low
                while m < k - 1 and abs(e[m, lane]) > 1e-15:
                    m += 1
                ms[lane] = m
                run[lane] = m != low
                top = max(top, m)
                if run[lane]:
                    gg = (values[low + 1, lane] - values[low, lane]) / (2.0 * e[low, lane])
                    rr = math.sqrt(gg * gg + 1.0)
                    g[lane] = (values[m, lane] - values[low, lane]
                               + e[low, lane] / (gg + math.copysign(rr, gg)))
                else:
                    g[lane] = 1.0
                s[lane] = 1.0
                c[lane] = 1.0
                p[lane] = 0.0
                zero[lane] = False
            if top == low:
                break
            for i in range(top - 1, low - 1, -1):
                for lane in range(LANES):
                    act = run[lane] and i < ms[lane] and not zero[lane]
                    f = s[lane] * e[i, lane]
                    b = c[lane] * e[i, lane]
                    r = math.sqrt(f * f + g[lane] * g[lane])
                    hit = act and r == 0.0
                    ok = act and r != 0.0
                    rs = r if ok else 1.0
                    sn = f / rs
                    cn = g[lane] / rs
                    g2 = values[i + 1, lane] - p[lane]
                    r2 = (values[i, lane] - g2) * sn + 2.0 * cn * b
                    pn = sn * r2
                    e[i + 1, lane] = r if act else e[i + 1, lane]
                    kept = (values[i + 1, lane] - p[lane]) if hit else values[i + 1, lane]
                    values[i + 1, lane] = (g2 + pn) if ok else kept
                    zero[lane] = zero[lane] or hit
                    s[lane] = sn if ok else s[lane]
                    c[lane] = cn if ok else c[lane]
                    p[lane] = pn if ok else p[lane]
                    g[lane] = (cn * r2 - b) if ok else g[lane]
                    sr = sn if ok else 0.0
                    cr = cn if ok else 1.0
                    for q in range(k):
                        fq = vectors[i + 1, q, lane]
                        vectors[i + 1, q, lane] = sr * vectors[i, q, lane] + cr * fq
                        vectors[i, q, lane] = cr * vectors[i, q, lane] - sr * fq
            for lane in range(LANES):
                if run[lane] and zero[lane]:
                    e[ms[lane], lane] = 0.0
                elif run[lane]:
                    values[low, lane] -= p[lane]
                    e[low, lane] = g[lane]
                    e[ms[lane], lane] = 0.0
    for i in range(k):
        for lane in range(LANES):
            values[i, lane] *= norm[lane]
