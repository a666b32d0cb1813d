"""Options of ``kizashi detect`` given on the command line where nothing reads them.

``--labels`` is read only with ``--format nab``, the ``--log-*`` options only with
``--logs``, ``--query``/``--since``/``--step`` only with ``--prometheus``, and
``--group-window`` only when incidents are grouped (``--explain``, ``--incidents``).
Given without, they were ignored silently: an operator who typed ``--since 7d`` on a
file, or ``--labels`` without ``--format nab``, believed they had an effect. Each is a
usage error naming the option it goes with (as ``--partitions`` without ``--dask``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click
from click.core import ParameterSource

#: parameter name, its option as typed, what must hold for it to be read, that as typed
NEEDS: list[tuple[str, str, Callable[[Mapping[str, Any]], bool], str]] = [
    ("labels", "--labels", lambda v: v["fmt"] == "nab", "--format nab"),
    ("log_format", "--log-format", lambda v: v["logs"] is not None, "--logs FILE"),
    ("log_step", "--log-step", lambda v: v["logs"] is not None, "--logs FILE"),
    ("log_timezone", "--log-timezone", lambda v: v["logs"] is not None, "--logs FILE"),
    ("log_hosts", "--log-hosts/--log-all-hosts", lambda v: v["logs"] is not None,
     "--logs FILE"),
    ("query", "--query", lambda v: v["prometheus"] is not None, "--prometheus URL"),
    ("since", "--since", lambda v: v["prometheus"] is not None, "--prometheus URL"),
    ("step_text", "--step", lambda v: v["prometheus"] is not None, "--prometheus URL"),
    ("group_window", "--group-window",
     lambda v: v["explain"] or v["incidents_file"] is not None,
     "--explain or --incidents FILE"),
]

GIVEN = (ParameterSource.COMMANDLINE, ParameterSource.ENVIRONMENT)


def was_given(ctx: click.Context, name: str) -> bool:
    """Whether the operator gave parameter ``name`` (on the command line or in the
    environment), rather than it taking its default."""
    return ctx.get_parameter_source(name) in GIVEN


def check_unused(ctx: click.Context, values: Mapping[str, Any]) -> None:
    """Refuse an option of :data:`NEEDS` given where its companion is not.

    >>> @click.command()
    ... @click.option("--since")
    ... @click.pass_context
    ... def show(ctx, since):
    ...     check_unused(ctx, {"since": since, "prometheus": None})
    >>> from click.testing import CliRunner
    >>> print(CliRunner().invoke(show, ["--since", "7d"]).output.strip())
    Usage: show [OPTIONS]
    Try 'show --help' for help.
    <BLANKLINE>
    Error: --since goes with --prometheus URL; without it nothing reads it
    """
    for name, option, needed, companion in NEEDS:
        if name not in values or not was_given(ctx, name):
            continue
        if not needed(values):
            raise click.UsageError(f"{option} goes with {companion}; without it nothing "
                                   f"reads it", ctx=ctx)
