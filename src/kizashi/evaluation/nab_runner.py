"""Run a registered detector over the NAB corpus the way NAB runs detectors.

Each file is a fresh stream: a new detector sees the rows one after another
(``Detector.score`` walks through them as ``update`` would, never looking
ahead). The probationary period (the first 15 % of a file, at most 750 rows)
is for learning: a detector that needs training is fitted on it and scores
from there on; a streaming detector simply learns from those rows as it goes,
and they are never scored. The detector runs through the engine
(:class:`kizashi.engine.stream.DetectorStream`) and its decider's calibration
puts the scores in [0, 1] from past scores only, as NAB's single corpus-wide
threshold requires: Numenta's anomaly likelihood with its red-zone suppression
(``calibration="likelihood"``, the default) or the older online z-score squash
(``"zscore"``). The result file holds the calibrated level; steps still
learning (the detector's warm-up, the calibrator's learning period) score 0.

Examples
--------
>>> from types import SimpleNamespace
>>> t = np.arange(300).astype("datetime64[m]").astype("datetime64[ns]")
>>> values = np.sin(np.arange(300) / 10.0)
>>> values[200] = 5.0
>>> series = SimpleNamespace(name="demo/a.csv", timestamps=t, values=values, windows=[])
>>> scores = run_detector([series], "threshold", {"window": 50}, progress=False)
>>> peak = int(np.argmax(scores["demo/a.csv"]))
>>> 200 <= peak < 210      # the likelihood averages the last 10 raw scores
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.evaluation.nab import probationary_length
from kizashi.evaluation.nab_files import result_path, write_result_file

__all__ = ["NAB_AVERAGING_WINDOW", "NAB_CONTEXT_WEIGHT", "NAB_REST_TAIL", "NAB_THRESHOLD_WEIGHT",
           "run_detector", "window_labels"]

#: The ensemble's likelihood averaging window on NAB (chosen on the tuning fold).
NAB_AVERAGING_WINDOW = 20
#: The tail at which the ensemble's rest starts on NAB (chosen on the tuning fold).
NAB_REST_TAIL = 1e-4
#: The weight of the ensemble's threshold member on NAB (chosen on the tuning fold).
NAB_THRESHOLD_WEIGHT = 0.85
#: The weight of the ensemble's context member on NAB (chosen on the tuning fold).
NAB_CONTEXT_WEIGHT = 0.95


def window_labels(timestamps: np.ndarray, windows: Sequence[tuple[Any, Any]]) -> np.ndarray:
    """1 inside a window (inclusive bounds), 0 elsewhere: NAB's ``label`` column."""
    stamps = np.asarray(timestamps).astype("datetime64[ns]")
    out = np.zeros(stamps.shape[0], dtype=np.int64)
    for start, end in windows:
        out[(stamps >= np.datetime64(start, "ns")) & (stamps <= np.datetime64(end, "ns"))] = 1
    return out


def run_detector(corpus: Sequence[Any], detector: str, params: Mapping[str, Any] | None = None,
                 out_dir: str | Path | None = None, result_name: str | None = None,
                 calibration: str = "likelihood", protect: bool = False,
                 progress: bool = True) -> dict[str, np.ndarray]:
    """Scores in [0, 1] of ``detector`` on every series of ``corpus``, by file name.

    Parameters
    ----------
    corpus : sequence of series
        Objects with ``name``, ``timestamps``, ``values`` and ``windows``
        (:func:`kizashi.data.nab.load_nab_corpus`).
    detector : str
        A registered detector name (:mod:`kizashi.detectors.registry`).
    params : mapping, optional
        Its parameters.
    out_dir : path, optional
        When given, NAB-format result files are written to
        ``out_dir/<result_name>/<category>/<result_name>_<file>.csv``.
    result_name : str, optional
        Name of the result folder; ``detector`` by default.
    calibration : str
        ``likelihood`` (Numenta's, with red-zone suppression), ``zscore``, or
        ``auto``: ``none`` for a detector whose scores are calibrated already
        (``calibrated_output``, e.g. the ensemble), else ``likelihood``.
    protect : bool
        Keep flagged steps out of the baseline. Off by default, as every NAB
        reference detector learns every point: NAB scores each flagged row, and
        a protected baseline keeps flagging a permanent change (measured: 0.0
        instead of 32.1 on realKnownCause for ``threshold``).
    progress : bool
        Show a progress bar.
    """
    from kizashi.detectors.registry import create
    from kizashi.engine.decider import Decider
    from kizashi.engine.stream import DetectorStream

    params = dict(params or {})
    probe = create(detector, **params)  # fail early on unknown names and parameters
    own = bool(getattr(probe, "calibrated_output", False))
    if calibration == "auto":
        calibration = "none" if own else "likelihood"
    if calibration not in ("likelihood", "zscore") and not (calibration == "none" and own):
        raise ValueError(f"NAB needs scores in [0, 1]: calibration 'likelihood' or 'zscore' "
                         f"('none' for a detector whose scores are calibrated already), "
                         f"not {calibration!r}")
    likelihood = calibration == "likelihood"
    result_name = result_name or detector
    iterator: Any = corpus
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(corpus, desc=f"NAB {result_name}", unit="file")
    out = {}
    for series in iterator:
        values = np.asarray(series.values, dtype=np.float64)
        stamps = np.asarray(series.timestamps).astype("datetime64[ns]")
        probation = probationary_length(values.shape[0])
        model = create(detector, **_probation_params(detector, params, probation))
        start = 0
        if model.requires_training:
            start = probationary_length(values.shape[0])
            if start < 1:
                raise ValueError(f"{series.name}: too short for a probationary period to "
                                 f"train {detector!r} on")
            model.fit(values[:start], stamps[:start])
        # As NAB's Numenta detector does: the likelihood learns within the probationary
        # period (half to learn, half to estimate) and suppresses repeated red values.
        calibration_params = {"suppress_red_zone": True,
                              "learning_period": max(probation // 2, 1),
                              "estimation_samples": max(probation - probation // 2, 1),
                              } if likelihood else {}
        stream = DetectorStream(model, Decider.for_detector(
            model, calibration=calibration,
            calibration_params=calibration_params if calibration != "none" else None,
            protect=protect))
        levels = np.zeros(values.shape[0])
        levels[start:] = stream.process(values[start:], stamps[start:]).decision.level[:, 0]
        scores = np.clip(np.nan_to_num(levels, nan=0.0), 0.0, 1.0)
        out[series.name] = scores
        if out_dir is not None:
            write_result_file(result_path(out_dir, result_name, series.name), stamps, values,
                              scores, window_labels(stamps, series.windows))
    return out


def _probation_params(detector: str, params: Mapping[str, Any], probation: int
                      ) -> dict[str, Any]:
    """``params``, with a detector's own likelihood set up as NAB's Numenta detector's.

    Half of the probationary period to learn, half to estimate, red-zone
    suppression on, and no hold (NAB rewards the first step of a detection),
    unless the user set them; for the ensemble also a rolling window of 1000 and
    uncapped z-scores, its discord (shape) and context (pattern) members, a rest
    of a fifth of the probationary period after each level at a tail of 1e-4
    (:data:`NAB_REST_TAIL`), the threshold member weighted
    :data:`NAB_THRESHOLD_WEIGHT` and likelihoods averaging
    :data:`NAB_AVERAGING_WINDOW` scores (the discord member's 10), the context member
    weighted :data:`NAB_CONTEXT_WEIGHT` and the pattern members' likelihoods one-sided
    (all chosen on NAB's tuning fold, ``docs/benchmarks.md``), alerting at Numenta's red
    line (a tail of 1e-5),
    without the day profile or the floor under its likelihood's spread (chosen on the
    tuning fold too), without the long window (NAB's files are one to three weeks) and
    without the steadiness boost (a centre's pinned process; NAB kept as it was).

    >>> _probation_params("ensemble", {}, 600)  # doctest: +NORMALIZE_WHITESPACE
    {'learning_period': 300, 'estimation_samples': 300, 'suppress_red_zone': True, 'hold': 1,
     'window': 1000, 'z_cap': None, 'rest': 120, 'averaging_window': 20,
     'discord_weight': 1.0, 'context_weight': 0.95, 'alert_tail': 1e-05, 'seasonal': False,
     'rest_tail': 0.0001, 'threshold_weight': 0.85, 'discord_averaging_window': 10,
     'likelihood_min_std': None, 'long_window': None, 'pattern_two_sided': False,
     'steady_window': None}
    >>> _probation_params("threshold", {"window": 50}, 600)
    {'window': 50}
    """
    from kizashi.detectors.registry import get_class, parameters

    out = dict(params)
    names = {p.name for p in parameters(get_class(detector))}
    if {"learning_period", "estimation_samples"} <= names:
        out.setdefault("learning_period", max(probation // 2, 1))
        out.setdefault("estimation_samples", max(probation - probation // 2, 1))
    if "suppress_red_zone" in names:
        out.setdefault("suppress_red_zone", True)
    if "hold" in names:
        out.setdefault("hold", 1)  # NAB rewards the first step of a detection
    if detector == "ensemble":
        out.setdefault("window", 1000)  # chosen on NAB's tuning fold (docs/benchmarks.md)
    if "z_cap" in names:
        # the cap guards a protected baseline; NAB's runner learns every point and feeds
        # raw z-scores as Numenta's detector does (the cap lost 2.3 points on the tune fold)
        out.setdefault("z_cap", None)
    if "rest" in names:
        out.setdefault("rest", max(probation // 5, 0))  # one detection per window counts
    if {"averaging_window", "discord_weight"} <= names:
        out.setdefault("averaging_window", NAB_AVERAGING_WINDOW)
        out.setdefault("discord_weight", 1.0)  # the shape member: a file is one series
        out.setdefault("context_weight", NAB_CONTEXT_WEIGHT)  # 1.0 before; tune fold
    if "alert_tail" in names:
        out.setdefault("alert_tail", 1e-5)  # Numenta's red line (0.5), which its rest keys on
    if "seasonal" in names:
        out.setdefault("seasonal", False)  # the day profile lost 4.1 points on the tune fold
    if {"rest_tail", "threshold_weight"} <= names:
        # a near-alert (tail 1e-4) rests too, so NAB's sweep may cut below the red line
        # without one false row per step; chosen on the tune fold (docs/benchmarks.md)
        out.setdefault("rest_tail", NAB_REST_TAIL)
        out.setdefault("threshold_weight", NAB_THRESHOLD_WEIGHT)
    if "discord_averaging_window" in names:
        out.setdefault("discord_averaging_window", 10)  # chosen on the tune fold too
    if "likelihood_min_std" in names:
        out.setdefault("likelihood_min_std", None)  # 2.4 points lost on the tune fold
    if "long_window" in names:
        out.setdefault("long_window", None)  # the centre's; NAB's files are 1-3 weeks long
    if "pattern_two_sided" in names:
        # a more familiar pattern than usual is no anomaly (chosen on the tune fold)
        out.setdefault("pattern_two_sided", False)
    if "steady_window" in names:
        out.setdefault("steady_window", None)  # the centre's pinned-process boost
    return out
