"""``kizashi predict --limit`` naming metrics the file does not have: warned, the rest works.

The file's metrics are generated here (``cpu``, ``mem_pct``); a limit on another metric
cannot apply, so the command must say so in one ``warning:`` line naming it (with the
file's metric of the nearest spelling when there is one), and predict the others as
if that limit were not given: the summary counts the series with a limit from the
generator (``mem_pct`` has one by default, ``cpu`` only when its limit is given).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

CASES = {  # --limit values → (the warning's text or None, series with a limit)
    ("gpu_w=300",): ("gpu_w", 1),
    ("CPU=90",): ("CPU (did you mean 'cpu'?)", 1),
    ("cpu_=90",): ("cpu_ (did you mean 'cpu'?)", 1),
    ("cpu=90", "gpu_w=300"): ("gpu_w", 2),
    ("cpu=90", "CPU=80"): ("CPU (did you mean 'cpu'?)", 2),
    ("gpu_w=1", "disk=2"): ("disk, gpu_w", 1),
    (" cpu = 90",): (None, 2),  # spaces around the name are not part of it
    ("mem_pct=80",): (None, 1),
}


@pytest.mark.parametrize("limits", list(CASES), ids=[" ".join(k) for k in CASES])
def test_a_limit_on_a_metric_not_in_the_file_is_one_warning(tmp_path, limits):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,cpu,mem_pct\n" + "".join(
        f"{1_704_067_200 + i * 300},{50 + i % 7},{40 + i % 5}\n" for i in range(60)))
    options = [a for limit in limits for a in ("--limit", limit)]
    result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", "1h",
                                      *options])
    assert result.exit_code == 0, result.output
    warned, with_limit = CASES[limits]
    warnings = [x for x in result.stderr.splitlines() if x.startswith("warning: --limit")]
    if warned is None:
        assert warnings == [], result.stderr
    else:
        assert warnings == [f"warning: --limit for metrics not in {source}: {warned}"], warnings
    assert f"60 time steps, 2 series ({with_limit} with a limit)" in result.stdout


@pytest.mark.parametrize(("metrics", "limits", "warned"), [
    (["cpu", "mem"], [], True),                  # no limit at all
    (["cpu", "mem"], ["nope=3"], True),          # a limit for a metric not there
    (["cpu", "disk_pct"], [], False),            # _pct: 100 by default
    (["cpu", "mem"], ["mem=80"], False),         # a limit given
])
def test_no_anomaly_ahead_without_any_limit_says_nothing_is_predicted(tmp_path, metrics,
                                                                      limits, warned):
    import numpy as np
    import pandas as pd

    path = tmp_path / "node.csv"
    i = np.arange(50)
    pd.DataFrame({"timestamp": 1_704_067_200 + 300 * i,
                  **{m: np.round(40 + np.sin(i / 5), 3) for m in metrics}}).to_csv(path,
                                                                                   index=False)
    options = [a for limit in limits for a in ("--limit", limit)]
    result = CliRunner().invoke(cli, ["predict", str(path), "-q", "--no-anomaly-ahead",
                                      *options])
    assert result.exit_code == 0, result.output
    assert ("nothing is predicted" in result.stderr) == warned, result.stderr


@pytest.mark.parametrize(("options", "refused"), [
    (["--no-anomaly-ahead", "--anomaly-cutoff", "0.3"], True),
    (["--anomaly-cutoff", "0.3", "--no-anomaly-ahead"], True),
    (["--anomaly-cutoff", "0.3"], False),
    (["--no-anomaly-ahead"], False),
])
def test_anomaly_cutoff_with_no_anomaly_ahead_is_refused(tmp_path, options, refused):
    import numpy as np
    import pandas as pd

    path = tmp_path / "node.csv"
    i = np.arange(30)
    pd.DataFrame({"timestamp": 1_704_067_200 + 300 * i, "disk_pct": 40.0 + i % 3}).to_csv(
        path, index=False)
    result = CliRunner().invoke(cli, ["predict", str(path), "-q", *options])
    assert result.exit_code == (2 if refused else 0), result.output
    if refused:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "--anomaly-cutoff" in lines[0], lines


#: metric names with '=' in them (PromQL label matchers flattened into a column name,
#: ``a=b``), each given a limit: the value is after the last '=' (a number has none)
EQUALS_NAMES = ["a=b", "x==y", "=lead", "k=v,z=w", 'up{job="node"}']


@pytest.mark.parametrize("name", EQUALS_NAMES)
def test_a_metric_name_with_an_equals_sign_takes_its_limit(tmp_path, name):
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["timestamp", "cpu", name])
    for i in range(60):
        writer.writerow([1_704_067_200 + i * 300, 50 + i % 7, 40 + i % 5])
    source = tmp_path / "in.csv"
    source.write_text(buffer.getvalue())
    result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--horizon", "1h",
                                      "--limit", f"{name}=90"])
    assert result.exit_code == 0, result.output
    assert not [x for x in result.stderr.splitlines() if "--limit" in x], result.stderr
    assert "60 time steps, 2 series (1 with a limit)" in result.stdout


@pytest.mark.parametrize("item", ["a=b=x", "cpu=90=", "cpu==90x"])
def test_a_limit_whose_last_part_is_not_a_number_names_it(item):
    from kizashi.cli.predict import parse_limits

    value = item.rpartition("=")[2]
    with pytest.raises(Exception, match="METRIC=VALUE" if not value else f"'{value}' is not"):
        parse_limits((item,))
