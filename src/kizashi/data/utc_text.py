"""Timestamps as the text every kizashi output file writes: ISO 8601 in UTC, with ``Z``.

A file's times are UTC inside kizashi (docs/data.md); written without a zone they would
read as local time to a person or a tool in another zone, so each output names it. The
unit is the coarsest that writes every timestamp exactly (whole seconds stay short,
milliseconds keep their fraction).
"""

from __future__ import annotations

import numpy as np


def exact_unit(timestamps: np.ndarray) -> str:
    """The coarsest of s, ms, us, ns that writes every timestamp exactly.

    >>> exact_unit(np.array([0, 1_500_000_000], dtype="datetime64[ns]"))
    'ms'
    """
    ns = np.asarray(timestamps).astype("datetime64[ns]").astype(np.int64)
    for unit, size in (("s", 10**9), ("ms", 10**6), ("us", 10**3)):
        if not np.any(ns % size):
            return unit
    return "ns"


def utc_text(timestamps: np.ndarray) -> np.ndarray:
    """``timestamps`` (UTC ``datetime64``) as ISO 8601 text ending in ``Z``; NaT as "".

    >>> utc_text(np.array(["2024-01-01T09:00", "2024-01-01T09:00:00.250"],
    ...                   dtype="datetime64[ns]")).tolist()
    ['2024-01-01T09:00:00.000Z', '2024-01-01T09:00:00.250Z']
    """
    stamps = np.asarray(timestamps).astype("datetime64[ns]")
    if stamps.size == 0:
        return np.array([], dtype=str)
    # a long table repeats each time step once per series: write each distinct one once
    distinct, where = np.unique(stamps, return_inverse=True)
    known = distinct[~np.isnat(distinct)]
    unit = exact_unit(known) if known.size else "s"
    text = np.char.add(np.datetime_as_string(distinct.astype(f"datetime64[{unit}]"),
                                             unit=unit), "Z")
    return np.where(np.isnat(distinct), "", text)[where.reshape(stamps.shape)]
