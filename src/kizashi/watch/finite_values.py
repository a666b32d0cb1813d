"""Values a detector cannot score — ``+Inf``, ``-Inf`` (Prometheus' ``"1e309"`` too) — taken
as missing at the source boundary, with one warning when a watch starts receiving them.

Prometheus answers ``+Inf`` for a division by zero, and detectors differ on it (one
skips it, another's running mean stays infinite for ever after); the daemon treats
it as it treats NaN: the step is missing for that series, its state untouched.

>>> import numpy as np
>>> from kizashi.watch.sources import Samples
>>> raw = Samples(np.array([1.0]), [{"i": "a"}, {"i": "b"}], np.array([[np.inf, 2.0]]))
>>> infinite_as_missing(raw, "cpu", set()).values.tolist()
[[nan, 2.0]]
"""

from __future__ import annotations

import logging

import numpy as np

from kizashi.watch.sources import Samples

__all__ = ["infinite_as_missing"]

log = logging.getLogger("kizashi.watch")


def infinite_as_missing(samples: Samples, watch: str, warned: set[str],
                        counts: dict[str, int] | None = None) -> Samples:
    """``samples`` with ±inf as NaN; logs a warning when ``watch`` is not in ``warned``
    (then adds it; removes it once an answer has none, so a new episode warns again),
    and adds the number of such values to ``counts[watch]``."""
    infinite = np.isinf(samples.values)
    if not infinite.any():
        warned.discard(watch)
        return samples
    if counts is not None:
        counts[watch] = counts.get(watch, 0) + int(infinite.sum())
    if watch not in warned:
        warned.add(watch)
        row, col = np.argwhere(infinite)[0]
        log.warning("watch %s: %d values are infinite (first: %s at %.3f); taken as missing",
                    watch, int(infinite.sum()), samples.labels[col],
                    float(samples.timestamps[row]))
    return Samples(samples.timestamps, samples.labels,
                   np.where(infinite, np.nan, samples.values), samples.keys)
