"""Durations as operators write them: ``"30s"``, ``"5m"``, ``"1h"``, ``"7d"``, ``"2w"``.

>>> parse_duration("1h"), parse_duration("1w"), parse_duration(90)
(3600.0, 604800.0, 90.0)
>>> import numpy as np
>>> parse_duration(np.int64(60)), parse_duration(np.float32(1.5))
(60.0, 1.5)
>>> duration_text(parse_duration("299s")), duration_text(parse_duration("6h"))
('299 s', '6 h')
>>> parse_duration("1e400s")
Traceback (most recent call last):
...
ValueError: a duration must be finite, got '1e400s'

"""

from __future__ import annotations

import math
import numbers
import re

from kizashi.yaml_errors import bounded_repr as _r

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PATTERN = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*(ms|s|m|h|d|w)?\s*$", re.I)


def parse_duration(value: str | float | int) -> float:
    """Seconds in ``value``: a number of seconds, or a string such as ``"15m"``."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {_r(value)}")
    if isinstance(value, numbers.Real):  # (numpy's integers and floats too)
        seconds = float(value)
    else:
        match = _PATTERN.match(value) if isinstance(value, str) else None
        if not match:
            raise ValueError(f"not a duration: {_r(value)} (write e.g. 30s, 5m, 1h, 7d, 2w "
                             "or a number of seconds)")
        seconds = float(match.group(1)) * _UNITS[(match.group(2) or "s").lower()]
    if not seconds > 0:
        raise ValueError(f"a duration must be positive, got {_r(value)}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite, got {_r(value)}")
    return seconds


def duration_text(seconds: float) -> str:
    """A duration in its largest whole-ish unit (days, hours, else seconds).

    >>> duration_text(300), duration_text(5400), duration_text(0.25), duration_text(172800)
    ('300 s', '1.5 h', '0.25 s', '2 d')
    """
    for unit, size in (("d", 86400.0), ("h", 3600.0)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"
