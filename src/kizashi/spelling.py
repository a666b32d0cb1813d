"""The nearest known name to a misspelt one, for "unknown key" errors of every config.

Shared by the watch config (:mod:`kizashi.watch.config_values`), the training configs
(:mod:`kizashi.dl.config`) and the watch's ``predict`` section: one hint, spelt one way.

>>> did_you_mean("intervall", ["interval", "storage"])
" (did you mean 'interval'?)"
>>> did_you_mean("zzz", ["interval", "storage"])
''
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["did_you_mean", "nearest"]


def nearest(key: str, known: Iterable[str]) -> str | None:
    """The known key nearest to ``key`` in spelling, or None when none is close.

    >>> nearest("optimizer", ["optimiser", "scheduler"])
    'optimiser'
    """
    close = difflib.get_close_matches(str(key), [str(k) for k in known], n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(key: str, known: Iterable[str]) -> str:
    """`` (did you mean 'KNOWN'?)`` for the nearest known key, or ``""``."""
    close = nearest(key, known)
    return f" (did you mean {close!r}?)" if close else ""
