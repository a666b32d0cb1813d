"""``kizashi detect --logs FILE``: a log file's template counts through the same engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kizashi.cli.duration_option import Duration

__all__ = ["OPTIONS", "add_options", "read_log_input"]


#: counts (steps x series) a log file may become: 256 MiB of float64, minutes to score
MAX_LOG_CELLS = 2**25


def _duration(seconds: float) -> str:
    """The next whole minute, hour or day at or above ``seconds``, as a --log-step."""
    for unit, size in (("m", 60), ("h", 3600), ("d", 86_400)):
        if seconds <= 99 * size:
            return f"{max(1, -(-int(seconds) // size))}{unit}"
    return f"{-(-int(seconds) // 86_400)}d"


def read_log_input(path: Path, log_format: str, log_step: str, by_host: bool,
                   timezone: str | None = None) -> Any:
    """The log file as a SeriesFrame of counts per template (and host) per step; times
    without a zone read in ``timezone`` (None: this machine's)."""
    from kizashi.data.logs import LogCountsTooLarge, read_logs
    from kizashi.durations import parse_duration

    try:
        frame = read_logs(path, step=parse_duration(log_step), format=log_format,
                          by_host=by_host, max_cells=MAX_LOG_CELLS, timezone=timezone)
    except LogCountsTooLarge as large:  # a few lines months apart on many hosts: zeros
        cells = large.n_times * large.n_series
        fits = large.span_seconds * large.n_series / MAX_LOG_CELLS
        import numpy as np

        from kizashi.data.utc_text import utc_text

        ends = np.array([large.first, large.last])
        span = (utc_text(np.floor(ends).astype(np.int64).astype("datetime64[s]")).tolist()
                if np.isfinite(ends).all() else None)
        raise click.ClickException(
            f"{path}: {large.n_times} steps of {log_step} x {large.n_series} series is "
            f"{cells * 8 / 2**30:.1f} GiB of counts, over the {MAX_LOG_CELLS * 8 / 2**20:.0f} "
            f"MiB limit: use --log-step {_duration(fits)} or longer, or --log-all-hosts"
            + (f" (its lines run from {span[0]} to {span[1]}: a line with a wrong time?)"
               if span else "")
        ) from None
    skipped = frame.meta.get("skipped", 0)
    if skipped:
        click.secho(f"note: {path}: {skipped} line(s) did not fit the log format", err=True)
    replaced = frame.meta.get("replaced", 0)
    if replaced:
        click.secho(f"note: {path}: {replaced} line(s) with bytes that are not UTF-8 (or NUL) "
                    f"read with those bytes replaced", err=True)
    far = frame.meta.get("far", 0)
    if far:
        click.secho(f"warning: {path}: {far} line(s) more than ten years away from the "
                    f"other lines skipped (a host's clock set wrong?)", fg="yellow", err=True)
    click.echo(f"{path}: {len(set(frame.metrics))} log templates on "
               f"{len(set(frame.entities))} host(s), {int(frame.meta['lines'].sum())} lines")
    return frame


def _check_zone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    from kizashi.data.log_zone import log_zone

    try:
        log_zone(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None
    return value


OPTIONS: list[Callable[[Any], Any]] = [
    click.option("--logs", type=click.Path(exists=True, dir_okay=False, path_type=Path),
                 help="Read a log file instead: lines per Drain3 template (and host) per "
                      "--log-step become the series."),
    click.option("--log-format", default="auto", show_default=True,
                 type=click.Choice(["auto", "iso", "syslog", "bgl", "hpc"]),
                 help="Line layout: iso (2026-03-09T10:00:00Z host text), syslog, loghub's "
                      "bgl and hpc, or auto."),
    click.option("--log-step", default="1m", show_default=True, metavar="DURATION",
                 type=Duration(1.0, 366 * 86400.0),
                 help="Counting interval for --logs (e.g. 1m, 1h, 1m30s; 1s to 366d)."),
    click.option("--log-timezone", "log_timezone", default="local", show_default=True,
                 metavar="ZONE", callback=_check_zone,
                 help="Zone of the times written without one (syslog's, ISO without Z or "
                      "an offset): an IANA name (UTC, Asia/Tokyo) or local, this machine's."),
    click.option("--log-hosts/--log-all-hosts", "log_hosts", default=True, show_default=True,
                 help="Count per host, or each template over all hosts (few lines per host)."),
]


def add_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate ``command`` with :data:`OPTIONS`."""
    for option in reversed(OPTIONS):
        command = option(command)
    return command
