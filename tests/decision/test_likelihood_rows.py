"""The likelihood's compiled rows: moving averages, Gaussian in force and z-scores.

Reference: a plain Python loop written from the definitions (the moving average
of the last ``width`` learned scores, fewer at the start; the last fit at or
below the learned count, else the state's; the two-sided mirror), on families
with NaN, unlearned rows, ±inf, flat and far-off scores, and several series
starting at different counts.
"""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.decision.likelihood_rows import block_z, pack_learned


def reference(x, learned, history, count0, width, window, warmup, period, two_sided,
              state_mean, state_std, fit_mean, fit_std, offsets, due0, last_average):
    n_rows, n = x.shape
    z, z_last, warm = np.empty((n_rows, n)), np.empty((n_rows, n)), np.empty((n_rows, n), bool)
    last_out = np.empty(n)

    def score(a, mean, std):
        if two_sided and a < mean:
            a = 2 * mean - a
        return 0.0 if a - mean == 0 else (a - mean) / std

    for j in range(n):
        count = int(count0[j])
        learned_scores = {count - b: history[(count - b) % window, j]
                          for b in range(1, width) if count >= b}
        last = last_average[j]
        for i in range(n_rows):
            total = 0.0
            for c in range(count - width + 1, count):
                total += learned_scores.get(c, 0.0)
            average = (total + x[i, j]) / min(count + 1, width)
            fits = [f for f in range(offsets[j], len(fit_mean)) if f < offsets[j] + (
                (1 + count // period - warmup // period if count >= warmup else 0) - due0[j])]
            mean, std = ((fit_mean[fits[-1]], fit_std[fits[-1]]) if fits
                         else (state_mean[j], state_std[j]))
            with np.errstate(all="ignore"):
                z[i, j], z_last[i, j] = score(average, mean, std), score(last, mean, std)
            warm[i, j] = count >= warmup
            if learned[i, j]:
                learned_scores[count] = x[i, j]
                last = average
                count += 1
        last_out[j] = last
    return z, z_last, warm, last_out


@pytest.mark.parametrize("two_sided", [True, False])
@pytest.mark.parametrize("kind", ["plain", "gaps", "flat", "far"])
def test_block_z_follows_the_definitions(kind, two_sided):
    rng = np.random.default_rng(len(kind))
    n_rows, n, width, window, warmup, period = 60, 3, 4, 12, 5, 7
    x = rng.gamma(2.0, 0.3, (n_rows, n))
    learned = rng.random((n_rows, n)) > 0.2
    if kind == "gaps":
        x[rng.random(x.shape) < 0.1] = np.nan
        x[rng.random(x.shape) < 0.03] = np.inf
    elif kind == "flat":
        x[:] = 0.25
    elif kind == "far":
        x += 1e6
    learned &= ~np.isnan(x)
    history = rng.gamma(2.0, 0.3, (window, n))
    count0 = np.array([0, 2, 30])
    due0 = np.where(count0 >= warmup, 1 + count0 // period - warmup // period, 0)
    n_after = count0 + learned.sum(axis=0)
    n_fits = np.where(n_after >= warmup, 1 + n_after // period - warmup // period, 0) - due0
    offsets = np.cumsum(n_fits) - n_fits
    fit_mean = rng.uniform(0.2, 1.0, n_fits.sum())
    fit_std = rng.uniform(0.05, 0.5, n_fits.sum())
    args = (x, learned, history, count0, width, window, warmup, period, two_sided,
            np.array([np.nan, 0.5, 0.6]), np.array([np.nan, 0.1, 0.2]), fit_mean, fit_std,
            offsets, due0)
    want = reference(*args, np.array([np.nan, 0.4, 0.7]))
    z, z_last = np.empty((n_rows, n)), np.empty((n_rows, n))
    warm, last = np.empty((n_rows, n), dtype=bool), np.array([np.nan, 0.4, 0.7])
    block_z(*args, z, z_last, warm, last)
    np.testing.assert_array_equal(z, want[0])
    np.testing.assert_array_equal(z_last, want[1])
    np.testing.assert_array_equal(warm, want[2])
    np.testing.assert_array_equal(last, want[3])


def test_pack_learned_moves_each_columns_learned_scores_up():
    rng = np.random.default_rng(1)
    x = rng.normal(0, 1, (50, 4))
    learned = rng.random(x.shape) > 0.4
    learned[:, 3] = False
    values, n_learned = np.full(x.shape, np.nan), np.empty(4, dtype=np.int64)
    pack_learned(x, learned, values, n_learned)
    for j in range(4):
        kept = x[learned[:, j], j]
        assert n_learned[j] == kept.size
        np.testing.assert_array_equal(values[:kept.size, j], kept)
        assert (values[kept.size:, j] == 0.0).all()
