"""Values of a training config checked by kind, one line naming the key when wrong.

``int(2.5)``, ``int(True)`` and ``bool("false")`` would train 2 epochs, 1 epoch or
with a progress bar nobody asked for; so a count is a whole number (a float equal to
one is taken: ``1e3``), a flag a YAML boolean, a rate a finite number, a name text.

>>> check = Checks("run.yaml")
>>> check.whole("epochs", 1e3, 1), check.flag("progress", False)
(1000, False)
>>> check.whole("epochs", 2.5, 1)
Traceback (most recent call last):
...
ValueError: run.yaml: epochs must be a whole number >= 1, got 2.5
>>> check.flag("progress", "false")
Traceback (most recent call last):
...
ValueError: run.yaml: progress must be true or false, got 'false'
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any


class Checks:
    """Checkers of one config file (``source`` names it in every message).

    >>> Checks("run.yaml").number("optimiser.lr", "0.1")
    Traceback (most recent call last):
    ...
    ValueError: run.yaml: optimiser.lr must be a finite number >= 0, got '0.1'
    """

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, what: str, value: Any) -> ValueError:
        return ValueError(f"{self.source}: {key} must be {what}, got {value!r}")

    def whole(self, key: str, value: Any, low: int, optional: bool = False) -> Any:
        """A whole number ``>= low`` (None when ``optional`` and absent)."""
        if value is None and optional:
            return None
        number = value if not isinstance(value, bool) and isinstance(value, (int, float)) \
            else None
        if number is None or not math.isfinite(number) or number != int(number) or number < low:
            raise self.fail(key, f"a whole number >= {low}", value)
        return int(number)

    def number(self, key: str, value: Any, positive: bool = False) -> float:
        """A finite number, ``>= 0`` (``> 0`` when ``positive``)."""
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value < 0 or (positive and value == 0)):
            raise self.fail(key, "a finite number " + ("> 0" if positive else ">= 0"), value)
        return float(value)

    def flag(self, key: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, "true or false", value)
        return value

    def text(self, key: str, value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "a name (text)", value)
        return value

    def section(self, name: str, value: Any, known: Iterable[str]) -> dict[str, Any]:
        """The mapping ``name``, with no key outside ``known`` (a typo gets a hint)."""
        from kizashi.spelling import did_you_mean

        if not isinstance(value, dict):
            raise self.fail(name, "a mapping", value)
        unknown = sorted(map(str, set(value) - set(known)))
        if unknown:
            raise ValueError(f"{self.source}: unknown key(s) {name}.{', '.join(unknown)}"
                             f"{did_you_mean(unknown[0], known)}; known: "
                             f"{', '.join(sorted(known))}")
        return value


def check_search(space: Any, source: str, config: Any) -> None:
    """Refuse a ``search`` section that a trial would fail on, before any study is opened.

    Each entry maps a dotted key of ``config`` (a :class:`~kizashi.dl.config.RunConfig`)
    to ``{type: float|int, low, high, log}`` (low < high, both > 0 with ``log``) or
    ``{type: categorical, choices: [...]}``.

    >>> from kizashi.dl.config import RunConfig
    >>> check_search({"optimiser.lr": {"low": 0.1, "high": 0.01}}, "t.yaml", RunConfig())
    Traceback (most recent call last):
    ...
    ValueError: t.yaml: search.optimiser.lr: low (0.1) must be below high (0.01)
    """
    check = Checks(source)
    if not isinstance(space, dict):
        raise check.fail("search", "a mapping of dotted key → range", space)
    for key, spec in space.items():
        at = f"search.{key}"
        if not isinstance(spec, dict):
            raise check.fail(at, "a mapping such as {type: float, low: 0.001, high: 0.1}", spec)
        kind = spec.get("type", "float")
        known = {"float": ("type", "low", "high", "log"), "int": ("type", "low", "high", "log"),
                 "categorical": ("type", "choices")}
        if kind not in known:
            raise check.fail(f"{at}.type", "float, int or categorical", kind)
        check.section(at, spec, known[kind])
        if kind == "categorical":
            choices = spec.get("choices")
            if not isinstance(choices, list) or not choices:
                raise check.fail(f"{at}.choices", "a non-empty list", choices)
            sample = choices[0]
        else:
            low, high = (spec.get(end) for end in ("low", "high"))
            for end, value in (("low", low), ("high", high)):
                if (isinstance(value, bool) or not isinstance(value, (int, float))
                        or not math.isfinite(value)
                        or (kind == "int" and value != int(value))):
                    raise check.fail(f"{at}.{end}", "a finite " + (
                        "whole number" if kind == "int" else "number"), value)
            log = check.flag(f"{at}.log", spec.get("log", False))
            if not low < high:
                raise ValueError(f"{source}: {at}: low ({low}) must be below high ({high})")
            if log and low <= 0:
                raise ValueError(f"{source}: {at}: a log range needs low > 0, got {low}")
            sample = int(low) if kind == "int" else low
        try:  # the key must be one the config has (a typo would fail every trial)
            config.with_values({str(key): sample})
        except ValueError as error:
            reason = str(error)
            for prefix in (f"{config.source}: ", f"{source}: "):
                reason = reason.removeprefix(prefix)
            raise ValueError(f"{source}: {at}: {reason}") from None
