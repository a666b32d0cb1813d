"""The demo report's diagnosis sections: grouped incidents, causes, types, the logs."""

from __future__ import annotations

import pytest

from kizashi.data.cluster import generate_cluster
from kizashi.data.cluster_logs import loop_start
from kizashi.report.demo_diagnosis import diagnose_demo, logs_demo, section


@pytest.mark.slow
def test_restart_loop_is_caught_in_the_logs_before_the_metrics(tmp_path):
    telemetry = generate_cluster(n_nodes=8, days=14, seed=2)
    logs = logs_demo(telemetry, tmp_path, seed=2)
    loop = logs["loop"]
    assert logs["caught"] is not None
    # caught after the loop starts in the logs and before its metrics move
    assert loop_start(telemetry) <= logs["caught_at"] < loop.start
    assert logs["caught"].causes[0][0].startswith("log:sbatchd[<NUM>]: sbatchd restarted")
    assert len(logs["incidents"]) <= 3                   # the job lines raise (almost) nothing
    assert (tmp_path / "demo-lsf.log").stat().st_size > 100_000


@pytest.mark.slow
def test_cluster_wide_hang_is_one_explained_incident(tmp_path):
    telemetry = generate_cluster(n_nodes=8, days=14, seed=2)
    found, n_alerts = diagnose_demo(telemetry, [])
    assert len(found) < n_alerts
    hang = next(i for i in telemetry.incidents if i.name == "filesystem-hang")
    during = [d for d in found if hang.start <= d.group.start <= hang.start + 2]
    assert len(during) == 1
    d = during[0]
    assert d.summary.startswith("fs_latency_ms") and d.summary.endswith("on 8/8 nodes")
    assert d.causes[0][0] == "fs_latency_ms" and d.type == "level_shift"
    html = section(tmp_path, telemetry, [])
    assert "Incidents, grouped and explained" in html and "on 8/8 nodes" in html
    assert "was caught at" in html
