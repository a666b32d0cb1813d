"""`kizashi fit`: one entity's metrics, of a detector that is fitted ahead (its model tested
with the watch in tests/watch/test_fitted_causes.py)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kizashi.cli.main import cli


def test_fit_needs_one_entity_named(tmp_path):
    train = tmp_path / "two.csv"
    train.write_text("timestamp,entity,metric,value\n" + "".join(
        f"{i * 60},{e},{m},{i % 7}\n" for i in range(50) for e in ("a", "b")
        for m in ("cpu", "mem")))
    result = CliRunner().invoke(cli, ["fit", str(train), "--out", str(tmp_path / "m")])
    assert result.exit_code != 0 and "--entity" in result.output
    result = CliRunner().invoke(cli, ["fit", str(train), "--out", str(tmp_path / "m"),
                                      "--entity", "c"])
    assert result.exit_code != 0 and "no entity 'c'" in result.output
    result = CliRunner().invoke(cli, ["fit", str(train), "--out", str(tmp_path / "m"),
                                      "--entity", "a", "--detector", "threshold"])
    assert result.exit_code != 0 and "not fitted ahead" in result.output
    result = CliRunner().invoke(cli, ["fit", str(train), "--out", str(tmp_path / "m"),
                                      "--entity", "b"])
    assert result.exit_code == 0, result.output
    record = json.loads((tmp_path / "m" / "config.json").read_text())
    assert record["entity"] == "b" and record["features"] == ["cpu", "mem"]
