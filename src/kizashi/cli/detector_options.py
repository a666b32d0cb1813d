"""``--detector`` and ``--param`` checked before any data is read, by the watch config's rules.

A parameter of the wrong type (``k=abc``), not finite (``k=nan``), not whole where a count
is meant (``window=2.5``) or absurdly large (``window=1e9``, which would allocate a
window of a billion steps per series) is one line naming the option, before the
file is read and scored. Whole numbers written as floats (``window=1e3``) become ints.

>>> checked_params("threshold", {"window": 1e3, "k": 4})
{'window': 1000, 'k': 4}
>>> checked_params("threshold", {"k": "abc"})
Traceback (most recent call last):
...
ValueError: --param k must be a number, got 'abc'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any


def checked_params(detector: str, params: dict[str, Any]) -> dict[str, Any]:
    """``params`` of ``detector`` after the checks of ``kizashi watch``'s config.

    Raises
    ------
    ValueError
        An unknown detector (also the empty name), or a parameter that is unknown or
        fails its check; the message names it.
    """
    from kizashi.detectors.param_checks import check_param
    from kizashi.detectors.registry import get_class, parameters

    declared = {p.name: p for p in parameters(get_class(detector))}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise ValueError(f"detector {detector!r} has no parameter "
                         f"{', '.join(map(repr, unknown))}; its parameters are: "
                         f"{', '.join(sorted(declared)) or '(none)'}")
    out = dict(params)
    for key, value in params.items():
        check_param(value, declared[key], f"--param {key}")
        kinds = {t.strip() for t in str(declared[key].annotation).split("|")}
        if isinstance(value, float) and "int" in kinds and "float" not in kinds:
            out[key] = int(value)
    if not get_class(detector).cross_sectional:  # (peers' groups come from the data)
        # the parameters together (bounds, durations, …), the one at fault named
        problem = _build_problem(detector, out)
        if problem is not None:
            raise ValueError(_blamed(detector, params, out, problem))
    return out


def _build_problem(detector: str, params: dict[str, Any]) -> str | None:
    """Why ``detector`` cannot be built (and reset) with ``params``, or None when it can."""
    from kizashi.detectors.registry import create

    try:
        create(detector, **params).clone().reset(1)
    except (TypeError, ValueError, ArithmeticError) as error:
        return str(error)
    return None


def _blamed(detector: str, given: dict[str, Any], params: dict[str, Any], problem: str) -> str:
    """``problem`` starting with the ``--param`` at fault: those whose removal alone lets the
    detector build (``window=5`` under sigma_threshold's default ``min_periods=30``), or, where
    no single one does, all of them; a detector that needs a parameter not given (no key to
    blame) keeps its own message.

    >>> _blamed("seasonal_threshold", {"period": "0"}, {"period": "0"}, "must be positive")
    '--param period=0: must be positive'
    """
    if not params:
        return problem
    at_fault = [key for key in params
                if _build_problem(detector, {k: v for k, v in params.items() if k != key})
                is None] or list(params)
    shown = ", ".join(f"{key}={given.get(key, params[key])}" for key in at_fault)
    return f"--param {shown}: {problem}"


def option_params(detector: str, items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--param KEY=VALUE`` texts of ``detector``, parsed and checked by :func:`checked_params`.

    The one reader of ``--param`` for every command (detect, fit, bench), so a value is
    refused alike everywhere, before any data is read.

    >>> option_params("threshold", ["window=1e2", "k=3"])
    {'window': 100, 'k': 3}
    >>> option_params("threshold", ["k"])
    Traceback (most recent call last):
    ...
    ValueError: --param 'k' is not of the form KEY=VALUE
    """
    from kizashi.detectors.registry import parse_param

    params: dict[str, Any] = {}
    for item in items:
        try:
            key, value = parse_param(item)
        except ValueError:
            raise ValueError(f"--param {item!r} is not of the form KEY=VALUE") from None
        if key in params:
            raise ValueError(f"--param {key!r} is given twice")
        params[key] = value
    return checked_params(detector, params)


def naming(source: Path | str | None, message: str) -> str:
    """``message``, starting with the input ``source`` unless it names it already.

    >>> naming("cpu.csv", "need at least 2 training rows"), naming("cpu.csv", "cpu.csv: empty")
    ('cpu.csv: need at least 2 training rows', 'cpu.csv: empty')
    """
    if source is None or str(source) in message:
        return message
    head = re.match(r"([^:,]+)[:,] ", message)
    if head and Path(head.group(1)).exists():  # names another file (--train, --labels)
        return message
    return f"{source}: {message}"
