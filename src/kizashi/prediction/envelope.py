"""The normal envelope of each series, as the engine's ``threshold`` detector learns it.

Anomaly ahead, for series without a limit: the band ``mean ± k·σ`` of the
default ``threshold`` detector
(:class:`~kizashi.detectors.threshold.rolling_sigma.RollingSigmaThreshold`,
its typed output's ``lower``/``upper``) is the series' normal range; the
predictor gives the chance that the forecast leaves it within the horizon.
The band is the one the engine judges each step against: it goes through
:func:`~kizashi.engine.batch.score_frame` (``bands=True``), so steps the engine
protects (a series above its cutoff or alerting) are not learned, and a
sustained excursion does not widen the band it is measured against. Row
``t``'s band comes from the steps before ``t``.

:class:`EnvelopeStream` is the same, fed block by block (the engine's
:class:`~kizashi.engine.stream.DetectorStream`), for the daemon.

>>> import numpy as np
>>> values = 50 + np.random.default_rng(0).normal(0, 1, (400, 1))
>>> lower, upper = normal_envelope(values)
>>> bool(40 < lower[-1, 0] < 50 < upper[-1, 0] < 60)
True
>>> stream = EnvelopeStream()
>>> state = stream.fresh(1)
>>> parts = [stream.advance(state, np.arange(i, i + 100.0), values[i:i + 100])
...          for i in range(0, 400, 100)]
>>> bool(np.array_equal(np.vstack([p[1] for p in parts]), upper, equal_nan=True))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ENVELOPE_DETECTOR", "EnvelopeStream", "normal_envelope"]

#: The detector whose band is the normal envelope (its default parameters and decision).
ENVELOPE_DETECTOR = "threshold"


def normal_envelope(values: np.ndarray, detector: str = ENVELOPE_DETECTOR,
                    params: dict | None = None, timestamps: np.ndarray | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` ``(T, S)`` of ``detector``'s band as the engine judges each step
    (NaN while it learns); ``timestamps`` in seconds (default: one per row)."""
    from kizashi.data.frame import SeriesFrame
    from kizashi.engine.batch import score_frame

    matrix = np.asarray(values, dtype=np.float64)
    matrix = matrix[:, None] if matrix.ndim == 1 else matrix
    t = np.arange(matrix.shape[0], dtype=np.float64) if timestamps is None else timestamps
    result = score_frame(SeriesFrame.from_arrays(t, matrix), detector, params, bands=True)
    if result.lower is None or result.upper is None:
        raise ValueError(f"detector {detector!r} has no normal band (lower/upper) to predict from")
    return result.lower, result.upper


class EnvelopeStream:
    """:func:`normal_envelope` block by block; the state is a tree of plain arrays
    (the detector's and the decider's), the series on one axis of each."""

    def __init__(self, detector: str = ENVELOPE_DETECTOR, params: dict | None = None):
        self.detector = detector
        self.params = dict(params or {})

    def _stream(self) -> Any:
        from kizashi.detectors.registry import create
        from kizashi.engine.decider import Decider
        from kizashi.engine.stream import DetectorStream

        detector = create(self.detector, **self.params)
        return DetectorStream(detector, Decider.for_detector(detector))

    def fresh(self, n_series: int) -> dict[str, Any]:
        """The state of ``n_series`` series that have seen nothing."""
        if n_series == 0:
            from kizashi.watch.columns import StateLayout

            return StateLayout(self.fresh).select(self.fresh(1), [])
        stream = self._stream()
        stream.detector.reset(n_series)
        stream.decider.reset(n_series)
        return {"detector": stream.detector.state_,
                "decider": stream.decider.state_dict()["state"]}

    def advance(self, state: dict[str, Any], times: np.ndarray, values: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
        """The band of each new row ``(lower, upper)``, learning the rows as the engine does;
        ``state`` is updated in place."""
        from kizashi.engine.decider import DECIDER_FORMAT
        from kizashi.state import copy_state, to_json_safe

        stream = self._stream()
        stream.detector.state_ = state["detector"]
        stream.decider.load_state_dict({"format": DECIDER_FORMAT, "params": to_json_safe(
            stream.decider.get_params()), "state": state["decider"]})
        probe = stream.detector.clone()
        probe.state_ = copy_state(stream.detector.state_)
        out = stream.process(values, times)
        typed = probe.explain(np.where(out.decision.protect, np.nan, values), times)
        state["detector"] = stream.detector.state_
        state["decider"] = stream.decider.state_dict()["state"]
        if typed.lower is None or typed.upper is None:
            raise ValueError(f"detector {self.detector!r} has no normal band (lower/upper)")
        return typed.lower, typed.upper
