"""``kizashi predict --limit 'rate(M)=V'``: the counter's rate is written as a series of its
own, ``rate(M)``, with a limit; a rate limit on a metric the file lacks is one warning."""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from kizashi.cli.main import cli


def _file(tmp_path):
    source = tmp_path / "in.csv"
    # requests at 2/s (600 a step), then 12/s from step 40: over a rate limit of 10/s
    total, lines = 0, []
    for i in range(60):
        total += 600 if i < 40 else 3600
        lines.append(f"{1_704_067_200 + i * 300},{total},{40 + i % 5}\n")
    source.write_text("timestamp,requests_total,load\n" + "".join(lines))
    return source


def test_a_rate_limit_predicts_the_rate_as_its_own_series(tmp_path):
    source, out = _file(tmp_path), tmp_path / "pred.csv"
    result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", "1h",
                                      "--limit", "rate(requests_total)=10", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "60 time steps, 3 series (1 with a limit)" in result.stdout
    table = pd.read_csv(out)
    rate = table[table["metric"] == "rate(requests_total)"]
    assert len(rate) == 60
    # over its limit from step 40 on (12/s ≥ 10/s): probability 1, a warning, the ETA now
    over = rate.iloc[40:]
    assert (over["probability"] == 1.0).all() and over["is_warning"].all()
    assert (over["eta"] == over["timestamp"]).all()
    assert not rate.iloc[1:40]["is_warning"].any()


def test_a_rate_limit_on_a_metric_not_in_the_file_is_one_warning(tmp_path):
    result = CliRunner().invoke(cli, ["predict", str(_file(tmp_path)), "-q", "--horizon", "1h",
                                      "--limit", "rate(errors_total)=1"])
    assert result.exit_code == 0, result.output
    assert "warning: --limit for metrics not in" in result.stderr
    assert "rate(errors_total)" in result.stderr
    assert "60 time steps, 2 series (0 with a limit)" in result.stdout


def test_spaces_inside_a_rate_limit_name_the_same_series(tmp_path):
    # 'rate( requests_total )' is the rate series rate(requests_total), not a missing metric
    source = _file(tmp_path)
    for spelling in ("rate( requests_total )", " rate(requests_total)", "rate(requests_total )"):
        result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", "1h",
                                          "--limit", f"{spelling}=10"])
        assert result.exit_code == 0, result.output
        assert "not in" not in result.stderr, spelling
        assert "60 time steps, 3 series (1 with a limit)" in result.stdout, spelling


def test_a_rate_limit_clashing_with_a_column_of_that_name_is_refused(tmp_path):
    source = _file(tmp_path)
    table = pd.read_csv(source)
    table["rate(requests_total)"] = 1.0
    table.to_csv(source, index=False)
    result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", "1h",
                                      "--limit", "rate(requests_total)=10"])
    assert result.exit_code != 0
    assert "already has a series 'rate(requests_total)'" in result.output
    assert "Traceback" not in result.output
