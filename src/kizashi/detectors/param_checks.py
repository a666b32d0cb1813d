"""Type and range checks of detector parameters, one rule for every place they are written.

The watch config (``detector: params:``), ``--param`` on the command line and the
parameters read back from a fitted model's folder all go through :func:`check_param`:
a whole-number parameter (window, rank, …) is a whole number from 0 to
:data:`MAX_PARAM_COUNT`, every other number finite and at most
:data:`MAX_PARAM_MAGNITUDE` in size, a text-or-number parameter (``period``, ``slot``)
a duration (:func:`kizashi.durations.parse_duration`), and text where a number is
expected says so ("a quoted number is text").
"""

from __future__ import annotations

import math
from typing import Any

from kizashi.durations import parse_duration
from kizashi.yaml_errors import bounded_repr as _r

__all__ = ["MAX_PARAM_COUNT", "MAX_PARAM_MAGNITUDE", "check_param", "short_number"]

#: largest whole-number detector parameter (window, rank, order, ...)
MAX_PARAM_COUNT = 1_000_000
#: largest magnitude of any number in detector parameters
MAX_PARAM_MAGNITUDE = 1e18


def check_param(value: Any, declared: Any, at: str) -> None:
    """Check the type and range of one detector parameter; a ValueError naming ``at``.

    Parameters
    ----------
    value : object
        The value as written (YAML, JSON or ``--param``).
    declared : ParamInfo or None
        Its entry in the registry (:func:`kizashi.detectors.registry.parameters`); None
        for a name the detector does not have (only the numbers inside are checked).
    at : str
        Where it was written, for the message (``detector.params.window``).

    Examples
    --------
    >>> from kizashi.detectors.registry import get_class, parameters
    >>> window = {p.name: p for p in parameters(get_class("threshold"))}["window"]
    >>> check_param(30, window, "params.window")
    >>> check_param("30", window, "params.window")
    Traceback (most recent call last):
    ...
    ValueError: params.window must be a whole number, got the text '30' (a quoted number ...)
    """
    kinds = None
    if declared is not None:
        tokens = {t.strip() for t in str(declared.annotation).split("|")}
        if tokens <= {"int", "float", "str", "bool", "None"}:
            kinds = tokens
    if kinds is None:  # an unknown name (create() says so) or an exotic annotation
        _check_numbers(value, at)
        return
    if value is None:
        if "None" not in kinds and declared.default is not None:
            raise ValueError(f"{at} needs a value (its default is {_r(declared.default)})")
        return
    if isinstance(value, bool):
        if "bool" not in kinds:
            raise ValueError(f"{at} must be {_kind_text(kinds)}, got {str(value).lower()}")
        return
    if isinstance(value, (int, float)):
        if not kinds & {"int", "float"}:
            raise ValueError(f"{at} must be {_kind_text(kinds)}, got {_r(value)}")
        _check_number(value, at, whole="float" not in kinds)
        return
    if isinstance(value, str):
        if "str" in kinds:
            if "float" in kinds:  # a number or a duration such as "1w"
                _check_duration_text(value, at)
            return
        try:
            number = float(value)
        except ValueError:
            raise ValueError(f"{at} must be {_kind_text(kinds)}, got {_r(value)}") from None
        if not math.isfinite(number):
            raise ValueError(f"{at} must be a finite number, got {_r(value)}")
        raise ValueError(f"{at} must be {_kind_text(kinds)}, got the text {_r(value)} (a quoted "
                         "number is text: remove the quotes)")
    raise ValueError(f"{at} must be {_kind_text(kinds)}, got a {type(value).__name__}")


def _kind_text(kinds: set[str]) -> str:
    names = {"int": "a whole number", "float": "a number", "str": "text",
             "bool": "true or false", "None": "null"}
    parts = [names[k] for k in ("int", "float", "str", "bool", "None") if k in kinds]
    if "int" in kinds and "float" in kinds:
        parts.remove("a whole number")
    return " or ".join(parts)


def _check_number(value: float, at: str, whole: bool) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{at} must be a finite number, got {_r(value)}")
    if whole:
        if value != int(value) or not 0 <= value <= MAX_PARAM_COUNT:
            raise ValueError(f"{at} must be a whole number from 0 to {MAX_PARAM_COUNT}, "
                             f"got {short_number(value)}")
    elif abs(value) > MAX_PARAM_MAGNITUDE:
        raise ValueError(f"{at} must be at most {MAX_PARAM_MAGNITUDE:g} in size, "
                         f"got {short_number(value)}")


def _check_duration_text(value: str, at: str) -> None:
    """A text-or-number detector parameter (``period``, ``slot``, …): a duration."""
    try:
        seconds = parse_duration(value)
    except ValueError as error:
        raise ValueError(f"{at}: {error}") from None
    if seconds > MAX_PARAM_MAGNITUDE:
        raise ValueError(f"{at} must be at most {MAX_PARAM_MAGNITUDE:g} in size, got {_r(value)}")


def _check_numbers(value: Any, at: str) -> None:
    """Every number inside ``value`` (lists, mappings) finite and of sane size."""
    todo, seen = [value], 0
    while todo:
        item = todo.pop()
        seen += 1
        if seen > 10_000:
            raise ValueError(f"{at} is too large (more than 10000 values)")
        if isinstance(item, bool) or item is None or isinstance(item, str):
            continue
        if isinstance(item, (int, float)):
            _check_number(item, at, whole=False)
        elif isinstance(item, dict):
            todo.extend(item.values())
        elif isinstance(item, (list, tuple)):
            todo.extend(item)


def short_number(value: float) -> str:
    """``value`` as written, or its first digits and its length when it is long."""
    text = repr(value)
    return text if len(text) <= 24 else f"{text[:12]}… ({len(text)} digits)"
