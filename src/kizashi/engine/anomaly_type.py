"""What kind of anomaly an incident is, from simple tests of its segment against what came before.

:func:`anomaly_type` labels the rows ``start..end`` of one series with one of
:data:`TYPES`, comparing them with a reference stretch just before ``start``:

``stall``
    the data stopped: most of the segment is missing, or it is flat where the
    reference moved;
``spike``
    a few points far out (robust z > 4) while the rest of the segment is normal;
``seasonal_break``
    the reference has a clear cycle (autocorrelation ≥ 0.5 at some lag) that
    the segment no longer follows (its correlation with the cycle's profile
    drops below half and its residuals grow);
``trend``
    a straight-line fit explains the segment (``scipy.stats.linregress``:
    r² ≥ 0.6, p < 0.01) and it moves by more than two reference spreads;
``level_shift``
    the segment's median moved by more than three robust spreads
    (and ``scipy.stats.mannwhitneyu`` p < 0.01 against the reference);
``variance_change``
    the spread changed (``scipy.stats.levene`` p < 0.01 and the ratio of
    spreads above 2 or below 0.5) with the level kept.

The tests run in this order; when none fires the largest effect decides (a
shift of the level, else of the spread; a segment of ≤ 3 points is a spike).
Robust spread is the median absolute deviation ×1.4826, so an earlier anomaly
in the reference does not hide the scale.

>>> rng = np.random.default_rng(0)
>>> series = rng.normal(10, 1, 400)
>>> series[300:340] += 8
>>> anomaly_type(series, 300, 339)
'level_shift'
>>> series[360] += 30
>>> anomaly_type(series, 360, 361)
'spike'
"""

from __future__ import annotations

import numpy as np

from kizashi.streaming.magnitudes import magnitude_factors

__all__ = ["TYPES", "anomaly_type", "dominant_period"]

TYPES = ("level_shift", "spike", "trend", "variance_change", "stall", "seasonal_break")

#: MAD → σ for Gaussian data.
MAD_TO_SIGMA = 1.4826


def _spread(x: np.ndarray) -> float:
    median = np.median(x)
    mad = MAD_TO_SIGMA * float(np.median(np.abs(x - median)))
    if mad > 0:
        return mad
    std = float(np.std(x))
    return std if std > 0 else 1e-9 * (1.0 + abs(float(median)))


def dominant_period(x: np.ndarray, min_lag: int = 3, min_acf: float = 0.5) -> int | None:
    """The lag of the highest autocorrelation peak ≥ ``min_acf`` (None without a clear cycle).

    >>> dominant_period(np.sin(2 * np.pi * np.arange(500) / 48))
    48
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[np.isfinite(x)]
    n = x.size
    if n < 4 * min_lag:
        return None
    centred = x - x.mean()
    power = float(centred @ centred)
    if power <= 0:
        return None
    spectrum = np.fft.rfft(centred, 2 * n)
    acf = np.fft.irfft(spectrum * np.conj(spectrum))[: n // 2] / power
    acf = acf * n / (n - np.arange(acf.size))  # unbiased: each lag over the pairs it has
    peaks = [lag for lag in range(min_lag, n // 2 - 1)
             if acf[lag] >= min_acf and acf[lag] >= acf[lag - 1] and acf[lag] >= acf[lag + 1]]
    if not peaks:
        return None
    top = max(acf[lag] for lag in peaks)
    best_lag = next(lag for lag in peaks if acf[lag] >= 0.9 * top)  # the cycle, not a multiple
    # the peak between samples (a parabola through three), rounded to whole steps
    left, mid, right = acf[best_lag - 1], acf[best_lag], acf[best_lag + 1]
    curve = left - 2 * mid + right
    offset = 0.5 * (left - right) / curve if curve < 0 else 0.0
    return int(np.rint(best_lag + offset))


def _profile(reference: np.ndarray, period: int) -> np.ndarray:
    """The mean of each phase of the cycle over the reference."""
    phases = np.arange(reference.size) % period
    return np.array([np.nanmean(reference[phases == p]) if np.isfinite(reference[phases == p]).any()
                     else np.nan for p in range(period)])


def _seasonal_break(segment: np.ndarray, expected: np.ndarray, reference: np.ndarray,
                    fitted: np.ndarray) -> bool:
    """The segment stopped following the cycle (its correlation with it halved) while
    staying in the reference's range (leaving it is a shift, trend or wider spread)."""
    ok = np.isfinite(segment) & np.isfinite(expected)
    ok_ref = np.isfinite(reference) & np.isfinite(fitted)
    if ok.sum() < 4 or np.std(expected[ok]) == 0 or np.std(fitted[ok_ref]) == 0:
        return False
    ref_corr = np.corrcoef(reference[ok_ref], fitted[ok_ref])[0, 1]
    seg_corr = np.corrcoef(segment[ok], expected[ok])[0, 1] if np.std(segment[ok]) > 0 else 0.0
    low, high = np.quantile(reference[ok_ref], [0.01, 0.99])
    inside = np.mean((segment[ok] >= low) & (segment[ok] <= high))
    return bool(seg_corr < 0.5 * ref_corr and inside >= 0.95)


def anomaly_type(values: np.ndarray, start: int, end: int, reference_steps: int | None = None,
                 period: int | None = None) -> str:
    """The type of the anomaly in rows ``start..end`` (inclusive) of one series.

    The reference is the ``reference_steps`` rows before ``start`` (default:
    ten times the segment, at least 500, at most what there is); ``period``
    fixes the cycle length instead of estimating it from the reference.
    """
    from scipy import stats

    values = np.asarray(values, dtype=np.float64).reshape(-1)
    if not 0 <= start <= end < values.size:
        raise ValueError(f"anomaly_type: rows {start}..{end} are outside 0..{values.size - 1}")
    values = values * magnitude_factors(values)[0]  # 1e300: typed at an ordinary magnitude
    length = end - start + 1
    steps = reference_steps or max(10 * length, 500)
    begin = max(start - steps, 0)
    reference, segment = values[begin:start], values[start:end + 1]
    ref = reference[np.isfinite(reference)]
    seg = segment[np.isfinite(segment)]
    if seg.size < 0.5 * length:
        return "stall"
    if ref.size < 10:
        return "spike" if length <= 3 else "level_shift"
    if seg.size >= 3 and np.std(seg) <= 0.01 * float(np.std(ref)):
        return "stall"
    cycle = period or dominant_period(ref)
    if cycle and reference.size >= 2 * cycle:
        profile = _profile(reference, cycle)
        fitted = profile[np.arange(reference.size) % cycle]
        expected = profile[(reference.size + np.arange(segment.size)) % cycle]
        if _seasonal_break(segment, expected, reference, fitted):
            return "seasonal_break"
        reference, segment = reference - fitted, segment - expected  # judge what the cycle leaves
        ref = reference[np.isfinite(reference)]
        seg = segment[np.isfinite(segment)]
    centre, scale = float(np.median(ref)), _spread(ref)
    z = np.abs(seg - centre) / scale
    outliers = int((z > 4).sum())
    if outliers and (length <= 3 or (outliers <= max(2, 0.2 * seg.size)
                                     and np.median(z) < 2)):
        return "spike"
    shift = abs(float(np.median(seg)) - centre) / scale
    if seg.size >= 5:
        fit = stats.linregress(np.arange(segment.size)[np.isfinite(segment)], seg)
        rise = abs(fit.slope) * (segment.size - 1) / scale
        if fit.rvalue ** 2 >= 0.6 and fit.pvalue < 0.01 and rise > 2:
            return "trend"
    if shift > 3 and stats.mannwhitneyu(seg, ref).pvalue < 0.01:
        return "level_shift"
    if seg.size < 5:  # too short for a spread: a blip, or a short step
        return "spike" if length <= 3 else "level_shift"
    ratio = float(np.std(seg)) / max(float(np.std(ref)), 1e-12)
    if (ratio > 2 or ratio < 0.5) and stats.levene(seg, ref).pvalue < 0.01:
        return "variance_change"
    return "level_shift" if shift >= abs(np.log2(max(ratio, 1e-12))) else "variance_change"
