"""The normal envelope of each series, as the engine's ``threshold`` detector learns it.

Anomaly ahead, for series without a limit: the band ``mean ± k·σ`` of the
default ``threshold`` detector
(:class:`~kizashi.detectors.threshold.rolling_sigma.RollingSigmaThreshold`,
through its typed :meth:`explain` output) is the series' normal range; the
predictor gives the chance that the forecast leaves it within the horizon.
Row ``t``'s band comes from the detector's window before ``t``.
:func:`envelope_detector` is that detector, for streaming it alongside
(:class:`~kizashi.prediction.live.LivePredictor`).

>>> import numpy as np
>>> values = 50 + np.random.default_rng(0).normal(0, 1, (400, 1))
>>> lower, upper = normal_envelope(values)
>>> bool(40 < lower[-1, 0] < 50 < upper[-1, 0] < 60)
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["ENVELOPE_DETECTOR", "envelope_detector", "normal_envelope"]

#: The detector whose band is the normal envelope (its default parameters).
ENVELOPE_DETECTOR = "threshold"


def envelope_detector(detector: str = ENVELOPE_DETECTOR, params: dict | None = None) -> Any:
    """A fresh detector whose typed output has the band (``lower``/``upper``)."""
    from kizashi.detectors.registry import create

    return create(detector, **(params or {}))


def normal_envelope(values: np.ndarray, detector: str = ENVELOPE_DETECTOR,
                    params: dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(lower, upper)`` ``(T, S)`` of ``detector``'s band (NaN while it learns)."""
    out = envelope_detector(detector, params).explain(np.asarray(values, dtype=np.float64))
    if out.lower is None or out.upper is None:
        raise ValueError(f"detector {detector!r} has no normal band (lower/upper) to predict from")
    return out.lower, out.upper
