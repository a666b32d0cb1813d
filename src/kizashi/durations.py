"""Durations as operators write them, as Prometheus does: ``"30s"``, ``"5m"``, ``"1h30m"``.

:func:`parse_duration` is the one reader of durations in kizashi: the command-line
options (``--horizon``, ``--since``, ``--step``, ``--log-step``), every duration key of
the watch config (``interval``, ``predict.horizon``, …), detector parameters such as
``period`` and ``slot``, and the ``group_wait``/``group_interval`` of Alertmanager's
routes.

What it reads
-------------
* a number of seconds: ``90``, ``1.5``, ``"90"``, ``"1e3"`` (numpy numbers too);
* one number with a unit: ``ms``, ``s``, ``m``, ``h``, ``d`` (24 h), ``w`` (7 d) or
  ``y`` (365 d, as in Prometheus): ``"500ms"``, ``"1.5h"``, ``"7d"``;
* several such parts, largest unit first, each unit once, as Prometheus writes them:
  ``"1h30m"``, ``"2d12h"``, ``"1m30s"``, ``"1d2h3m4s5ms"``.

Beyond what Prometheus reads, kizashi also takes fractions and exponents in any part
(``"1.5h30m"`` is 2 h, ``"1e3s"``), and spaces around the text, between a number and its
unit and between parts (``"1h 30m"``, ``"5 m"``: what :func:`duration_text` writes reads
back). Refused, in one line that says why and gives examples: units out of order or
repeated (``"30m1h"``, ``"1h1h"``, as Prometheus does), upper-case units (``"5M"`` might
mean months; Prometheus refuses them too), signs (``"-1h"``, ``"+1h"``), a number without
a unit inside a compound (``"1h30"``), empty text, booleans, zero (unless
``allow_zero``), and what is not finite (``"1e400s"``, ``nan``).

>>> parse_duration("1h"), parse_duration("1w"), parse_duration(90)
(3600.0, 604800.0, 90.0)
>>> parse_duration("1h30m"), parse_duration("2d12h"), parse_duration("500ms")
(5400.0, 216000.0, 0.5)
>>> import numpy as np
>>> parse_duration(np.int64(60)), parse_duration(np.float32(1.5))
(60.0, 1.5)
>>> duration_text(parse_duration("299s")), duration_text(parse_duration("6h"))
('299 s', '6 h')
>>> parse_duration("1e400s")
Traceback (most recent call last):
...
ValueError: a duration must be finite, got '1e400s'
>>> parse_duration("30m1h")
Traceback (most recent call last):
...
ValueError: not a duration: '30m1h' (units go from the largest down, each once: write e.g. 1h30m)

"""

from __future__ import annotations

import math
import numbers
import re

from kizashi.yaml_errors import bounded_repr as _r

#: seconds of each unit, largest first (the order a compound duration must keep)
UNITS = {"y": 31536000.0, "w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0,
         "ms": 0.001}
_RANK = {unit: rank for rank, unit in enumerate(UNITS)}
#: a number as text: ``5``, ``5.5``, ``.5``, ``1e3`` (no sign; one way to match each, so
#: a long run of digits costs linear time)
_NUMBER = r"(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_SECONDS = re.compile(rf"\s*({_NUMBER})\s*\Z")
_PART = re.compile(rf"\s*({_NUMBER})\s*(ms|y|w|d|h|m|s)")
_EXAMPLES = "write e.g. 30s, 5m, 1h30m, 7d, 2w or a number of seconds"


def parse_duration(value: str | float | int, allow_zero: bool = False) -> float:
    """Seconds in ``value``: a number of seconds, or text such as ``"15m"`` or ``"1h30m"``.

    ``allow_zero`` also takes a zero duration (``0``, ``"0s"``, ``"0h0m"``) for the
    settings where zero means "none".

    >>> parse_duration("1d2h3m4s5ms"), parse_duration("1h 30m"), parse_duration("0s", True)
    (93784.005, 5400.0, 0.0)
    >>> parse_duration("5M")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: not a duration: '5M' (units are lower case: ms s m h d w y; write e.g. 30s, ...)
    """
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {_r(value)}")
    if isinstance(value, numbers.Real):  # (numpy's integers and floats too)
        try:
            seconds = float(value)
        except OverflowError:  # an int or Fraction beyond a float
            raise ValueError(f"a duration must be finite, got {_r(value)}") from None
    elif isinstance(value, str):
        seconds = _text_seconds(value)
    else:
        raise ValueError(f"not a duration: {_r(value)} ({_EXAMPLES})")
    if not (seconds >= 0 if allow_zero else seconds > 0):
        raise ValueError(f"a duration must be {'0 or more' if allow_zero else 'positive'}, "
                         f"got {_r(value)}")
    if not math.isfinite(seconds):
        raise ValueError(f"a duration must be finite, got {_r(value)}")
    return seconds + 0.0  # (-0.0 read as 0)


def _text_seconds(text: str) -> float:
    """Seconds in a duration's text; a :class:`ValueError` saying why it is none."""
    whole = _SECONDS.match(text)
    if whole:
        return float(whole.group(1))
    seconds, last, at, end = 0.0, -1, 0, len(text.rstrip())
    while at < end:
        part = _PART.match(text, at)
        if not part:
            hint = ("units are lower case: ms s m h d w y; " if text != text.lower()
                    and _is_duration(text.lower()) else "")
            raise ValueError(f"not a duration: {_r(text)} ({hint}{_EXAMPLES})")
        rank = _RANK[part.group(2)]
        if rank <= last:
            raise ValueError(f"not a duration: {_r(text)} (units go from the largest down, "
                             "each once: write e.g. 1h30m)")
        seconds += float(part.group(1)) * UNITS[part.group(2)]
        last, at = rank, part.end()
    if last < 0:  # empty or only spaces
        raise ValueError(f"not a duration: {_r(text)} ({_EXAMPLES})")
    return seconds


def _is_duration(text: str) -> bool:
    try:
        _text_seconds(text)
    except ValueError:
        return False
    return True


def duration_text(seconds: float) -> str:
    """A duration in its largest whole-ish unit (days, hours, else seconds).

    What it writes reads back with :func:`parse_duration` (to its six significant digits).

    >>> duration_text(300), duration_text(5400), duration_text(0.25), duration_text(172800)
    ('300 s', '1.5 h', '0.25 s', '2 d')
    >>> parse_duration(duration_text(5400))
    5400.0
    """
    for unit, size in (("d", 86400.0), ("h", 3600.0)):
        if seconds >= size:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def limit_text(seconds: float) -> str:
    """A duration as an option's limit is written: its largest unit, no space (``1.5h``).

    Used in the messages of range checks (``must be from 1ms to 366d``); it reads back
    with :func:`parse_duration` (to six significant digits).

    >>> limit_text(0.001), limit_text(90), limit_text(5400), limit_text(366 * 86400)
    ('1ms', '1.5m', '1.5h', '366d')
    """
    for unit, size in (("d", 86400.0), ("h", 3600.0), ("m", 60.0), ("s", 1.0)):
        if seconds >= size:
            return f"{seconds / size:g}{unit}"
    return f"{seconds * 1000:g}ms"
