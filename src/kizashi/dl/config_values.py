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

from kizashi.yaml_errors import bounded_repr as _r


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
        return ValueError(f"{self.source}: {key} must be {what}, got {_r(value)}")

    def whole(self, key: str, value: Any, low: int, optional: bool = False,
              high: int | None = None) -> Any:
        """A whole number ``>= low`` (and ``<= high`` when given; None when ``optional``
        and absent)."""
        if value is None and optional:
            return None
        number = value if not isinstance(value, bool) and isinstance(value, (int, float)) \
            else None
        if (number is None or not math.isfinite(number) or number != int(number)
                or number < low or (high is not None and number > high)):
            raise self.fail(key, f"a whole number >= {low}" if high is None
                            else f"a whole number from {low} to {high}", value)
        return int(number)

    def number(self, key: str, value: Any, positive: bool = False,
               high: float | None = None) -> float:
        """A finite number, ``>= 0`` (``> 0`` when ``positive``; ``<= high`` when given)."""
        if (isinstance(value, bool) or not isinstance(value, (int, float))
                or not math.isfinite(value) or value < 0 or (positive and value == 0)
                or (high is not None and value > high)):
            raise self.fail(key, "a finite number " + ("> 0" if positive else ">= 0")
                            + ("" if high is None else f" and <= {high:g}"), value)
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
            samples = list(choices)   # every one: a trial may draw any of them
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
            samples = [int(low), int(high)] if kind == "int" else [low, high]  # both ends
        for sample in samples:  # the key must be one the config has, each value of its kind
            try:                # (one that is not fails its trial and stops the worker)
                config.with_values({str(key): sample})
            except ValueError as error:
                reason = str(error)
                for prefix in (f"{config.source}: ", f"{source}: "):
                    reason = reason.removeprefix(prefix)
                raise ValueError(f"{source}: {at}: {reason}") from None


#: data.source → the keys it reads besides ``source``, ``val_fraction`` and ``stride``
DATA_KEYS: dict[str, tuple[str, ...]] = {
    "smd": ("machine", "part"),
    "csv": ("path", "columns"),
    "synthetic": ("n", "n_series", "seed"),
}


def check_data(data: Any, source: str) -> None:
    """Refuse a ``data`` section with a key its source does not read or a value of the
    wrong kind (one line naming the key), before any data is read.

    ``val_fraction`` is a number from 0 (no validation rows) to below 1, ``stride`` and
    the synthetic sizes whole numbers; before, ``val_fraction: -0.2`` trained on 120 %
    of the rows, ``n: 2.5`` was cut to 2, and a misspelt key was silently ignored.

    >>> check_data({"source": "synthetic", "n": 500}, "run.yaml")
    >>> check_data({"source": "synthetic", "val_fraction": 1.5}, "run.yaml")
    Traceback (most recent call last):
    ...
    ValueError: run.yaml: data.val_fraction must be a finite number from 0 to below 1, got 1.5
    """
    check = Checks(source)
    if not isinstance(data, dict):
        raise check.fail("data", "a mapping", data)
    kind = data.get("source", "synthetic")
    if not isinstance(kind, str) or kind not in DATA_KEYS:
        raise ValueError(f"{source}: unknown data.source {_r(kind)}; use smd, csv or synthetic")
    check.section("data", data, ("source", "val_fraction", "stride", *DATA_KEYS[kind]))
    fraction = data.get("val_fraction", 0.2)
    if (isinstance(fraction, bool) or not isinstance(fraction, (int, float))
            or not math.isfinite(fraction) or not 0 <= fraction < 1):
        raise check.fail("data.val_fraction", "a finite number from 0 to below 1", fraction)
    check.whole("data.stride", data.get("stride", 1), 1)
    for key, low in (("n", 1), ("n_series", 1), ("seed", 0)):
        if key in data:
            check.whole(f"data.{key}", data[key], low)
    for key in ("machine", "path"):
        if key in data:
            check.text(f"data.{key}", data[key])
    if data.get("part", "train") not in ("train", "test"):
        raise check.fail("data.part", "train or test", data.get("part"))
    columns = data.get("columns")
    if columns is not None and (not isinstance(columns, list) or not columns
                                or not all(isinstance(c, str) and c for c in columns)):
        raise check.fail("data.columns", "a non-empty list of column names", columns)


def check_model(model: Any, source: str) -> None:
    """Refuse a ``model`` section naming an unknown network, a key its network does not
    take, or a size that is not a whole number >= 1 (one line naming the key).

    Every size of kizashi's networks (``window``, ``hidden``, ``latent``, ``layers``,
    ``channels``, ``kernel``) is a count; before, ``window: 2.5`` or an unknown key ended
    in an "internal error", and ``window: true`` trained a window of 1.

    >>> check_model({"name": "lstm", "window": 8}, "run.yaml")
    >>> check_model({"name": "lstm", "window": 2.5}, "run.yaml")
    Traceback (most recent call last):
    ...
    ValueError: run.yaml: model.window must be a whole number >= 1, got 2.5
    """
    import inspect

    from kizashi.dl import NETWORKS, network_class

    check = Checks(source)
    if not isinstance(model, dict):
        raise check.fail("model", "a mapping", model)
    name = model.get("name")
    if not isinstance(name, str) or name not in NETWORKS:
        raise ValueError(f"{source}: model.name must be one of {', '.join(sorted(NETWORKS))}, "
                         f"got {_r(name)}")
    sizes = [p for p in inspect.signature(network_class(name).__init__).parameters
             if p not in ("self", "n_features")]
    check.section("model", model, ("name", *sizes))
    for key in sizes:
        if key in model:
            check.whole(f"model.{key}", model[key], 1)
