"""``kizashi bench centre --variant``: one row per variant of the scenario."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kizashi.cli.main import cli

SMALL = ["--detector", "range_rule", "--param", "min_periods=500", "--seed", "4", "--nodes",
         "4", "--weeks", "3", "--no-progress"]


def test_variants_get_a_row_each_and_base_is_the_plain_scenario(tmp_path) -> None:
    plain, varied = tmp_path / "plain.json", tmp_path / "varied.json"
    result = CliRunner().invoke(cli, ["bench", "centre", *SMALL, "--json", str(plain)])
    assert result.exit_code == 0, result.output
    result = CliRunner().invoke(cli, ["bench", "centre", *SMALL, "--variant", "base",
                                      "--variant", "noisy", "--json", str(varied)])
    assert result.exit_code == 0, result.output
    assert "| variant |" in result.output and "| noisy | range_rule |" in result.output
    base, noisy = json.loads(varied.read_text())
    (only,) = json.loads(plain.read_text())
    assert (base["variant"], noisy["variant"]) == ("base", "noisy")
    for key in ("caught", "incidents", "false_runs", "missed"):
        assert base[key] == only[key]
    assert noisy["incidents"] == 6 and len(noisy["per_seed_per_week"]) == 1


def test_an_unknown_variant_is_refused_with_the_known_ones() -> None:
    result = CliRunner().invoke(cli, ["bench", "centre", "--variant", "martian",
                                      "--no-progress"])
    assert result.exit_code == 2 and "nodes-128" in result.output
