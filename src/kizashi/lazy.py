"""Lazy imports of ``"module:attribute"`` targets, for the name tables of detectors,
networks and commands (nothing heavy is imported until a name is used).

>>> import_target("kizashi.durations:parse_duration")("1m")
60.0
"""

from __future__ import annotations

import importlib
from typing import Any


def import_target(target: str) -> Any:
    """The attribute ``attribute`` of module ``module`` for ``target = "module:attribute"``."""
    module_name, sep, attribute = target.partition(":")
    if not sep or not attribute:
        raise ValueError(f"lazy target {target!r} is not of the form 'module:attribute'")
    return getattr(importlib.import_module(module_name), attribute)
