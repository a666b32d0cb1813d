"""The one-line net under every command (kizashi.cli.errors), on commands made to fail.

Each failure class is raised inside a real click command run through kizashi's group;
the expectation is click's own contract (exit status 1, or 2 for usage) plus one stderr
line naming what failed, and, with KIZASHI_DEBUG=1, the original exception back.
"""

from __future__ import annotations

import warnings

import click
import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli import main


@pytest.fixture
def failing(monkeypatch):
    """Register a command ``fail KIND`` that fails the way KIND says."""

    @click.command()
    @click.argument("kind")
    @click.option("--count", type=click.IntRange(min=1), default=1)
    def fail(kind: str, count: int) -> None:
        if kind == "oserror":
            open("/nonexistent-dir/x.csv", "w")
        if kind == "bug":
            raise KeyError("cpu")
        if kind == "multiline":
            raise click.ClickException("first line\n  second line\n\n")
        if kind == "memory":
            raise MemoryError
        if kind == "warns":
            with np.errstate(over="warn"):
                np.float64(1e308) * 10
                np.float64(1e308) ** 2
            warnings.warn("something odd\nacross lines", UserWarning, stacklevel=1)
            click.echo("done")

    monkeypatch.setitem(main.COMMANDS, "fail", ("kizashi.cli.main:cli", "test"))
    monkeypatch.setattr(main.LazyGroup, "get_command",
                        lambda self, ctx, name: fail if name == "fail" else None)
    return lambda *args: CliRunner().invoke(main.cli, ["fail", *args])


@pytest.mark.parametrize(("kind", "code", "text"), [
    ("oserror", 1, "Error: /nonexistent-dir/x.csv: No such file or directory"),
    ("bug", 1, "Error: internal error (KeyError: 'cpu'); rerun with KIZASHI_DEBUG=1"),
    ("multiline", 1, "Error: first line second line"),
    ("memory", 1, "Error: out of memory"),
])
def test_each_failure_class_is_one_line(failing, kind, code, text):
    result = failing(kind)
    assert result.exit_code == code
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(text), lines
    assert isinstance(result.exception, SystemExit)


def test_usage_error_is_one_line_with_the_help_named(failing):
    result = failing("x", "--count", "0")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "Error: Invalid value for '--count': 0 is not in the range x>=1. "
        "(see 'cli fail --help')"]


def test_unknown_command_is_one_line():
    result = CliRunner().invoke(main.cli, ["detcet"])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == ["Error: No such command 'detcet'. "
                                                  "(see 'cli --help')"]


def test_debug_variable_gives_the_exception_back(failing, monkeypatch):
    monkeypatch.setenv("KIZASHI_DEBUG", "1")
    result = failing("bug")
    assert isinstance(result.exception, KeyError)


@pytest.mark.filterwarnings("default")
def test_warnings_are_one_line_and_numerical_bursts_are_counted(failing):
    result = failing("warns")
    assert result.exit_code == 0 and result.stdout == "done\n"
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("warning: overflow encountered in ")
    assert "(RuntimeWarning); results computed from values that large" in lines[0]
    assert lines[1] == "warning: something odd across lines (UserWarning)"
    assert lines[2] == ("warning: 1 more numerical warning(s) of the same kind "
                        "(RuntimeWarning) not shown")
    assert len(lines) == 3
