"""The demo report's centre section, and the default detector's false alerts in the demo."""

from __future__ import annotations

import re

import pytest

from kizashi.report.demo_centre import add_centre_section


def test_the_section_reports_the_default_detector_on_the_centre_scenario(tmp_path):
    from kizashi.data.centre import generate_centre
    from kizashi.evaluation.centre import score_centre

    (tmp_path / "report.html").write_text("<html><body><h1>demo</h1></body></html>")
    add_centre_section(tmp_path, seed=3, n_nodes=4, weeks=3)
    page = (tmp_path / "report.html").read_text()
    assert page.index("centre scenario") < page.index("</body>")
    cells = re.findall(r"<td>([^<]*)</td>", page)
    direct = score_centre(generate_centre(n_nodes=4, weeks=3, seed=3), "ensemble")
    assert cells[0] == f"{direct.caught}/6"
    assert cells[2] == str(direct.false_runs)


@pytest.mark.slow
def test_the_default_raises_fewer_false_alerts_than_a_rolling_threshold_in_the_demo():
    # the demo's month: sparse daemon restarts used to page the default on every node
    from kizashi.data.cluster import generate_cluster
    from kizashi.report.demo import DetectorRun, judge, score_by_metric

    telemetry = generate_cluster(n_nodes=8, days=28, seed=3)
    runs = {}
    for name in ("ensemble", "threshold"):
        run = DetectorRun(name, name, "default", *score_by_metric(telemetry, name, {},
                                                                 "default"), 0.0)
        judge(run, telemetry)
        runs[name] = run
    assert runs["ensemble"].false_alerts < runs["threshold"].false_alerts
    assert all(hit for hit, _ in runs["ensemble"].verdicts.values())
