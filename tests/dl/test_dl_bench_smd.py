"""``kizashi bench smd`` on one machine of the local SMD copy (skipped without it)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")


@pytest.mark.slow
def test_bench_smd_prints_metrics_beside_tsb_ad(tmp_path):
    from click.testing import CliRunner

    from kizashi.cli.bench_smd import published_vus_pr, smd
    from kizashi.data.smd import machines

    if "machine-2-7" not in machines():
        pytest.skip("no local SMD copy with machine-2-7 (set KIZASHI_DATA)")
    assert published_vus_pr()["machine-2-7"]["tr_N"] == 564
    out = tmp_path / "smd.json"
    result = CliRunner().invoke(smd, ["--detector", "autoencoder", "--machine", "machine-2-7",
                                      "--protocol", "tsb-ad", "--param", "epochs=1",
                                      "--param", "device=cpu", "--json", str(out)])
    assert result.exit_code == 0, result.output
    assert "| machine-2-7 |" in result.output and "TSB-AD LSTMAD" in result.output
    row = json.loads(out.read_text())[0]
    assert 0.0 <= row["vus_pr"] <= 1.0 and row["published"]["LSTMAD"] == "0.1709"
