"""The demo's prediction section: a warning ahead of the leak's OOM, and fewer false warnings."""

from __future__ import annotations

import numpy as np

from kizashi.data.cluster import STEP_SECONDS, generate_cluster
from kizashi.report.demo_prediction import add_prediction_section, prediction_demo


def test_kizashi_warns_ahead_of_the_oom_and_not_on_the_nightly_cleanup(tmp_path):
    telemetry = generate_cluster(n_nodes=6, days=9, seed=4)
    demo = prediction_demo(telemetry, seed=4)
    frame = demo.frame
    leak = frame.values[:, demo.leak_column]
    assert leak[demo.failure] >= 100 > leak[: demo.failure].max()
    lead = demo.kizashi_lead_hours
    assert lead is not None and lead >= 1.0
    # the scratch areas fill to near 100 % every day: predict_linear fires, kizashi does not
    # once it has seen them emptied twice (the cycle gate: the second nightly drop, plus the
    # hour in which a fall counts as a reset), nor once learnt
    scratch = [j for j, m in enumerate(frame.metrics) if m == "scratch_used_pct"]
    assert demo.predict_linear[:, scratch].any()
    hour = 3600 // STEP_SECONDS
    for j in scratch:
        drops = np.flatnonzero(np.diff(frame.values[:, j]) < -30)
        assert drops.size >= 2
        assert not demo.kizashi[drops[1] + 1 + hour:, j].any()
        assert not demo.kizashi[np.isfinite(demo.probability[:, j]), j].any()
    assert demo.false_runs(demo.kizashi) < demo.false_runs(demo.predict_linear)
    # the section lands in the report, with its plot
    (tmp_path / "report.html").write_text("<html><body><h1>x</h1></body></html>")
    add_prediction_section(tmp_path, telemetry, seed=4)
    page = (tmp_path / "report.html").read_text()
    assert "Warnings ahead" in page and page.rstrip().endswith("</html>")
    assert "h before the OOM" in page
    assert (tmp_path / "prediction.png").stat().st_size > 5_000
    assert np.isfinite(demo.probability[-1]).all()
