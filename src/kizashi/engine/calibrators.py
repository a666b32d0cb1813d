"""Calibrators: the first stage of the decider, putting every detector's scores on one scale.

A calibrator maps raw scores (any scale, higher = more anomalous) of many
series to a calibrated level, learning from past scores only. The decider
calls it twice per step: ``update(row, learn=False)`` to read the level of the
step, then ``update(row, learn=mask)`` to learn the steps it did not protect
(an alert's scores must not become the calibrator's idea of normal).

A calibrator implements ``reset(n_series)``, ``update(row, learn=None)``,
``transform(block, learn=None)`` (``update`` on every row, vectorised over time),
``state_dict()``/``load_state_dict()``, ``get_params()``, ``n_warmup`` and
``default_cutoff``. The names below are what configs and ``--calibration``
accept; adding one is one module and one line here.

>>> calibrator = create_calibrator("none")
>>> calibrator.reset(2).update(np.array([1.5, np.nan])).tolist()
[1.5, nan]
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from kizashi.lazy import import_target

__all__ = ["CALIBRATORS", "IdentityCalibrator", "create_calibrator"]

CALIBRATORS: dict[str, str] = {
    "none": "kizashi.engine.calibrators:IdentityCalibrator",
    "zscore": "kizashi.decision.calibration:OnlineCalibrator",
    "likelihood": "kizashi.decision.likelihood:AnomalyLikelihood",
}


class IdentityCalibrator:
    """No calibration: the level is the raw score (for detectors with a meaningful scale).

    >>> IdentityCalibrator().reset(1).update(np.array([3.0])).tolist()
    [3.0]
    """

    default_cutoff: float | None = None
    n_warmup = 0
    state_: dict[str, Any] | None = None

    def get_params(self) -> dict[str, Any]:
        """No parameters."""
        return {}

    def reset(self, n_series: int) -> Self:
        """Start afresh for ``n_series`` series."""
        self.state_ = {"n_series": int(n_series)}
        return self

    def update(self, row: Any, learn: Any = None) -> np.ndarray:
        """The scores themselves."""
        return np.asarray(row, dtype=np.float64).reshape(-1).copy()

    def transform(self, block: Any, learn: Any = None) -> np.ndarray:
        """The scores themselves, for a block."""
        return np.array(block, dtype=np.float64)

    def state_dict(self) -> dict[str, Any]:
        """Plain data (nothing is learned)."""
        return {"params": {}, "state": dict(self.state_ or {"n_series": 0})}

    def load_state_dict(self, state_dict: dict[str, Any]) -> Self:
        """Restore what :meth:`state_dict` returned."""
        self.state_ = dict(state_dict["state"])
        return self


def create_calibrator(name: str, **params: Any) -> Any:
    """A fresh calibrator registered as ``name``."""
    try:
        target = CALIBRATORS[name]
    except KeyError:
        known = ", ".join(sorted(CALIBRATORS))
        raise ValueError(f"unknown calibration {name!r}; known: {known}") from None
    return import_target(target)(**params)
