"""An infinite cutoff is refused wherever a cutoff is read: ``--cutoff inf`` (or ``1e400``,
which reads as inf) flagged nothing ever and ``-inf`` everything, silently ("cutoff inf"
in the summary). A cutoff is a decision; ±inf is none.

Family: spellings of ±inf as text and as numbers, through ``parse_cutoff``, ``kizashi
detect --cutoff`` and a watch config's ``cutoff``; the control: large finite cutoffs are
still read.
"""

from __future__ import annotations

import math

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.decision import parse_cutoff
from kizashi.watch.config import parse_config

INFINITE = ["inf", "-inf", "Infinity", "-INFINITY", " INF ", "1e400", "-1e400", math.inf,
            -math.inf]
FINITE = [("1e308", 1e308), ("-5", -5.0), ("0", 0.0), (1e300, 1e300)]


@pytest.mark.parametrize("text", INFINITE, ids=map(repr, INFINITE))
def test_an_infinite_cutoff_is_refused(text):
    with pytest.raises(ValueError, match="a cutoff must be a finite number"):
        parse_cutoff(text)


@pytest.mark.parametrize(("text", "value"), FINITE)
def test_finite_cutoffs_are_read(text, value):
    assert parse_cutoff(text).resolve(n_series=1).tolist() == [value]


@pytest.mark.parametrize("text", [t for t in INFINITE if isinstance(t, str)])
def test_detect_refuses_it_in_one_line_before_reading(tmp_path, text):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,cpu\n0,abc\n")  # refused if it were read
    result = CliRunner().invoke(cli, ["detect", str(source), "--cutoff", text])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2) and len(lines) == 1, result.output
    assert "cutoff must be a finite number" in lines[0]


@pytest.mark.parametrize("text", [".inf", "-.inf", "1e400"])
def test_a_watch_config_refuses_it_naming_the_key(text):
    with pytest.raises(ValueError, match=r"cutoff.*finite number"):
        parse_config(f"""
interval: 1m
listen: off
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9090"}}}}
watches:
  - name: w
    query: up
    detectors: [{{detector: threshold, cutoff: {text}}}]
""")
