"""Warnings that are *subclasses* of ``RuntimeWarning`` are not numpy's floating-point
bursts: tqdm's "can't start new thread" (``TqdmMonitorWarning``), scipy's "input is
constant" (``ConstantInputWarning``), numpy's ``ComplexWarning``... Each is its own line
with its own name, without the "values that large ... may be infinite" hint and without
being counted into, or hidden behind, the numeric burst. Before, a thread limit on a busy
machine printed "tqdm:disabling monitor ... (TqdmMonitorWarning); results computed from
values that large ... may be infinite or empty".

Family: each kind of RuntimeWarning subclass, alone and after a numeric burst.
"""

from __future__ import annotations

import warnings

import click
import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli import main


class MonitorWarning(RuntimeWarning):
    """Stands for tqdm's TqdmMonitorWarning (a RuntimeWarning subclass)."""


class ConstantInput(RuntimeWarning):
    """Stands for scipy.stats' ConstantInputWarning (a RuntimeWarning subclass)."""


class Complex(RuntimeWarning):
    """Stands for numpy's ComplexWarning (a RuntimeWarning subclass)."""


KINDS = [MonitorWarning, ConstantInput, Complex]
HINT = "results computed from values that large"


def _run(monkeypatch, category: type[Warning], burst: bool):
    @click.command()
    def warn() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("always")  # each time, whatever ran before
            if burst:
                with np.errstate(over="warn"):
                    np.float64(1e308) * 10
                    np.float64(1e308) ** 2
            warnings.warn(f"about {category.__name__}", category, stacklevel=1)
            warnings.warn(f"about {category.__name__} again", category, stacklevel=1)

    monkeypatch.setitem(main.COMMANDS, "warn", ("kizashi.cli.main:cli", "test"))
    monkeypatch.setattr(main.LazyGroup, "get_command",
                        lambda self, ctx, name: warn if name == "warn" else None)
    return CliRunner().invoke(main.cli, ["warn"])


@pytest.mark.filterwarnings("default")
@pytest.mark.parametrize("burst", [False, True])
@pytest.mark.parametrize("category", KINDS, ids=[k.__name__ for k in KINDS])
def test_a_runtime_warning_subclass_is_shown_as_itself(monkeypatch, category, burst):
    result = _run(monkeypatch, category, burst)
    assert result.exit_code == 0
    lines = result.stderr.strip().splitlines()
    own = [line for line in lines if f"({category.__name__})" in line]
    assert own == [f"warning: about {category.__name__} ({category.__name__})",
                   f"warning: about {category.__name__} again ({category.__name__})"]
    numeric = [line for line in lines if "(RuntimeWarning)" in line]
    if burst:  # numpy's burst: its first line with the hint, then the count of the other
        assert len(numeric) == 2 and HINT in numeric[0]
        assert numeric[1].startswith("warning: 1 more numerical warning(s)")
    else:
        assert numeric == []
    assert len(lines) == len(own) + len(numeric)
