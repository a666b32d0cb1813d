"""Duration options (``--horizon``, ``--since``, ``--step``, ``--log-step``) checked by click.

A duration option that is not a duration (``6x``, ``-1h``, ``nan``), is zero, or lies
outside the range its use allows is a usage error: exit status 2, one line naming the
option, before any file is read or any server asked. Too fine a step is refused too: a
``--log-step`` of a nanosecond would count a one-hour log in 3.6e12 steps and run the
machine out of memory instead of failing.

The value stays the text given (the commands parse it again where they use it).

>>> import click
>>> @click.command()
... @click.option("--step", type=Duration(low=1.0, high=86400.0))
... def show(step):
...     click.echo(step)
>>> from click.testing import CliRunner
>>> CliRunner().invoke(show, ["--step", "5m"]).output
'5m\\n'
>>> print(CliRunner().invoke(show, ["--step", "1ms"]).output.splitlines()[-1])
Error: Invalid value for '--step': 1ms is shorter than 1s
"""

from __future__ import annotations

import math
from typing import Any

import click

from kizashi.durations import limit_text, parse_duration


class Duration(click.ParamType):
    """A duration (``30s``, ``5m``, ``1h30m``, ``7d`` or seconds) from ``low`` to ``high`` s.

    Read by :func:`kizashi.durations.parse_duration`, the rule of every duration.

    >>> Duration(1.0, 3600.0).convert("90m", None, None)
    Traceback (most recent call last):
    ...
    click.exceptions.BadParameter: 90m is more than 1h
    """

    name = "duration"

    def __init__(self, low: float, high: float, high_text: str | None = None) -> None:
        self.low, self.high, self.high_text = low, high, high_text or limit_text(high)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        try:
            seconds = parse_duration(value)
        except (ValueError, OverflowError, TypeError) as error:
            self.fail(str(error), param, ctx)
        if not math.isfinite(seconds) or seconds <= 0:
            self.fail(f"{value} is not a positive duration", param, ctx)
        if seconds < self.low:
            self.fail(f"{value} is shorter than {limit_text(self.low)}", param, ctx)
        if seconds > self.high:
            self.fail(f"{value} is more than {self.high_text}", param, ctx)
        return value
