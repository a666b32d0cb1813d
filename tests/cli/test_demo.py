"""`kizashi demo` writes a report that shows every incident with the detectors' verdicts."""

from __future__ import annotations

import re

from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.cluster import generate_cluster
from kizashi.report.demo import run_demo


def test_demo_report_shows_each_incident(tmp_path):
    report = run_demo(tmp_path, n_nodes=8, days=28, seed=3, progress=False,
                      names=["static_threshold", "threshold", "seasonal_threshold"])
    page = report.read_text()
    incidents = generate_cluster(n_nodes=8, days=28, seed=3).incidents
    for incident in incidents:
        assert incident.name in page
        assert (tmp_path / f"incident-{incident.name}.png").stat().st_size > 5_000
    # one verdict cell per incident and detector
    verdicts = re.findall(r'<td class="(hit|miss)">', page)
    assert len(verdicts) == len(incidents) * 3
    # the filesystem hang is caught by every threshold detector
    hang_row = page[page.index("<th>filesystem-hang"):].split("</tr>")[0]
    assert hang_row.count('class="hit"') == 3


def test_static_bounds_misfire_in_the_quiet_season_and_seasonal_does_not(tmp_path):
    from kizashi.report.demo import DetectorRun, judge, score_by_metric

    telemetry = generate_cluster(n_nodes=8, days=28, seed=3)
    counts = {}
    for name, params in (("static_threshold", {}), ("seasonal_threshold", {})):
        scores, flags, active = score_by_metric(telemetry, name, params, "default")
        run = DetectorRun(name, name, "default", scores, flags, active, 0.0)
        judge(run, telemetry)
        counts[name] = run.false_alerts_quiet
    assert counts["static_threshold"] > 5 * max(counts["seasonal_threshold"], 1)


def test_demo_command(tmp_path):
    result = CliRunner().invoke(cli, ["demo", "--help"])
    assert result.exit_code == 0 and "--nodes" in result.output
