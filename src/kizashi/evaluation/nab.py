"""The Numenta Anomaly Benchmark (NAB) score, written from NAB's published method.

NAB (Lavin & Ahmad 2015, "Evaluating Real-time Anomaly Detection Algorithms --
the Numenta Anomaly Benchmark"; scorer of numenta/NAB after the 2019 "sweep
scoring" change) rewards a detector for firing early inside a labelled anomaly
window and penalises false alarms outside windows:

* the first ``probationary_length(N) = min(floor(0.15 N), 750)`` rows of a file
  are for learning and are never scored;
* a row inside a window ``[s, e]`` (inclusive, width ``W = e - s + 1``) would
  earn ``A_TP * S(-(e - i + 1) / W) / S(-1)`` if it were a detection, where
  ``S(y) = 2 sigmoid(-5 y) - 1`` (``-1`` once ``y > 3``); only a window's
  best (earliest) detection counts, and an undetected window costs ``-A_FN``;
* a detection outside windows costs ``A_FP * S((i - e') / (W' - 1))`` after a
  window ending at ``e'`` (width ``W'``), and the full ``-A_FP`` before the
  first window of a file; every such row counts, there is no de-duplication;
* one threshold per detector and profile is chosen for the whole corpus by an
  exhaustive sweep over every distinct anomaly score (a row is a detection when
  ``score >= threshold``; ties go to the higher threshold; 1.1 = no detection);
* the corpus score is normalised so that the null detector (constant 0.5)
  scores 0 and the perfect detector (every window at its first row, no false
  positive: ``A_TP`` times the number of windows) scores 100.

Rows are matched by position and windows by exact timestamp, as in NAB.

Examples
--------
>>> import numpy as np
>>> from types import SimpleNamespace
>>> t = np.arange(100).astype("datetime64[m]").astype("datetime64[ns]")
>>> series = SimpleNamespace(name="demo/a.csv", timestamps=t, windows=[(t[40], t[49])])
>>> scores = np.zeros(100)
>>> scores[40] = 1.0          # a detection on the window's first row
>>> result = NabScorer([series]).score({"demo/a.csv": scores})["standard"]
>>> round(result.normalized, 2), result.threshold, round(result.raw_score, 4)
(100.0, 1.0, 1.0)
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

__all__ = [
    "NAB_PROFILES",
    "NabFileLayout",
    "NabFileScore",
    "NabProfile",
    "NabProfileResult",
    "NabScorer",
    "NabSweep",
    "load_profiles",
    "normalize_score",
    "probationary_length",
    "scaled_sigmoid",
]

#: Fraction of each file reserved for learning (``nab/runner.py``).
PROBATION_FRACTION = 0.15
#: NAB caps the probationary period at 15 % of 5000 rows.
PROBATION_CAP_ROWS = 5000
#: The sweep's first candidate threshold, above every valid score: no detection.
NO_DETECTION_THRESHOLD = 1.1


@dataclass(frozen=True)
class NabProfile:
    """An application profile: the weights of NAB's cost matrix.

    Parameters
    ----------
    name : str
        ``standard``, ``reward_low_FP_rate`` or ``reward_low_FN_rate`` for NAB's own.
    tp_weight, fp_weight, fn_weight : float
        ``A_TP``, ``A_FP`` and ``A_FN`` (NAB's ``tnWeight`` is never used).

    Examples
    --------
    >>> NAB_PROFILES["reward_low_FN_rate"].fn_weight
    2.0
    """

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


#: NAB's three profiles (``config/profiles.json`` of numenta/NAB).
NAB_PROFILES: dict[str, NabProfile] = {
    "standard": NabProfile("standard", 1.0, 0.11, 1.0),
    "reward_low_FP_rate": NabProfile("reward_low_FP_rate", 1.0, 0.22, 1.0),
    "reward_low_FN_rate": NabProfile("reward_low_FN_rate", 1.0, 0.11, 2.0),
}


def load_profiles(path: str | Path) -> dict[str, NabProfile]:
    """Read NAB's ``config/profiles.json`` (``{name: {"CostMatrix": {...}}}``)."""
    path = Path(path)
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    profiles = {}
    for name, entry in raw.items():
        try:
            matrix = entry["CostMatrix"]
            profiles[name] = NabProfile(
                name, float(matrix["tpWeight"]), float(matrix["fpWeight"]),
                float(matrix["fnWeight"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(
                f"{path}: profile {name!r} lacks CostMatrix tpWeight/fpWeight/fnWeight ({error})"
            ) from None
    return profiles


def scaled_sigmoid(x: Any) -> np.ndarray:
    """NAB's scaled sigmoid ``2 / (1 + exp(5 x)) - 1``, and ``-1`` for ``x > 3``.

    NAB's sweeper (``nab/sweeper.py``) cuts off at ``x > 3``, so ``x = 3`` still
    gives ``2 sigmoid(-15) - 1 = -0.9999994``; the shipped summaries agree.

    >>> scaled_sigmoid([-1.0, -0.5, 0.0, 1.0, 3.5]).round(5).tolist()
    [0.98661, 0.84828, 0.0, -0.98661, -1.0]
    """
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(over="ignore"):
        out = 2.0 / (1.0 + np.exp(5.0 * np.minimum(x, 3.0))) - 1.0
    return np.where(x > 3.0, -1.0, out)


MAX_TP = float(scaled_sigmoid(-1.0))


def probationary_length(n_rows: int, fraction: float = PROBATION_FRACTION) -> int:
    """Rows at the start of a file that are never scored: ``min(floor(f N), f 5000)``.

    >>> probationary_length(4032), probationary_length(22695)
    (604, 750)
    """
    return int(min(math.floor(fraction * n_rows), math.ceil(fraction * PROBATION_CAP_ROWS)))


class SeriesLike(Protocol):
    """What the scorer reads from a labelled series (e.g. :class:`kizashi.data.nab.NabSeries`)."""

    name: str
    timestamps: np.ndarray
    windows: Sequence[tuple[Any, Any]]


@dataclass(frozen=True, eq=False)
class NabFileLayout:
    """Where a file's windows lie and what each scored row would earn if detected.

    Arrays cover the rows after the probationary period only.

    Attributes
    ----------
    name : str
        The file's corpus name, e.g. ``realKnownCause/nyc_taxi.csv``.
    n_rows, probation : int
        File length and probationary length.
    window : numpy.ndarray of int
        Index of the window a row lies in, ``-1`` outside windows.
    tp_unit : numpy.ndarray
        ``S(y) / S(-1)`` inside windows (0 outside): the earning per unit ``A_TP``.
    fp_unit : numpy.ndarray
        ``S(distance)`` outside windows, ``-1`` before the first window (0 inside):
        the earning per unit ``A_FP``.
    n_windows : int
        Windows in the file; ``scorable`` marks those with a row after probation.
    """

    name: str
    n_rows: int
    probation: int
    window: np.ndarray
    tp_unit: np.ndarray
    fp_unit: np.ndarray
    n_windows: int
    scorable: np.ndarray = field(repr=False)

    @classmethod
    def build(cls, name: str, timestamps: Any, windows: Iterable[tuple[Any, Any]],
              probation_fraction: float = PROBATION_FRACTION) -> NabFileLayout:
        """Lay out ``windows`` (inclusive timestamp bounds) over ``timestamps``."""
        stamps = np.asarray(timestamps).astype("datetime64[ns]")
        n = stamps.shape[0]
        bounds = sorted(
            (np.datetime64(a).astype("datetime64[ns]"), np.datetime64(b).astype("datetime64[ns]"))
            for a, b in windows
        )
        window = np.full(n, -1, dtype=np.int64)
        tp_unit = np.zeros(n)
        fp_unit = np.full(n, -1.0)
        rows = np.arange(n)
        previous_end = -1
        for k, (start, end) in enumerate(bounds):
            s = _first_index(stamps, start, name, "start")
            e = _first_index(stamps, end, name, "end")
            if e < s:
                raise ValueError(f"{name}: window {k} ends ({end}) before it starts ({start})")
            if s <= previous_end:
                raise ValueError(
                    f"{name}: window {k} starting {start} overlaps the previous window; "
                    "NAB windows must be disjoint"
                )
            width = e - s + 1
            inside = rows[s:e + 1]
            window[s:e + 1] = k
            tp_unit[s:e + 1] = scaled_sigmoid(-(e - inside + 1) / width) / MAX_TP
            fp_unit[s:e + 1] = 0.0
            after = rows[e + 1:]
            if width > 1:
                fp_unit[e + 1:] = scaled_sigmoid((after - e) / (width - 1))
            else:  # NAB divides by zero here; a one-row window's FPs cost the full A_FP.
                fp_unit[e + 1:] = -1.0
            previous_end = e
        probation = probationary_length(n, probation_fraction)
        window = window[probation:]
        scorable = np.zeros(len(bounds), dtype=bool)
        scorable[np.unique(window[window >= 0])] = True
        return cls(name, n, probation, window, tp_unit[probation:], fp_unit[probation:],
                   len(bounds), scorable)

    def earnings(self, profile: NabProfile) -> np.ndarray:
        """What each scored row would earn under ``profile`` if it were a detection."""
        return np.where(self.window >= 0, profile.tp_weight * self.tp_unit,
                        profile.fp_weight * self.fp_unit)


def _first_index(stamps: np.ndarray, bound: np.datetime64, name: str, what: str) -> int:
    hits = np.flatnonzero(stamps == bound)
    if hits.size == 0:
        raise ValueError(
            f"{name}: window {what} {bound} is not a timestamp of the file; NAB matches "
            "window bounds by exact timestamp"
        )
    return int(hits[0])


@dataclass(frozen=True)
class NabFileScore:
    """One file's NAB score and row counts at a fixed threshold (a row of ``*_scores.csv``)."""

    name: str
    threshold: float
    score: float
    tp: int
    tn: int
    fp: int
    fn: int
    total: int


@dataclass(frozen=True)
class NabSweep:
    """Corpus raw score at every candidate threshold, highest threshold first."""

    thresholds: np.ndarray
    scores: np.ndarray

    @property
    def best(self) -> tuple[float, float]:
        """``(threshold, raw score)`` of the best candidate (the higher one on ties)."""
        k = int(np.argmax(self.scores))
        return float(self.thresholds[k]), float(self.scores[k])


@dataclass(frozen=True)
class NabProfileResult:
    """A detector's NAB result under one profile."""

    profile: NabProfile
    threshold: float
    raw_score: float
    null_score: float
    perfect_score: float
    files: list[NabFileScore]

    @property
    def normalized(self) -> float:
        """The NAB score: 0 for the null detector, 100 for the perfect one."""
        return normalize_score(self.raw_score, self.null_score, self.perfect_score)

    def to_frame(self):  # -> pandas.DataFrame
        """Per-file rows and a ``Totals`` row, like NAB's ``<det>_<profile>_scores.csv``."""
        import pandas as pd

        rows = [
            {"File": f.name, "Threshold": f.threshold, "Score": f.score, "TP": f.tp,
             "TN": f.tn, "FP": f.fp, "FN": f.fn, "Total_Count": f.total}
            for f in self.files
        ]
        frame = pd.DataFrame(rows, columns=["File", "Threshold", "Score", "TP", "TN", "FP",
                                            "FN", "Total_Count"])
        totals = frame[["Score", "TP", "TN", "FP", "FN", "Total_Count"]].sum()
        frame.loc[len(frame)] = {"File": "Totals", "Threshold": self.threshold, **totals}
        return frame


def normalize_score(raw: float, null: float, perfect: float) -> float:
    """``100 (raw - null) / (perfect - null)``.

    >>> round(normalize_score(-24.0131054891, -116.0, 116.0), 2)
    39.65
    """
    if perfect == null:
        raise ValueError("cannot normalise: the perfect and null scores are equal (no windows?)")
    return 100.0 * (raw - null) / (perfect - null)


class NabScorer:
    """NAB's scorer over a labelled corpus: sweep, per-file scores and normalisation.

    Parameters
    ----------
    corpus : sequence of series
        Objects with ``name``, ``timestamps`` (datetime64) and ``windows`` (pairs
        of inclusive bounds), e.g. ``kizashi.data.nab.load_nab_corpus()``. The
        null and perfect scores of the normalisation come from the whole corpus.
    profiles : mapping of str to NabProfile, optional
        Defaults to NAB's three profiles.
    probation_fraction : float
        NAB uses 0.15.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> t = np.arange(200).astype("datetime64[h]").astype("datetime64[ns]")
    >>> series = SimpleNamespace(name="x/b.csv", timestamps=t, windows=[(t[100], t[119])])
    >>> scores = np.zeros(200)
    >>> scores[[60, 110]] = [0.8, 0.9]   # a weaker false alarm, a hit mid-window
    >>> result = NabScorer([series]).score({"x/b.csv": scores})["standard"]
    >>> result.threshold, round(result.raw_score, 4), round(result.normalized, 2)
    (0.9, 0.8598, 92.99)
    """

    def __init__(self, corpus: Sequence[SeriesLike],
                 profiles: Mapping[str, NabProfile] | None = None,
                 probation_fraction: float = PROBATION_FRACTION):
        self.corpus = {series.name: series for series in corpus}
        if len(self.corpus) != len(corpus):
            raise ValueError("NabScorer: the corpus names a file twice")
        self.profiles = dict(NAB_PROFILES if profiles is None else profiles)
        self.probation_fraction = probation_fraction
        self._layouts: dict[str, NabFileLayout] = {}

    # ------------------------------------------------------------------ layout
    def layout(self, name: str, timestamps: Any = None) -> NabFileLayout:
        """The layout of corpus file ``name`` (over ``timestamps`` when given)."""
        series = self._series(name)
        if timestamps is None:
            if name not in self._layouts:
                self._layouts[name] = NabFileLayout.build(
                    name, series.timestamps, series.windows, self.probation_fraction)
            return self._layouts[name]
        return NabFileLayout.build(name, timestamps, series.windows, self.probation_fraction)

    def _series(self, name: str) -> SeriesLike:
        try:
            return self.corpus[name]
        except KeyError:
            raise ValueError(
                f"{name!r} is not a file of the corpus (expected names such as "
                f"{next(iter(self.corpus), 'category/file.csv')!r})"
            ) from None

    def _prepare(self, scores: Mapping[str, Any],
                 timestamps: Mapping[str, Any] | None) -> list[tuple[NabFileLayout, np.ndarray]]:
        timestamps = timestamps or {}
        parts = []
        for name in sorted(scores):
            values = np.asarray(scores[name], dtype=np.float64).reshape(-1)
            rows = len(self._series(name).timestamps)
            if values.shape[0] == 0 and rows:
                raise ValueError(f"{name}: 0 anomaly scores for {rows} rows (empty result)")
            layout = self.layout(name, timestamps.get(name))
            if values.shape[0] != layout.n_rows:
                raise ValueError(
                    f"{name}: {values.shape[0]} anomaly scores for {layout.n_rows} rows; NAB "
                    "matches result rows to data rows by position"
                )
            if np.isnan(values).any():
                warnings.warn(f"{name}: {int(np.isnan(values).sum())} NaN anomaly scores are "
                              "never detections", UserWarning, stacklevel=3)
            parts.append((layout, values[layout.probation:]))
        missing = sorted(set(self.corpus) - set(scores))
        if missing:
            warnings.warn(
                f"no results for {len(missing)} corpus file(s) ({', '.join(missing[:3])}"
                f"{' ...' if len(missing) > 3 else ''}); their windows count in the "
                "normalisation but not in the raw score, as in NAB", UserWarning, stacklevel=3)
        return parts

    # ------------------------------------------------------------------- sweep
    def sweep(self, scores: Mapping[str, Any], profile: NabProfile | str = "standard",
              timestamps: Mapping[str, Any] | None = None) -> NabSweep:
        """The corpus raw score at every candidate threshold (NAB's exhaustive sweep)."""
        return _sweep(self._prepare(scores, timestamps), self._profile(profile))

    def score_file(self, name: str, scores: Any, threshold: float,
                   profile: NabProfile | str = "standard", timestamps: Any = None) -> NabFileScore:
        """One file's score and TP/TN/FP/FN row counts at ``threshold``."""
        layout = self.layout(name, timestamps)
        values = np.asarray(scores, dtype=np.float64).reshape(-1)
        if values.shape[0] != layout.n_rows:
            raise ValueError(f"{name}: {values.shape[0]} anomaly scores for {layout.n_rows} rows")
        return _score_file(layout, values[layout.probation:], threshold, self._profile(profile))

    def score(self, scores: Mapping[str, Any], profiles: Iterable[str] | None = None,
              timestamps: Mapping[str, Any] | None = None) -> dict[str, NabProfileResult]:
        """Optimise the threshold per profile, score every file, and normalise.

        Parameters
        ----------
        scores : mapping of str to array
            Anomaly scores (one per row, in [0, 1] for NAB) by corpus file name.
        profiles : iterable of str, optional
            Profile names; all of this scorer's profiles by default.
        timestamps : mapping of str to array, optional
            Row timestamps per file when they differ from the corpus' own (e.g.
            the ``timestamp`` column of a result file).
        """
        parts = self._prepare(scores, timestamps)
        null_parts = [(layout, np.full(layout.window.shape[0], 0.5))
                      for layout in (self.layout(name) for name in sorted(self.corpus))]
        n_windows = sum(self.layout(name).n_windows for name in self.corpus)
        out = {}
        for name in profiles or self.profiles:
            profile = self._profile(name)
            threshold, raw = _sweep(parts, profile).best
            files = [_score_file(layout, values, threshold, profile) for layout, values in parts]
            null = _sweep(null_parts, profile).best[1]
            out[profile.name] = NabProfileResult(
                profile, threshold, raw, null, profile.tp_weight * n_windows, files)
        return out

    def _profile(self, profile: NabProfile | str) -> NabProfile:
        if isinstance(profile, NabProfile):
            return profile
        try:
            return self.profiles[profile]
        except KeyError:
            raise ValueError(f"unknown NAB profile {profile!r}; known: "
                             f"{', '.join(self.profiles)}") from None


def _sweep(parts: Sequence[tuple[NabFileLayout, np.ndarray]], profile: NabProfile) -> NabSweep:
    """NAB's threshold sweep over all scored rows of all files at once."""
    scores, windows, earnings = [], [], []
    offset = 0
    n_scorable = 0
    for layout, values in parts:
        scores.append(values)
        windows.append(np.where(layout.window >= 0, layout.window + offset, -1))
        earnings.append(layout.earnings(profile))
        offset += layout.n_windows
        n_scorable += int(layout.scorable.sum())
    base = -profile.fn_weight * n_scorable
    if not parts:
        return NabSweep(np.array([NO_DETECTION_THRESHOLD]), np.array([base]))
    score = np.concatenate(scores)
    window = np.concatenate(windows)
    earning = np.concatenate(earnings)
    keep = ~np.isnan(score)
    score, window, earning = score[keep], window[keep], earning[keep]
    order = np.argsort(-score, kind="stable")
    score, window, earning = score[order], window[order], earning[order]

    delta = np.where(window < 0, earning, 0.0)
    in_window = np.flatnonzero(window >= 0)
    if in_window.size:
        # Group window rows by window, keeping sweep order inside each group; a
        # window's contribution is the running maximum of its detected earnings.
        grouped = in_window[np.argsort(window[in_window], kind="stable")]
        cuts = np.flatnonzero(np.diff(window[grouped])) + 1
        for rows in np.split(grouped, cuts):
            best = np.maximum.accumulate(earning[rows])
            delta[rows] = np.diff(best, prepend=-profile.fn_weight)
    curve = base + np.cumsum(delta)
    ends = np.r_[np.flatnonzero(score[1:] != score[:-1]), score.shape[0] - 1]
    if score.shape[0] == 0:
        ends = ends[:0]
    thresholds = np.r_[NO_DETECTION_THRESHOLD, score[ends]]
    values = np.r_[base, curve[ends]]
    return NabSweep(thresholds, values)


def _score_file(layout: NabFileLayout, values: np.ndarray, threshold: float,
                profile: NabProfile) -> NabFileScore:
    detected = values >= threshold  # NaN is never a detection
    inside = layout.window >= 0
    earning = layout.earnings(profile)
    score = float(earning[detected & ~inside].sum())
    for k in np.flatnonzero(layout.scorable):
        hits = earning[detected & (layout.window == k)]
        score += max(-profile.fn_weight, float(hits.max())) if hits.size else -profile.fn_weight
    tp = int((detected & inside).sum())
    fp = int((detected & ~inside).sum())
    fn = int((~detected & inside).sum())
    tn = int((~detected & ~inside).sum())
    return NabFileScore(layout.name, float(threshold), score, tp, tn, fp, fn, tp + tn + fp + fn)
