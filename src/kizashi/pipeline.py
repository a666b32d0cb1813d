"""Run a named detector over a :class:`SeriesFrame` and decide which points are anomalies.

This is the one path the CLI, the demo and reports share: build the detector
from the registry, train it when it needs training, score the series (in
blocks, with a progress bar for long data), and apply a cutoff.

>>> import numpy as np
>>> from kizashi.data.frame import SeriesFrame
>>> values = np.r_[np.zeros(100), 10.0, np.zeros(20)] + np.tile([0.0, 0.1], 61)[:121]
>>> frame = SeriesFrame.from_arrays(np.arange(121) * 60.0, values)
>>> result = run_detector(frame, "threshold", {"window": 50, "min_periods": 10})
>>> np.flatnonzero(result.flags[:, 0]).tolist()
[100]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.decision import parse_cutoff
from kizashi.detectors.registry import create

BLOCK = 4096


@dataclass(frozen=True, eq=False)
class DetectionResult:
    """Scores and verdicts for every series (or every entity, for multivariate detectors)."""

    timestamps: np.ndarray
    entities: tuple[str, ...]
    metrics: tuple[str, ...]
    values: np.ndarray  # (T, S) the input series (NaN for an entity-level score)
    scores: np.ndarray  # (T, S)
    cutoffs: np.ndarray  # (S,)
    flags: np.ndarray  # (T, S) bool
    detector: str
    params: dict[str, Any]
    labels: np.ndarray | None = None

    def to_long(self):
        """A pandas DataFrame: timestamp, entity, metric, detector, score, is_anomaly."""
        import pandas as pd

        n_t, n_s = self.scores.shape
        return pd.DataFrame({
            "timestamp": np.repeat(self.timestamps, n_s),
            "entity": np.tile(np.asarray(self.entities, dtype=object), n_t),
            "metric": np.tile(np.asarray(self.metrics, dtype=object), n_t),
            "detector": self.detector,
            "score": self.scores.reshape(-1),
            "is_anomaly": self.flags.reshape(-1),
        })


def run_detector(frame: SeriesFrame, name: str, params: dict[str, Any] | None = None,
                 cutoff: str | float = "default", train_rows: int | None = None,
                 progress: bool = False) -> DetectionResult:
    """Score every series of ``frame`` with detector ``name`` and flag scores above ``cutoff``.

    Detectors that need training are fitted on the first ``train_rows`` rows
    (default: the first 30 %), which are then scored as a stream like the rest.
    Multivariate detectors score each entity's metrics together.
    """
    params = dict(params or {})
    probe = create(name, **params)
    t = frame.epoch_seconds
    if probe.multivariate:
        groups = [[j for j, e in enumerate(frame.entities) if e == entity]
                  for entity in frame.unique_entities()]
    else:
        groups = [list(range(frame.n_series))]
    columns, values = [], []
    for group in groups:
        detector = create(name, **params)
        block = frame.values[:, group]
        if detector.requires_training:
            rows = train_rows if train_rows is not None else max(int(0.3 * frame.n_times), 1)
            detector.fit(block[:rows], t[:rows])
        scores = _stream(detector, block, t, progress, frame.name)
        columns.append(scores.reshape(frame.n_times, -1))
        values.append(block if not detector.multivariate else np.full((frame.n_times, 1), np.nan))
    scores = np.hstack(columns)
    if probe.multivariate:
        entities = tuple(frame.unique_entities())
        metrics = ("*",) * len(entities)
        labels = None if frame.labels is None else np.column_stack(
            [frame.labels[:, g].any(axis=1) for g in groups])
    else:
        entities, metrics, labels = frame.entities, frame.metrics, frame.labels
    rule = parse_cutoff(cutoff)
    cutoffs = rule.resolve(default=probe.default_threshold, reference=scores,
                           n_series=scores.shape[1])
    with np.errstate(invalid="ignore"):
        flags = np.nan_to_num(scores, nan=-np.inf) > cutoffs
    return DetectionResult(frame.timestamps, entities, metrics, np.hstack(values), scores,
                           cutoffs, flags, name, params, labels)


def _stream(detector, block: np.ndarray, t: np.ndarray, progress: bool, what: str) -> np.ndarray:
    """Score ``block`` in chunks as a stream (the detector learns as it goes)."""
    from tqdm import tqdm

    pieces = []
    with tqdm(total=len(block), disable=not progress, unit="step", desc=f"scoring {what}",
              leave=False) as bar:
        for start in range(0, len(block), BLOCK):
            stop = min(start + BLOCK, len(block))
            pieces.append(detector.update_many(block[start:stop], t[start:stop]))
            bar.update(stop - start)
    return np.concatenate(pieces) if pieces else np.empty((0,))
