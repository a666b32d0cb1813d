"""Cutoffs: the score above which a point counts as anomalous, per series.

A cutoff is written as text in configs and on the command line:

``default``
    the detector's own convention (e.g. ``k`` for ``mean ± k·σ``);
a number, e.g. ``0.1``
    that score, for every series (``0.1`` is the KEK preset for SST);
``q0.999``
    the 99.9th percentile of each series' scores over a reference period
    (by default the scores of the data itself, or of training data).

>>> import numpy as np
>>> parse_cutoff("q0.5").resolve(reference=np.array([[1.0, 10.0], [3.0, 30.0]])).tolist()
[2.0, 20.0]
>>> parse_cutoff("2.5").resolve(n_series=2).tolist()
[2.5, 2.5]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from kizashi.yaml_errors import bounded_repr as _r


@dataclass(frozen=True)
class Cutoff:
    """A rule giving one score threshold per series; ``kind`` is default, fixed or quantile."""

    kind: str
    value: float | None = None

    def __str__(self) -> str:
        if self.kind == "default":
            return "default"
        return f"q{self.value:g}" if self.kind == "quantile" else f"{self.value:g}"

    def resolve(self, default: float | None = None, reference: np.ndarray | None = None,
                n_series: int | None = None) -> np.ndarray:
        """Thresholds per series.

        ``default`` is the detector's ``default_threshold``; ``reference`` is a
        ``(time, series)`` (or 1-D) array of scores from a reference period.
        """
        if n_series is None:
            if reference is None:
                raise ValueError("give reference scores or n_series")
            n_series = 1 if np.ndim(reference) == 1 else np.shape(reference)[1]
        if self.kind == "fixed":
            return np.full(n_series, float(self.value))
        if self.kind == "default":
            if default is None:
                raise ValueError("this detector has no default threshold; give a number or "
                                 "a quantile such as q0.999 as the cutoff")
            return np.full(n_series, float(default))
        if reference is None:
            raise ValueError(f"cutoff {self} needs reference scores")
        from kizashi.decision.quantiles import column_quantiles

        scores = np.asarray(reference, dtype=np.float64).reshape(len(reference), -1)
        return column_quantiles(scores, self.value)


def parse_cutoff(text: str | float) -> Cutoff:
    """Read a cutoff from its text form (see the module docs)."""
    if isinstance(text, (int, float, np.integer, np.floating)) and not isinstance(text, bool):
        if text != text:  # NaN: no level is above it or below it
            raise ValueError("a cutoff must be a number, got NaN")
        return Cutoff("fixed", _finite(float(text), text))
    if not isinstance(text, str):  # (a list, a mapping: never str() of all of it)
        raise ValueError(f"cannot read cutoff {_r(text)}: use 'default', a number such as 0.1, "
                         "or a quantile such as q0.999")
    raw = text.strip().lower()
    if raw in ("", "default", "auto"):
        return Cutoff("default")
    if raw.startswith("q"):
        try:
            q = float(raw[1:])
        except ValueError:
            q = -1.0
        if not 0.0 < q < 1.0:
            raise ValueError(f"quantile cutoff {_r(text)} must look like q0.999 (0 < q < 1)")
        return Cutoff("quantile", q)
    try:
        value = float(raw)
        if value != value:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"cannot read cutoff {_r(text)}: use 'default', a number such as 0.1, or a quantile "
            f"such as q0.999"
        ) from None
    return Cutoff("fixed", _finite(value, text))


def _finite(value: float, text: str | float) -> float:
    """``value``, refusing ±inf (``inf``, or ``1e400`` read as inf): a cutoff that no level
    ever passes, or that every level passes, is no decision."""
    if value in (np.inf, -np.inf):
        raise ValueError(f"a cutoff must be a finite number, got {text!r}")
    return value
