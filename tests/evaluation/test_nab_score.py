"""The NAB scorer: each rule on tiny hand-made cases, and NAB's published numbers.

Expected values are written with ``tanh``: NAB's ``2 sigmoid(-5 y) - 1`` equals
``tanh(-5 y / 2)``, so the hand computations do not reuse the code under test.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from kizashi.evaluation.nab import (
    NAB_PROFILES,
    NabFileLayout,
    NabScorer,
    probationary_length,
    scaled_sigmoid,
)

STANDARD = NAB_PROFILES["standard"]
A_FP = STANDARD.fp_weight


def S(y: float) -> float:
    return -1.0 if y > 3 else math.tanh(-2.5 * y)


def tp_earning(row: int, start: int, end: int) -> float:
    return S(-(end - row + 1) / (end - start + 1)) / S(-1.0)


def series(n: int = 100, windows=(), name: str = "t/a.csv"):
    stamps = np.datetime64("2024-01-01T00:00", "ns") + np.arange(n) * np.timedelta64(5, "m")
    return SimpleNamespace(name=name, timestamps=stamps,
                           windows=[(stamps[a], stamps[b]) for a, b in windows])


def raw_at(corpus, scores, threshold=0.5, profile="standard"):
    scorer = NabScorer(corpus)
    return sum(scorer.score_file(name, s, threshold, profile).score for name, s in scores.items())


def spikes(n: int, rows) -> np.ndarray:
    out = np.zeros(n)
    out[list(rows)] = 1.0
    return out


# ---------------------------------------------------------------- the pieces
def test_scaled_sigmoid_values():
    assert scaled_sigmoid([-1.0, -0.5, 0.0, 1.0]).round(5).tolist() == [
        0.98661, 0.84828, 0.0, -0.98661]
    assert scaled_sigmoid(3.0001) == -1.0 and scaled_sigmoid(10.0) == -1.0
    # NAB cuts off at y > 3: y = 3 itself still gives 2 sigmoid(-15) - 1.
    assert scaled_sigmoid(3.0) == pytest.approx(math.tanh(-7.5), abs=1e-15)
    assert scaled_sigmoid(3.0) > -1.0


def test_probationary_length():
    assert probationary_length(100) == 15
    assert probationary_length(4999) == 749
    assert probationary_length(5000) == 750
    assert probationary_length(22695) == 750
    assert probationary_length(0) == 0


# ------------------------------------------------------------- window rules
WINDOW = (40, 49)  # inclusive rows, width 10; probation is 15 rows of 100


def test_hit_at_window_start_earns_full_tp():
    corpus = [series(windows=[WINDOW])]
    assert raw_at(corpus, {"t/a.csv": spikes(100, [40])}) == pytest.approx(1.0, abs=1e-12)


def test_hit_at_window_end_earns_a_little():
    corpus = [series(windows=[WINDOW])]
    expected = math.tanh(0.25) / math.tanh(2.5)
    assert raw_at(corpus, {"t/a.csv": spikes(100, [49])}) == pytest.approx(expected, abs=1e-12)
    assert 0 < expected < 0.25


def test_two_hits_in_one_window_count_once_and_earliest():
    corpus = [series(windows=[WINDOW])]
    both = NabScorer(corpus).score_file("t/a.csv", spikes(100, [42, 45]), 0.5)
    first = NabScorer(corpus).score_file("t/a.csv", spikes(100, [42]), 0.5)
    assert both.score == pytest.approx(tp_earning(42, *WINDOW), abs=1e-12)
    assert both.score == first.score
    assert (both.tp, both.fn, both.fp) == (2, 8, 0)


def test_missed_window_costs_fn_weight():
    corpus = [series(windows=[WINDOW])]
    zero = {"t/a.csv": np.zeros(100)}
    assert raw_at(corpus, zero) == -1.0
    assert raw_at(corpus, zero, profile="reward_low_FN_rate") == -2.0


def test_false_positive_right_after_a_window_costs_almost_nothing():
    corpus = [series(windows=[WINDOW])]
    for row in (50, 60, 75, 76, 77, 90):
        y = (row - 49) / (10 - 1)
        got = raw_at(corpus, {"t/a.csv": spikes(100, [row])})
        assert got == pytest.approx(-1.0 + A_FP * S(y), abs=1e-12), row
    assert raw_at(corpus, {"t/a.csv": spikes(100, [50])}) > -1.0 - 0.03
    assert raw_at(corpus, {"t/a.csv": spikes(100, [77])}) == -1.0 - A_FP


def test_false_positive_before_first_window_costs_full_weight():
    corpus = [series(windows=[WINDOW])]
    assert raw_at(corpus, {"t/a.csv": spikes(100, [39])}) == pytest.approx(-1.0 - A_FP)


def test_false_positives_are_not_deduplicated():
    corpus = [series(windows=[WINDOW])]
    result = NabScorer(corpus).score_file("t/a.csv", spikes(100, [20, 21, 22]), 0.5)
    assert result.score == pytest.approx(-1.0 - 3 * A_FP)
    assert result.fp == 3


def test_only_the_most_recent_window_counts_for_false_positives():
    corpus = [series(windows=[(20, 29), (60, 64)])]
    y = (70 - 64) / (5 - 1)
    got = raw_at(corpus, {"t/a.csv": spikes(100, [70])})
    assert got == pytest.approx(-2.0 + A_FP * S(y), abs=1e-12)


def test_probationary_rows_are_never_scored():
    corpus = [series(windows=[WINDOW])]
    result = NabScorer(corpus).score_file("t/a.csv", spikes(100, [0, 5, 14]), 0.5)
    assert result.score == -1.0
    assert (result.fp, result.total) == (0, 85)


def test_window_starting_inside_probation_keeps_its_width():
    corpus = [series(windows=[(10, 19)])]
    got = raw_at(corpus, {"t/a.csv": spikes(100, [15])})
    assert got == pytest.approx(math.tanh(1.25) / math.tanh(2.5), abs=1e-12)


def test_window_wholly_inside_probation_is_not_scored():
    corpus = [series(windows=[(2, 5)])]
    result = NabScorer(corpus).score({"t/a.csv": np.zeros(100)})["standard"]
    assert result.raw_score == 0.0


def test_one_row_window_false_positive_costs_full_weight():
    corpus = [series(windows=[(40, 40)])]
    assert raw_at(corpus, {"t/a.csv": spikes(100, [40, 41])}) == pytest.approx(1.0 - A_FP)


def test_series_without_windows():
    corpus = [series(windows=[WINDOW]), series(name="t/empty.csv")]
    scores = {"t/a.csv": spikes(100, [40]), "t/empty.csv": spikes(100, [20, 80])}
    result = NabScorer(corpus).score(scores)["standard"]
    files = {f.name: f for f in result.files}
    assert files["t/empty.csv"].score == pytest.approx(-2 * A_FP)
    assert result.raw_score == pytest.approx(1.0 - 2 * A_FP)
    assert result.perfect_score == 1.0 and result.null_score == -1.0


def test_empty_series_scores_nothing():
    corpus = [series(windows=[WINDOW]), series(n=0, name="t/none.csv")]
    result = NabScorer(corpus).score({"t/a.csv": spikes(100, [40]), "t/none.csv": []})
    files = {f.name: f for f in result["standard"].files}
    assert files["t/none.csv"].score == 0.0 and files["t/none.csv"].total == 0


def test_nan_scores_are_never_detections():
    corpus = [series(windows=[WINDOW])]
    scores = spikes(100, [40])
    scores[20] = np.nan
    with pytest.warns(UserWarning, match="1 NaN anomaly scores"):
        result = NabScorer(corpus).score({"t/a.csv": scores})["standard"]
    assert result.raw_score == pytest.approx(1.0)


def test_empty_result_for_a_nonempty_file_is_an_error():
    corpus = [series(windows=[WINDOW])]
    with pytest.raises(ValueError, match=r"t/a.csv: 0 anomaly scores for 100 rows"):
        NabScorer(corpus).score({"t/a.csv": np.array([])})


def test_window_bound_missing_from_file_is_an_error():
    corpus = [series(windows=[WINDOW])]
    corpus[0].windows = [(corpus[0].windows[0][0] + np.timedelta64(1, "m"),
                          corpus[0].windows[0][1])]
    with pytest.raises(ValueError, match="t/a.csv: window start .* is not a timestamp"):
        NabScorer(corpus).score({"t/a.csv": np.zeros(100)})


def test_overlapping_windows_are_an_error():
    with pytest.raises(ValueError, match="overlaps"):
        NabFileLayout.build("x.csv", series().timestamps,
                            [(series().timestamps[a], series().timestamps[b])
                             for a, b in [(20, 30), (25, 35)]])


# --------------------------------------------------------- sweep, normalise
def test_sweep_prefers_the_higher_threshold_on_ties():
    corpus = [series(windows=[WINDOW])]
    scores = np.zeros(100)
    scores[40], scores[45] = 0.9, 0.5  # the later hit adds nothing
    result = NabScorer(corpus).score({"t/a.csv": scores})["standard"]
    assert result.threshold == 0.9
    assert result.raw_score == pytest.approx(1.0)


def test_sweep_is_one_threshold_for_the_whole_corpus():
    corpus = [series(windows=[WINDOW]), series(windows=[(60, 69)], name="t/b.csv")]
    a, b = np.zeros(100), np.zeros(100)
    a[40] = 0.9  # file a: a detection at 0.9
    b[60], b[20] = 0.4, 0.6  # file b: its hit needs 0.4, which lets an FP at 0.6 in
    result = NabScorer(corpus).score({"t/a.csv": a, "t/b.csv": b})["standard"]
    assert result.threshold == 0.4
    assert result.raw_score == pytest.approx(2.0 - A_FP)


def test_sweep_matches_brute_force_on_random_corpora():
    rng = np.random.default_rng(1)
    for trial in range(5):
        corpus, scores = [], {}
        for k in range(3):
            n = int(rng.integers(60, 200))
            starts = sorted(rng.choice(np.arange(20, n - 10, 12), size=2, replace=False))
            windows = [(s, min(s + int(rng.integers(1, 10)), n - 1)) for s in starts]
            corpus.append(series(n, windows, name=f"r/{k}.csv"))
            scores[f"r/{k}.csv"] = np.round(rng.random(n), 2)  # many ties
        scorer = NabScorer(corpus)
        for profile in NAB_PROFILES:
            sweep = scorer.sweep(scores, profile)
            for threshold, value in zip(sweep.thresholds, sweep.scores, strict=True):
                expected = raw_at(corpus, scores, threshold, profile)
                assert value == pytest.approx(expected, abs=1e-9), (trial, profile, threshold)
            scored = [v[probationary_length(len(v)):] for v in scores.values()]
            distinct = np.unique(np.concatenate(scored))[::-1]
            assert sweep.thresholds.tolist() == [1.1, *distinct.tolist()]


def test_null_and_perfect_normalise_to_0_and_100():
    corpus = [series(windows=[WINDOW]), series(windows=[(60, 69)], name="t/b.csv")]
    scorer = NabScorer(corpus)
    null = scorer.score({"t/a.csv": np.full(100, 0.5), "t/b.csv": np.full(100, 0.5)})
    perfect = scorer.score({"t/a.csv": spikes(100, [40]), "t/b.csv": spikes(100, [60])})
    for profile in NAB_PROFILES:
        assert null[profile].normalized == 0.0
        assert perfect[profile].normalized == pytest.approx(100.0)


# ---------------------------------------------- NAB's published numbers
EXPECTED = {
    "windowedGaussian": {"standard": 39.65, "reward_low_FP_rate": 20.87,
                         "reward_low_FN_rate": 47.41},
    "bayesChangePt": {"standard": 17.71, "reward_low_FP_rate": 5.13,
                      "reward_low_FN_rate": 32.26},
}


@pytest.fixture(scope="module")
def shipped_reports(nab_corpus, nab_shipped_results):
    scorer = NabScorer(nab_corpus)
    reports = {}
    for detector in EXPECTED:
        files = nab_shipped_results[detector]
        reports[detector] = scorer.score({k: f.scores for k, f in files.items()},
                                         timestamps={k: f.timestamps for k, f in files.items()})
    return scorer, reports


@pytest.mark.parametrize("detector", sorted(EXPECTED))
def test_reproduces_published_nab_scores(shipped_reports, detector):
    _, reports = shipped_reports
    for profile, expected in EXPECTED[detector].items():
        assert reports[detector][profile].normalized == pytest.approx(expected, abs=0.05)


def test_sweep_finds_the_documented_thresholds(shipped_reports):
    _, reports = shipped_reports
    wg, bcp = reports["windowedGaussian"], reports["bayesChangePt"]
    assert [wg[p].threshold for p in EXPECTED["windowedGaussian"]] == [1.0, 1.0, 1.0]
    assert wg["standard"].raw_score == pytest.approx(-24.0131054891, abs=1e-6)
    assert bcp["standard"].raw_score == pytest.approx(-74.9035, abs=1e-4)
    assert bcp["reward_low_FP_rate"].threshold == pytest.approx(0.99798, abs=1e-5)
    assert bcp["reward_low_FP_rate"].raw_score == pytest.approx(-104.09, abs=0.01)
    assert bcp["reward_low_FN_rate"].raw_score == pytest.approx(-119.7472, abs=1e-4)
    frame = wg["standard"].to_frame()
    assert frame["File"].iloc[-1] == "Totals" and len(frame) == 59
    assert frame["Score"].iloc[-1] == pytest.approx(wg["standard"].raw_score, abs=1e-9)
    assert frame[["TP", "FP"]].iloc[-1].tolist() == [521, 409]  # the shipped Totals row
    for report in (wg, bcp):
        assert [report[p].null_score for p in EXPECTED["bayesChangePt"]] == [-116, -116, -232]
        assert all(report[p].perfect_score == 116 for p in report)


@pytest.mark.parametrize("detector", sorted(EXPECTED))
@pytest.mark.parametrize("profile", ["standard", "reward_low_FP_rate", "reward_low_FN_rate"])
def test_per_file_scores_and_counts_match_summaries(shipped_reports, nab_root,
                                                    nab_shipped_results, detector, profile):
    scorer, _ = shipped_reports
    summary = pd.read_csv(nab_root / "results" / detector / f"{detector}_{profile}_scores.csv")
    totals = summary[summary["Detector"] == "Totals"].iloc[0]
    summary = summary[summary["Detector"] != "Totals"]
    assert len(summary) == 58
    files = nab_shipped_results[detector]
    total = 0.0
    for row in summary.itertuples():
        result = files[row.File]
        mine = scorer.score_file(row.File, result.scores, row.Threshold, profile,
                                 timestamps=result.timestamps)
        assert mine.score == pytest.approx(row.Score, abs=1e-8), row.File
        assert (mine.tp, mine.tn, mine.fp, mine.fn) == (row.TP, row.TN, row.FP, row.FN), row.File
        # Old summaries count the whole file; NAB's current code only scored rows.
        layout = scorer.layout(row.File, result.timestamps)
        assert row.Total_Count == layout.n_rows
        assert mine.total == layout.n_rows - layout.probation
        total += mine.score
    assert total == pytest.approx(totals.Score, abs=1e-6)


def test_old_format_row_scores_sum_to_file_scores(nab_root):
    """The shipped S(t) columns (pre-2019 format) sum to each file's score."""
    summary = pd.read_csv(nab_root / "results" / "windowedGaussian" /
                          "windowedGaussian_standard_scores.csv")
    row = summary[summary["File"] == "realKnownCause/nyc_taxi.csv"].iloc[0]
    frame = pd.read_csv(nab_root / "results" / "windowedGaussian" / "realKnownCause" /
                        "windowedGaussian_nyc_taxi.csv.gz")
    assert frame["S(t)_standard"].sum() == pytest.approx(row.Score, abs=1e-9)
