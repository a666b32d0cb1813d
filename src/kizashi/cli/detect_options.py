"""Checks of ``kizashi detect``'s options that click's types do not make: before any reading.

* ``--dask``: ``local:N`` with 1 <= N <= 4 x this machine's cores (``local:100000``
  tried to start a hundred thousand processes), or a scheduler address
  ``[tcp://]host:port``; it was checked only after the file was read, and blamed on it.
* options that mean nothing without another: ``--group-by`` without
  ``--entity-labels``, ``--peers-by`` without ``--detector peers``, ``--partitions``
  without ``--dask`` were ignored silently; and ``--cutoff ''``, ``--group-by ''`` or
  ``--peers-by ''`` meant "not given".

Each is a usage error (exit status 2) naming the option.

>>> check_dask_address("local:2"), check_dask_address("tcp://10.0.0.5:8786")
('local:2', 'tcp://10.0.0.5:8786')
>>> check_dask_address("scheduler")
Traceback (most recent call last):
...
ValueError: 'scheduler' is not local:N or a scheduler address such as tcp://host:8786
"""

from __future__ import annotations

import os
import re

import click

#: schemes of a Dask scheduler address
SCHEMES = ("tcp", "tls", "ucx", "ws", "wss", "inproc")
#: --min-steps and --resolve-steps: 1 to kizashi.engine.decider.MAX_STEPS (not imported
#: here: the engine's compiled kernels stay out of ``kizashi --help``)
STEPS = click.IntRange(1, 10 ** 12)


def check_dask_address(value: str) -> str:
    """``value`` when it is ``local:N`` (N workers here) or ``[scheme://]host:port``."""
    if value.startswith("local:"):
        count = value.removeprefix("local:")
        limit = 4 * (os.cpu_count() or 1)
        if not count.isdigit() or not 1 <= int(count) <= limit:
            raise ValueError(f"local:N needs a number of worker processes from 1 to {limit} "
                             f"(4 x this machine's cores), got {value!r}")
        return value
    scheme, sep, rest = value.partition("://")
    address = rest if sep else value
    if (sep and scheme not in SCHEMES) or not re.fullmatch(r"\[?[\w.:-]+\]?:\d{1,5}",
                                                           address):
        raise ValueError(f"{value!r} is not local:N or a scheduler address such as "
                         "tcp://host:8786")
    return value


def dask_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Click callback of ``--dask``."""
    if value is None:
        return None
    try:
        return check_dask_address(value.strip())
    except ValueError as error:
        raise click.BadParameter(str(error), ctx, param) from None


def given_text(ctx: click.Context, param: click.Parameter, value):
    """Click callback refusing an empty text value (also each of a repeated option)."""
    for item in value if isinstance(value, tuple) else (value,):
        if item is not None and not str(item).strip():
            raise click.BadParameter("is empty; leave the option out instead", ctx, param)
    return value


def check_combinations(detector: str, group_by: tuple[str, ...], entity_labels: object,
                       peers_by: str | None, partitions: int | None,
                       dask_address: str | None) -> None:
    """Refuse options that would be ignored for want of another (click.UsageError)."""
    if group_by and entity_labels is None:
        raise click.UsageError("--group-by needs --entity-labels FILE (the labels it groups "
                               "by)")
    if peers_by is not None and detector != "peers":
        raise click.UsageError(f"--peers-by goes with --detector peers, not {detector!r}")
    if partitions is not None and dask_address is None:
        raise click.UsageError("--partitions goes with --dask ADDRESS")
