"""Checks of ``kizashi watch``'s command-line overrides, as click callbacks.

An override given empty (``--state ''``) used to mean "not given" and the config's
value was used silently; a malformed one was reported as if the config were at fault
(``w.yaml: listen 'nohost' …``). Each is now a usage error (exit status 2) naming the
option, before the config is read.

>>> import click
>>> @click.command()
... @click.option("--shard", callback=shard_option)
... def show(shard):
...     click.echo(shard)
>>> from click.testing import CliRunner
>>> print(CliRunner().invoke(show, ["--shard", "3/2"]).output.splitlines()[-1])
Error: Invalid value for '--shard': shard '3/2' needs 0 <= i < N (N at most 100000)
"""

from __future__ import annotations

import click


def _given(value: str | None, ctx: click.Context, param: click.Parameter) -> str | None:
    if value is not None and not value.strip():
        raise click.BadParameter("is empty; leave the option out to use the config's value",
                                 ctx, param)
    return value


def text_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Any non-empty text (a path)."""
    return _given(value, ctx, param)


def url_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An http(s) URL."""
    if _given(value, ctx, param) is None:
        return None
    return any_url_option(ctx, param, value)


def any_url_option(ctx: click.Context, param: click.Parameter, value: str | None
                   ) -> str | None:
    """An http(s) URL with a host (``kizashi detect --prometheus``; empty is not one)."""
    from kizashi.watch.config import _url

    if value is None:
        return None
    try:
        _url(value, "")
    except ValueError as error:
        raise click.BadParameter(str(error).removeprefix(": "), ctx, param) from None
    return value


def listen_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``HOST:PORT`` or ``off``."""
    from kizashi.watch.config import _split_listen

    if _given(value, ctx, param) in (None, "off"):
        return value
    try:
        _split_listen(value, "")
    except ValueError:
        raise click.BadParameter(f"{value!r} must look like HOST:PORT (e.g. 127.0.0.1:9464) "
                                 "or be off", ctx, param) from None
    return value


def shard_option(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``I/N`` with 0 <= I < N."""
    from kizashi.watch.config import parse_shard

    if _given(value, ctx, param) is None:
        return None
    try:
        parse_shard(value, "")
    except ValueError as error:
        raise click.BadParameter(str(error).removeprefix(": "), ctx, param) from None
    return value
