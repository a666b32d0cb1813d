"""``kizashi bench smd`` reports HitRate@100 %/150 % per machine (skipped without SMD)."""

from __future__ import annotations

import json

import numpy as np
import pytest


@pytest.mark.slow
def test_bench_smd_reports_hit_rates(tmp_path):
    from click.testing import CliRunner

    from kizashi.cli.bench_smd import smd
    from kizashi.data.smd import load_smd, machines

    if "machine-2-8" not in machines():
        pytest.skip("no local SMD copy with machine-2-8 (set KIZASHI_DATA)")
    out = tmp_path / "smd.json"
    result = CliRunner().invoke(smd, ["--detector", "threshold", "--machine", "machine-2-8",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "HitRate@100%" in result.output and "HitRate@150%" in result.output
    row = json.loads(out.read_text())[0]
    # looking at more dimensions never loses a hit; only labelled rows count
    assert 0.0 <= row["hitrate_100"] <= row["hitrate_150"] <= 1.0
    assert 0.0 <= row["hitrate_100_incident"] <= row["hitrate_150_incident"] <= 1.0
    assert "incident @150%" in result.output
    labelled = sum(e - s + 1 for s, e, _ in load_smd("machine-2-8").segments)
    assert 0 < row["n_points"] <= labelled


def test_hit_rates_over_the_best_f1_detected_rows():
    from kizashi.cli.bench_smd import interpretation

    labels = np.array([0, 1, 1, 1, 0, 0])
    scores = np.array([0.1, 0.9, 0.8, 0.2, 0.1, 0.3])
    # best F1: at 0.2 (rows 1, 2, 3, 5 flagged: P 3/4, R 1, F1 0.857) over 0.8 (P 1, R 2/3)
    attribution = np.array([[1, 0]] * 6, dtype=float)
    attribution[2] = [0, 1]                               # only row 2 blames dim 1
    out = interpretation(labels, scores, attribution, [(1, 3, (1,))])
    assert out["n_points"] == 3 and out["hitrate_100"] == out["hitrate_150"] == 1 / 3
    # the whole incident (rows 1–3, one run; row 5 is its own): dim 0 2/3, dim 1 1/3 on
    # average → dim 0 named on every labelled row: no hit
    assert out["hitrate_100_incident"] == out["hitrate_150_incident"] == 0.0
