"""Typed detector output: a score, and what else a detector knows about each step.

``Detector.explain(values)`` returns a :class:`DetectorOutput`: always the
scores (exactly what ``score`` returns), and, where a detector has them,

* ``forecast`` with ``lower``/``upper`` — the value the detector expected and
  its normal band (e.g. mean ± k·σ of ``threshold``): for dashboards and for
  prediction;
* ``attribution`` — for a multivariate detector, each input's share of the
  step's score (rows sum to 1): which metric drove an alert.

>>> import numpy as np
>>> from kizashi.detectors.registry import create
>>> out = create("threshold", window=20, min_periods=5).explain(np.r_[np.zeros(30), 9.0])
>>> out.fields(), out.score.shape, bool(out.upper[-1, 0] < 9.0)
(['score', 'forecast', 'lower', 'upper'], (31, 1), True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["DetectorOutput"]


@dataclass(frozen=True, eq=False)
class DetectorOutput:
    """Scores ``(time, outputs)`` and optional per-step fields of a detector.

    ``forecast``, ``lower`` and ``upper`` have the shape of the input
    ``(time, series)``; ``attribution`` is ``(time, inputs)`` for a
    multivariate detector. Missing fields are None.
    """

    score: np.ndarray
    forecast: np.ndarray | None = None
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    attribution: np.ndarray | None = None

    def fields(self) -> list[str]:
        """The names of the fields this output has."""
        return [name for name in ("score", "forecast", "lower", "upper", "attribution")
                if getattr(self, name) is not None]

    def top_inputs(self, row: int, names: list[str] | tuple[str, ...], k: int = 3
                   ) -> list[tuple[str, float]]:
        """The ``k`` inputs with the largest share of step ``row``'s score.

        >>> out = DetectorOutput(np.zeros((1, 1)), attribution=np.array([[0.1, 0.7, 0.2]]))
        >>> out.top_inputs(0, ["cpu", "fs", "net"], k=2)
        [('fs', 0.7), ('net', 0.2)]
        """
        if self.attribution is None:
            return []
        shares = self.attribution[row]
        order = [j for j in np.argsort(-np.nan_to_num(shares, nan=-1.0)) if np.isfinite(shares[j])]
        return [(names[j], float(shares[j])) for j in order[:k]]
