"""kizashi (兆し, "early sign"): find and predict anomalies in computing-centre telemetry.

The stable Python API:

>>> import numpy as np, kizashi
>>> detector = kizashi.detector("threshold", window=50, k=3.0)
>>> values = np.r_[np.sin(np.arange(200) / 5.0), 9.0, np.sin(np.arange(20) / 5.0)]
>>> int(np.argmax(detector.score(values)))
200
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from kizashi.detectors.base import Detector

__all__ = ["__version__", "detector", "detectors"]


def detector(name: str, **params: Any) -> Detector:
    """A fresh detector from the registry, e.g. ``kizashi.detector("threshold", k=4)``."""
    from kizashi.detectors.registry import create

    return create(name, **params)


def detectors() -> list[str]:
    """Names of all registered detectors."""
    from kizashi.detectors.registry import names

    return names()
