"""The time zone a log's zone-less times were written in.

A syslog line (``Mar  9 19:00:00 host ...``) and an ISO time without a zone
(``2026-03-09 19:00:00 host ...``) are the writing machine's *local* time: on a host at
UTC+9 that line is 10:00 UTC. Reading it as UTC put it nine hours ahead (the watch
skipped it as from the future) or behind. So these times are read in a zone, by
default ``local`` (this machine's zone, honouring ``TZ``; right for a log written on
this machine), or an IANA name (``Asia/Tokyo``, ``UTC``) for a file from elsewhere,
and turned into UTC, daylight saving included. A time that carries its zone or offset
(``Z``, ``+09:00``, ``UTC``) is that instant whatever the zone given.

A wall-clock time that a daylight-saving change skips (02:30 on the spring-forward
night) is read with the offset before the change; one it repeats (01:30 on the
fall-back night) is its first occurrence (Python's ``fold=0``), or its second when the
log's lines before it are already past the first (``kizashi.data.logs.parse_lines``).

>>> from datetime import datetime
>>> tokyo = log_zone("Asia/Tokyo")
>>> utc_seconds(datetime(2026, 3, 9, 19, 0), tokyo) == datetime(2026, 3, 9, 10, 0,
...     tzinfo=log_zone("UTC")).timestamp()
True
>>> log_zone("Asia/Tokio")
Traceback (most recent call last):
ValueError: unknown time zone 'Asia/Tokio': give an IANA name (UTC, Asia/Tokyo) or local
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from kizashi.yaml_errors import bounded_repr as _r

__all__ = ["LOCAL", "log_zone", "utc_seconds"]

#: The name of this machine's own zone.
LOCAL = "local"


def log_zone(name: str | None) -> tzinfo | None:
    """The zone named ``name`` (an IANA name), or None for this machine's (``local``
    or None); a one-line ``ValueError`` for a name that is no zone."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if name is None or name == LOCAL:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"unknown time zone {_r(name)}: give an IANA name (UTC, Asia/Tokyo) "
                         f"or {LOCAL}") from None


def utc_seconds(stamp: datetime, zone: tzinfo | None) -> float:
    """Epoch seconds of ``stamp``: as it is when it carries a zone, else read in ``zone``
    (None: this machine's local zone)."""
    if stamp.tzinfo is None:
        if zone is None:
            return stamp.timestamp()  # naive: local time, with this machine's DST rules
        stamp = stamp.replace(tzinfo=zone)
    return stamp.timestamp()
