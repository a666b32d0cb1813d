"""``kizashi bench``: the lazy group and ``bench nab`` end to end."""

from __future__ import annotations

import importlib.util
import json
import time

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli


@pytest.fixture()
def tiny_nab(tmp_path):
    """A NAB-shaped folder with two short series and one window each."""
    rng = np.random.default_rng(0)
    windows = {}
    for k, name in enumerate(["cat/a.csv", "cat/b.csv"]):
        stamps = np.datetime64("2024-01-01", "s") + np.arange(400) * np.timedelta64(300, "s")
        values = rng.normal(size=400)
        spike = 250 + 50 * k
        values[spike] += 15
        path = tmp_path / "nab" / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = [f"{str(t).replace('T', ' ')},{v:.6f}" for t, v in zip(stamps, values,
                                                                         strict=True)]
        path.write_text("timestamp,value\n" + "\n".join(text) + "\n")
        bounds = [str(stamps[spike - 10]), str(stamps[spike + 10])]
        windows[name] = [[b.replace("T", " ") + ".000000" for b in bounds]]
    labels = tmp_path / "nab" / "labels" / "combined_windows.json"
    labels.parent.mkdir(parents=True)
    labels.write_text(json.dumps(windows))
    return tmp_path / "nab"


def test_bench_help_lists_benchmarks_even_without_smd():
    result = CliRunner().invoke(cli, ["bench", "--help"])
    assert result.exit_code == 0, result.output
    assert "nab" in result.output and "smd" in result.output
    if importlib.util.find_spec("kizashi.cli.bench_smd") is None:
        assert "(not installed)" in result.output
        missing = CliRunner().invoke(cli, ["bench", "smd"])
        assert missing.exit_code == 2 and "not available" in missing.output


def test_bench_nab_takes_at_most_one_source(tmp_path):
    result = CliRunner().invoke(cli, ["bench", "nab", "--results", str(tmp_path),
                                      "--detector", "threshold"])
    assert result.exit_code == 2 and "exactly one of" in result.output


def test_bench_nab_without_a_detector_runs_the_default(tiny_nab, tmp_path, monkeypatch):
    from kizashi.detectors import registry

    monkeypatch.setattr(registry, "DEFAULT_DETECTOR", "range_rule")
    out = tmp_path / "json"
    result = CliRunner().invoke(cli, ["bench", "nab", "--data", str(tiny_nab), "--json",
                                      str(out), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert list(json.loads(out.read_text())) == ["range_rule"]
    assert "split all" in result.output


def test_bench_nab_split_scores_only_its_fold(tiny_nab, tmp_path):
    from kizashi.evaluation.splits import nab_fold

    folds = {nab_fold(name) for name in ("cat/a.csv", "cat/b.csv")}
    for split in ("tune", "holdout"):
        result = CliRunner().invoke(cli, ["bench", "nab", "--detector", "threshold", "--data",
                                          str(tiny_nab), "--split", split, "--no-progress"])
        if split in folds:
            assert result.exit_code == 0, result.output
            assert f"split {split}" in result.output
        else:  # an empty fold of this tiny corpus: a clear error, not a crash
            assert result.exit_code != 0


def test_bench_nab_detector_then_results_round_trip(tiny_nab, tmp_path):
    runner = CliRunner()
    out, first, second = tmp_path / "res", tmp_path / "a.json", tmp_path / "b.json"
    result = runner.invoke(cli, ["bench", "nab", "--detector", "threshold", "--param",
                                 "window=100", "--data", str(tiny_nab), "--out", str(out),
                                 "--name", "thr", "--json", str(first), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "NAB profile reward_low_FN_rate" in result.output and "measured" in result.output
    assert "ARTime" in result.output  # published rows next to ours
    measured = json.loads(first.read_text())
    assert set(measured["thr"]) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    assert (out / "thr" / "cat" / "thr_a.csv").exists()
    result = runner.invoke(cli, ["bench", "nab", "--results", str(out), "--data",
                                 str(tiny_nab), "--json", str(second)])
    assert result.exit_code == 0, result.output
    again = json.loads(second.read_text())
    for profile, value in measured["thr"].items():
        assert again["thr"][profile] == pytest.approx(value, abs=1e-9)


def test_bench_nab_reports_bad_result_files(tiny_nab, tmp_path):
    bad = tmp_path / "res" / "det" / "cat" / "det_a.csv"
    bad.parent.mkdir(parents=True)
    bad.write_text("timestamp,anomaly_score\n")
    result = CliRunner().invoke(cli, ["bench", "nab", "--results", str(tmp_path / "res"),
                                      "--data", str(tiny_nab)])
    assert result.exit_code == 1
    assert "cat/a.csv: 0 anomaly scores for 400 rows" in result.output


def test_bench_nab_reproduces_published_scores(nab_dir, tmp_path):
    out = tmp_path / "nab.json"
    result = CliRunner().invoke(cli, ["bench", "nab", "--results", str(nab_dir / "results"),
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    scores = json.loads(out.read_text())
    expected = {"windowedGaussian": (39.65, 20.87, 47.41), "bayesChangePt": (17.71, 5.13, 32.26)}
    for detector, values in expected.items():
        got = [scores[detector][p] for p in ("standard", "reward_low_FP_rate",
                                             "reward_low_FN_rate")]
        assert got == pytest.approx(values, abs=0.05)


@pytest.mark.slow
def test_bench_nab_threshold_full_corpus_under_five_minutes(nab_dir, tmp_path):
    started = time.perf_counter()
    result = CliRunner().invoke(cli, ["bench", "nab", "--detector", "threshold", "--out",
                                      str(tmp_path / "res"), "--json",
                                      str(tmp_path / "thr.json"), "--no-progress"])
    elapsed = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    assert elapsed < 300, f"bench nab --detector threshold took {elapsed:.0f} s"
    assert len(list((tmp_path / "res" / "threshold").glob("*/*.csv"))) == 58
    scores = json.loads((tmp_path / "thr.json").read_text())["threshold"]
    assert all(0 < value < 100 for value in scores.values())


def test_bench_smd_tune_split_chooses_its_machines():
    result = CliRunner().invoke(cli, ["bench", "smd", "--split", "tune", "--machine",
                                      "machine-1-7"])
    assert result.exit_code == 1 and "leave out --machine" in result.output
