"""The default ensemble detector: calibrated members, range rule, fitted reference."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import DEFAULT_DETECTOR, create

SMALL = {"window": 50, "learning_period": 50, "estimation_samples": 50, "hold": 1}
# the centre's floor under the threshold likelihood and its four-week window off: the
# tests that derive a level from the members' likelihoods by hand
PLAIN = {"likelihood_min_std": None, "long_window": None}


def noisy(n: int, k: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.sin(np.arange(n)[:, None] / 15.0 + np.arange(k)) + rng.normal(0, 0.2, (n, k))


def test_scores_are_calibrated_levels_in_the_unit_interval():
    scores = create("ensemble", **SMALL).score(noisy(1500, 3))
    assert scores.shape == (1500,)
    assert np.nanmin(scores) >= 0.0 and np.nanmax(scores) <= 1.0


def test_nothing_speaks_while_the_likelihoods_learn():
    detector = create("ensemble", **SMALL)
    values = noisy(400)
    values[70, 0] = 50.0   # far outside, but the series is young: its range still grows
    values[150, 0] = 80.0  # after the likelihoods' 50 + 50 steps: the range rule
    scores = detector.score(values)
    assert detector.n_warmup == 30
    assert (scores[:100] == 0).all() and scores[150] == 1.0


def test_a_value_beyond_the_range_scores_one_and_the_rule_can_be_turned_off():
    values = noisy(1000)
    values[900, 0] = 10.0
    assert create("ensemble", **SMALL).score(values)[900] == 1.0
    assert create("ensemble", **SMALL, tolerance=None).score(values)[900] < 1.0


def test_the_mean_across_metrics_never_exceeds_the_max():
    values = noisy(1200, 4)
    values[1000:1010, 2] += 6.0
    high = create("ensemble", **SMALL, across="max").score(values)
    low = create("ensemble", **SMALL, across="mean").score(values)
    assert np.all(low <= high + 1e-12)
    assert high[1000:1012].max() >= 0.5


def test_a_fitted_entity_of_several_metrics_is_judged_by_its_fixed_reference():
    from kizashi.detectors.ensemble import reference_level
    from kizashi.detectors.multivariate.reference import ReferenceDetector

    train, test = noisy(800, 3, seed=1), noisy(600, 3, seed=2)
    test[300:500, 1] += 2.0  # a long shift, inside the range seen so far
    fitted = create("ensemble", reference_window=10, reference_spread="fit", **SMALL).fit(train)
    assert fitted.state_["trained"]
    reference = ReferenceDetector(window=10).fit(train)
    raw_train = reference.update_many(train)  # its windows then continue into the test rows
    z = (reference.score(test) - raw_train.mean()) / raw_train.std()
    np.testing.assert_allclose(fitted.score(test), reference_level(z), rtol=1e-9)
    assert (fitted.score(test)[300:500] > 0.5).mean() > 0.9  # held through the shift


def test_reference_level_is_continuous_and_increasing():
    from kizashi.detectors.ensemble import Z_RED, reference_level

    z = np.linspace(-3, 40, 5000)
    level = reference_level(z)
    assert np.all(np.diff(level[z > 0]) > 0) and level.max() < 1.0
    left, right = reference_level(np.array([Z_RED - 1e-9, Z_RED + 1e-9]))
    assert abs(left - right) < 1e-4 and abs(left - 0.5) < 1e-3


def test_an_unfitted_entity_uses_its_metrics():
    values = noisy(1200, 3)
    detector = create("ensemble", **SMALL)
    detector.score(values)
    assert not create("ensemble", **SMALL).fit(values[:, :1]).state_["trained"]


def test_explain_attributes_to_the_metric_that_moved():
    values = noisy(1200, 3)
    values[1100:1110, 2] += 8.0
    out = create("ensemble", **SMALL).explain(values)
    assert np.argmax(np.nanmean(out.attribution[1100:1110], axis=0)) == 2


def test_hold_keeps_a_single_odd_step_from_counting():
    values = noisy(1000)
    values[900, 0] = 10.0                      # one step beyond the range
    values[950:953, 0] = 10.0                  # three steps
    params = dict(SMALL, hold=3)
    held = create("ensemble", **params).score(values)
    single = create("ensemble", **SMALL).score(values)
    assert single[900] == 1.0 and held[900] < 0.5
    window = np.lib.stride_tricks.sliding_window_view(single, 3).min(axis=1)
    np.testing.assert_allclose(held[2:], window)  # the smallest of the last three levels


def test_it_is_the_default_detector():
    assert DEFAULT_DETECTOR == "ensemble"


@pytest.mark.parametrize("bad", [{"across": "median"}, {"context_weight": -1.0},
                                 {"context_weight": float("nan")}, {"hold": 0},
                                 {"discord_weight": -1.0}, {"rest": -1}, {"rest": 1.5},
                                 {"threshold_weight": -0.5},
                                 {"threshold_weight": float("inf")},
                                 {"rest_tail": 0.0}, {"rest_tail": 1.0},
                                 {"pattern_two_sided": "no"}, {"pattern_two_sided": 1},
                                 {"pattern_two_sided": None}])
def test_bad_parameters_are_refused(bad):
    with pytest.raises(ValueError, match="ensemble"):
        create("ensemble", **bad).score(np.zeros(5))


@pytest.mark.parametrize("compress", [False, True])
def test_one_metric_is_its_threshold_calibrated_by_a_likelihood(compress):
    from kizashi.decision.likelihood import AnomalyLikelihood
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    values = noisy(700)[:, 0]
    values[600:620] += 2.0
    z = RollingSigmaThreshold(window=50, min_periods=30).score(values)
    z[:30] = np.nan  # its warm-up
    raw = np.log1p(z) if compress else z
    # the ensemble's likelihood_min_std (0.5) floors the likelihood's variance at 0.25
    expected = AnomalyLikelihood(learning_period=50, estimation_samples=50,
                                 suppress_red_zone=False, min_variance=0.25).transform(raw)
    got = create("ensemble", **SMALL, tolerance=None, compress=compress,
                 discord_weight=0.0, long_window=None).score(values)
    np.testing.assert_allclose(got, np.nan_to_num(expected, nan=0.0), rtol=1e-9, atol=1e-12)


def test_the_fitted_reference_judges_windows_of_rows():
    # Two metrics in opposite phase: (5, 3), (3, 5), ... Each row on its own lies on the
    # training rows' one axis (1, -1) and has no residual, so a row that breaks the
    # alternation (the same row twice) looks like every other. A window of rows is off
    # the training windows' axis there: the break scores above the rows before it.
    train = np.tile([[5.0, 3.0], [3.0, 5.0]], (300, 1))
    stream = np.array([[5.0, 3.0], [3.0, 5.0], [5.0, 3.0], [5.0, 3.0]])  # row 3 breaks
    windowed = create("ensemble", reference_window=10, **SMALL).fit(train).score(stream)
    assert windowed[3] > windowed[:3].max()
    single = create("ensemble", reference_window=1, **SMALL).fit(train).score(stream)
    np.testing.assert_allclose(single, single[0])


def test_through_the_engine_a_fitted_reference_sees_every_row():
    # A fitted reference learns nothing while scoring, so the engine must not hold rows
    # back from it during an alert: its windows would otherwise skip the alert's rows.
    from kizashi.engine.decider import Decider
    from kizashi.engine.stream import DetectorStream

    train, test = noisy(800, 3, seed=1), noisy(600, 3, seed=2)
    test[300:400] += 3.0  # alerts for 100 rows
    fitted = create("ensemble", **SMALL).fit(train)
    assert not fitted.protect_baseline and create("ensemble").protect_baseline
    expected = fitted.score(test)
    assert (expected[300:400] > 0.5).all()
    streamed = DetectorStream(fitted, Decider.for_detector(fitted)).process(test).scores
    np.testing.assert_allclose(streamed[:, 0], expected, rtol=1e-12)


def test_sparse_restarts_page_only_in_bursts():
    # a daemon restarting about twice a day (5-minute steps): each lone restart is a huge
    # z-score; judged as counts, lone restarts stay quiet and a loop of them pages
    rng = np.random.default_rng(3)
    restarts = (rng.random(6000) < 1 / 144).astype(float)
    restarts[5000:5040] = rng.integers(1, 4, 40)
    cpu = 50 + rng.normal(0, 2, 6000)
    values = np.column_stack([cpu, restarts])
    counted = create("ensemble").score(values)  # the default hold of 3 steps
    assert counted[1000:5000].max() < 0.5
    assert counted[5000:5005].max() >= 0.5
    # the plain Gaussian path (no count model, no floor under its spread, one window)
    gaussian = create("ensemble", counts=False, likelihood_min_std=None,
                      long_window=None).score(values)
    assert (gaussian[1000:5000] >= 0.5).sum() > 0


@pytest.mark.parametrize("seed", range(3))
def test_a_huge_incident_does_not_blind_the_series_for_a_month(seed):
    # a hang of 200x the usual value for six steps, learned (nothing protects it here),
    # then, once the rolling window has forgotten it, a plain 8-sigma shift
    rng = np.random.default_rng(seed)
    values = 10 + rng.normal(0, 1, (6000, 1))
    values[2000:2006] *= 200.0
    values[4500:4530] += 8.0
    capped = create("ensemble", hold=1).score(values)
    assert capped[4500:4530].max() >= 0.5
    raw = create("ensemble", hold=1, z_cap=None).score(values)
    assert raw[4500:4530].max() < 0.5


@pytest.mark.slow
def test_the_working_day_after_a_holiday_is_not_an_incident():
    # a rolling window shorter than the week ends up holding only the long weekend, so
    # on the next working day every node's ordinary load looks like a departure
    from kizashi.data.centre import STEPS_PER_DAY, generate_centre
    from kizashi.engine.batch import score_frame

    paged = {2016: 0, 1000: 0}
    for seed in (101, 103, 105):  # seeds whose holiday falls early in a working week
        scenario = generate_centre(n_nodes=8, weeks=5, seed=seed, incidents=False)
        after = [h + 1 for h in scenario.holidays]
        for window in paged:
            flags = np.asarray(score_frame(scenario.frame, "ensemble",
                                           {"window": window, "likelihood_min_std": None,
                                            "long_window": None}).flags, dtype=bool)
            day = np.arange(flags.shape[0]) // STEPS_PER_DAY
            paged[window] += int(flags[np.isin(day, after)].any(axis=0).sum())
    assert create("ensemble").get_params()["window"] == 2016
    assert paged[2016] < paged[1000]
    assert paged[2016] <= 3  # of 27 nodes-and-queue days


def test_a_state_saved_before_the_count_tail_existed_still_scores():
    values = noisy(400, 2)
    values[:, 1] = (np.random.default_rng(5).random(400) < 0.01)  # sparse counts
    detector = create("ensemble", **SMALL)
    detector.update_many(values[:300])
    del detector.state_["counts"]
    scores = detector.score(values[300:])
    fresh = create("ensemble", **SMALL)
    fresh.update_many(values[:300])
    assert scores.shape == (100,) and np.isfinite(scores).all()
    assert "counts" in fresh.state_ and not detector.state_.get("trained")


def test_one_metric_is_the_larger_of_its_calibrated_threshold_and_discord():
    from kizashi.decision.likelihood import AnomalyLikelihood
    from kizashi.detectors.pattern.discord import DiscordDetector
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    values = noisy(700)[:, 0]
    values[600:640] = 0.0  # a flat stretch: values within the usual range, a new shape
    likelihood = {"learning_period": 50, "estimation_samples": 50, "suppress_red_zone": False}
    levels = []
    for member in (RollingSigmaThreshold(window=50, min_periods=30),
                   DiscordDetector(window=16, history=300)):
        raw = member.score(values)
        raw[:max(30, member.n_warmup)] = np.nan  # the ensemble's warm-ups
        levels.append(np.nan_to_num(AnomalyLikelihood(**likelihood).transform(raw), nan=0.0))
    expected = np.maximum(*levels)
    got = create("ensemble", **SMALL, tolerance=None, discord_window=16,
                 discord_history=300, discord_weight=1.0, likelihood_min_std=None,
                 long_window=None).score(values)
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)
    assert levels[1][600:640].max() > levels[0][600:640].max()  # the shape, not the values


def test_rest_silences_alerts_after_the_one_kept():
    values = noisy(1100)
    values[900, 0] = 10.0   # beyond the range: 1.0
    values[905, 0] = 20.0   # beyond it again, 5 steps later: silenced by a rest of 10
    values[1000, 0] = 40.0  # 100 steps later: kept
    params = dict(SMALL, **PLAIN, discord_weight=0.0, alert_tail=1e-5)  # alerts at 0.5
    plain = create("ensemble", **params).score(values)
    rested = create("ensemble", **params, rest=10).score(values)
    assert plain[[900, 905, 1000]].tolist() == [1.0, 1.0, 1.0]
    assert rested[[900, 905, 1000]].tolist() == [1.0, 0.0, 1.0]
    # the rule, row by row: an alert (>= 0.5) within 10 rows of the last kept one is 0
    expected, last = plain.copy(), -100
    for row in range(len(plain)):
        if plain[row] >= 0.5:
            if row - last <= 10:
                expected[row] = 0.0
            else:
                last = row
    np.testing.assert_array_equal(rested, expected)
    # the same through streaming, one step at a time (the rest carries over)
    detector = create("ensemble", **params, rest=10)
    streamed = [detector.update(row) for row in values]
    np.testing.assert_allclose(np.ravel(streamed), rested)


@pytest.mark.parametrize(("tail", "level"), [(1e-5, 0.5), (1e-6, 0.6), (1e-8, 0.8)])
def test_the_alert_line_is_the_log_scale_of_its_tail(tail, level):
    # Numenta's log scale: log(q) / log(1e-10), so a tail of 10^-k sits at k / 10
    # (up to the scale's 1e-10 offset)
    assert create("ensemble", alert_tail=tail).default_threshold == pytest.approx(level, abs=1e-3)


@pytest.mark.parametrize("tail", [0.0, 1.0, -1e-6])
def test_an_alert_tail_outside_zero_and_one_is_refused(tail):
    with pytest.raises(ValueError, match="alert_tail"):
        assert create("ensemble", alert_tail=tail).default_threshold


@pytest.mark.parametrize("weight", [0.0, 0.5, 0.85, 1.0])
def test_the_threshold_member_is_weighted(weight):
    from kizashi.decision.likelihood import AnomalyLikelihood
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    values = noisy(700)[:, 0]
    values[600:620] += 2.0
    z = RollingSigmaThreshold(window=50, min_periods=30).score(values)
    z[:30] = np.nan  # its warm-up
    expected = AnomalyLikelihood(learning_period=50, estimation_samples=50,
                                 suppress_red_zone=False).transform(z)
    got = create("ensemble", **SMALL, tolerance=None, discord_weight=0.0,
                 threshold_weight=weight, **PLAIN).score(values)
    np.testing.assert_allclose(got, weight * np.nan_to_num(expected, nan=0.0), rtol=1e-9,
                               atol=1e-12)
    if weight == 1.0:  # the default leaves the level as it is
        np.testing.assert_array_equal(got, create("ensemble", **SMALL, tolerance=None,
                                                  discord_weight=0.0, **PLAIN).score(values))


@pytest.mark.parametrize(("rest_tail", "line"), [(None, 0.5), (1e-4, 0.4), (1e-3, 0.3)])
def test_a_rest_starts_at_its_own_tail(rest_tail, line):
    values = noisy(1500, seed=3)
    values[900:930, 0] += 0.7  # a shift inside the range...
    values[935, 0] = 10.0      # ...then a value beyond it (1.0), and levels easing off after
    values[1200, 0] = 20.0     # beyond the range again, long after
    params = dict(SMALL, **PLAIN, discord_weight=0.0, alert_tail=1e-5)  # alerts at 0.5
    plain = create("ensemble", **params).score(values)
    rested = create("ensemble", **params, rest=40, rest_tail=rest_tail).score(values)
    # the rule, row by row: a level at or above the rest line (Numenta's log scale of the
    # tail, 10^-k at k / 10, up to its 1e-10 offset) within 40 rows of the last kept one is 0
    expected, last = plain.copy(), -100
    for row in range(len(plain)):
        if plain[row] >= line - 1e-6:
            if row - last <= 40:
                expected[row] = 0.0
            else:
                last = row
    np.testing.assert_array_equal(rested, expected)
    assert rested[935] == 1.0 and rested[1200] == 1.0
    # the levels easing off after 935 cross the rest line more than once: only the first row
    # at or above it stays
    assert ((plain[936:976] >= line - 1e-6) & (plain[936:976] > 0)).sum() >= 1
    assert (rested[936:976] < line - 1e-6).all()
    streamed = create("ensemble", **params, rest=40, rest_tail=rest_tail)
    np.testing.assert_allclose(np.ravel([streamed.update(row) for row in values]), rested)


@pytest.mark.parametrize("averaging", [None, 5, 30])
def test_the_discord_member_may_average_its_own_number_of_scores(averaging):
    from kizashi.decision.likelihood import AnomalyLikelihood
    from kizashi.detectors.pattern.discord import DiscordDetector
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    values = noisy(700)[:, 0]
    values[600:640] = 0.0  # a new shape within the usual range
    likelihood = {"learning_period": 50, "estimation_samples": 50, "suppress_red_zone": False}
    levels = []
    for member, window in ((RollingSigmaThreshold(window=50, min_periods=30), 10),
                           (DiscordDetector(window=16, history=300), averaging or 10)):
        raw = member.score(values)
        raw[:max(30, member.n_warmup)] = np.nan  # the ensemble's warm-ups
        levels.append(np.nan_to_num(AnomalyLikelihood(averaging_window=window, **likelihood)
                                    .transform(raw), nan=0.0))
    got = create("ensemble", **SMALL, tolerance=None, discord_window=16, discord_history=300,
                 discord_weight=1.0, discord_averaging_window=averaging, **PLAIN).score(values)
    np.testing.assert_allclose(got, np.maximum(*levels), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize(("combine", "power"), [("mean", 0.7), ("max", 0.7), ("mean", 1.0),
                                               ("mean", 0.4), ("max", 2.0)])
def test_several_reference_windows_are_combined_as_standardised_scores(combine, power):
    # Each window's reference is fitted on its own; the entity's level is that of the mean
    # (or max) of their raw scores (the generalised mean of exponent ``reference_power``
    # over metrics; 1: the plain mean) standardised over the training rows.
    from kizashi.detectors.ensemble import reference_level
    from kizashi.detectors.multivariate.reference import ReferenceDetector

    train, test = noisy(800, 3, seed=1), noisy(600, 3, seed=2)
    test[300:500, 1] += 2.0
    fitted = create("ensemble", reference_window="1, 4", reference_combine=combine,
                    reference_power=power, reference_spread="fit", **SMALL).fit(train)
    z = []
    aggregate = "mean" if power == 1.0 else "power"
    for width in (1, 4):
        reference = ReferenceDetector(window=width, aggregate=aggregate, power=power).fit(train)
        raw_train = reference.update_many(train)
        z.append((reference.score(test) - raw_train.mean()) / raw_train.std())
    combined = np.mean(z, axis=0) if combine == "mean" else np.max(z, axis=0)
    np.testing.assert_allclose(fitted.score(test), reference_level(combined), rtol=1e-9)


def test_reference_power_of_one_scores_by_the_plain_mean_of_the_residuals():
    # the exponent 1 is the mean: the level of the mean residual's z over the training rows
    from kizashi.detectors.ensemble import reference_level
    from kizashi.detectors.multivariate.reference import ReferenceDetector

    train, test = noisy(700, 4, seed=11), noisy(300, 4, seed=12)
    test[100:200, 2] += 2.5
    reference = ReferenceDetector(window=1, aggregate="mean").fit(train)
    raw_train = reference.update_many(train)
    z = (reference.score(test) - raw_train.mean()) / raw_train.std()
    got = create("ensemble", reference_window=1, reference_power=1.0, reference_spread="fit",
                 **SMALL).fit(train)
    np.testing.assert_allclose(got.score(test), reference_level(z), rtol=1e-9)


def test_a_saved_reference_without_a_power_is_scored_by_the_mean():
    # a model fitted before reference_power existed holds no "power": its raw spread was
    # measured on the mean, so it keeps being scored by the mean
    train, test = noisy(600, 3, seed=13), noisy(200, 3, seed=14)
    test[50:120, 0] += 3.0
    mean = create("ensemble", reference_window=(1, 3), reference_power=1.0, **SMALL).fit(train)
    expected = mean.score(test)
    old = create("ensemble", reference_window=(1, 3), reference_power=1.0, **SMALL).fit(train)
    for fixed in (old.state_["reference"], *old.state_["reference"]["also"]):
        del fixed["power"]
    old.reference_power = 0.7  # the loaded detector's parameter does not matter
    np.testing.assert_array_equal(old.score(test), expected)


@pytest.mark.parametrize("windows", [(1,), (1, 4)])
def test_a_held_out_spread_standardises_by_each_half_scored_by_the_other(windows):
    # reference_spread="held_out": a window's mean and spread come from the first half of the
    # training rows scored by a reference fitted on the second half, and the second half by
    # one fitted on the first; the test rows are still scored by the reference of them all
    from kizashi.detectors.ensemble import reference_level
    from kizashi.detectors.multivariate.reference import ReferenceDetector

    train, test = noisy(801, 3, seed=21), noisy(400, 3, seed=22)
    test[150:300, 2] += 2.0
    half = 400
    z = []
    for width in windows:
        first, second = train[:half], train[half:]
        held = np.concatenate([ReferenceDetector(window=width).fit(second).score(first),
                               ReferenceDetector(window=width).fit(first).score(second)])
        whole = ReferenceDetector(window=width).fit(train)
        whole.update_many(train)  # its windows continue into the test rows
        z.append((whole.score(test) - held.mean()) / held.std())
    fitted = create("ensemble", reference_window=windows, **SMALL).fit(train)  # the default
    np.testing.assert_allclose(fitted.score(test), reference_level(np.mean(z, axis=0)),
                               rtol=1e-9)


def test_a_held_out_spread_needs_two_rows_in_each_half_else_it_is_the_fit_spread():
    train, test = noisy(3, 3, seed=23), noisy(50, 3, seed=24)  # halves of 1 and 2 rows
    held = create("ensemble", reference_window=1, reference_spread="held_out", **SMALL)
    plain = create("ensemble", reference_window=1, reference_spread="fit", **SMALL)
    np.testing.assert_array_equal(held.fit(train).score(test), plain.fit(train).score(test))


def test_reference_windows_given_as_text_a_tuple_or_one_number_agree():
    train, test = noisy(600, 3, seed=3), noisy(300, 3, seed=4)
    test[100:150, 0] += 3.0
    as_text = create("ensemble", reference_window="2,5", **SMALL).fit(train).score(test)
    as_tuple = create("ensemble", reference_window=(2, 5), **SMALL).fit(train).score(test)
    np.testing.assert_array_equal(as_text, as_tuple)
    one = create("ensemble", reference_window="5", **SMALL).fit(train).score(test)
    np.testing.assert_array_equal(one, create("ensemble", reference_window=5, **SMALL)
                                  .fit(train).score(test))


def test_several_reference_windows_survive_a_json_round_trip_mid_stream():
    import json

    from kizashi.state import from_json_safe, to_json_safe

    train, test = noisy(600, 3, seed=5), noisy(400, 3, seed=6)
    test[250:300, 2] += 3.0
    whole = create("ensemble", reference_window=(1, 3), **SMALL).fit(train).score(test)
    first = create("ensemble", reference_window=(1, 3), **SMALL).fit(train)
    head = first.update_many(test[:200])  # moves the stream on
    text = json.dumps(to_json_safe(first.state_dict()))
    resumed = create("ensemble", reference_window=(1, 3), **SMALL)
    resumed.load_state_dict(from_json_safe(json.loads(text)))
    np.testing.assert_allclose(np.concatenate([head, resumed.score(test[200:])]), whole,
                               rtol=1e-12)


@pytest.mark.parametrize("bad", [{"reference_window": 0}, {"reference_window": "1,x"},
                                 {"reference_window": 2.5}, {"reference_window": True},
                                 {"reference_window": ""}, {"reference_window": "1,,10"},
                                 {"reference_window": ()}, {"reference_window": "1,-3"},
                                 {"reference_window": float("nan")},
                                 {"reference_combine": "median"},
                                 {"reference_power": 0}, {"reference_power": -0.5},
                                 {"reference_power": "x"}, {"reference_power": True},
                                 {"reference_power": float("nan")},
                                 {"reference_power": float("inf")},
                                 {"reference_spread": "median"}, {"reference_spread": None}])
def test_bad_reference_windows_are_refused(bad):
    with pytest.raises(ValueError, match="ensemble: reference_"):
        create("ensemble", **SMALL, **bad).fit(noisy(200, 3))


def _familiar_stretch() -> np.ndarray:
    """A noisy sine whose rows 600-700 repeat rows 300-400 exactly: a stretch far *more*
    familiar than usual (each window has an identical past window: discord distance 0)."""
    values = noisy(900)[:, 0]
    values[600:700] = values[300:400]
    return values


def test_one_sided_pattern_members_do_not_flag_a_more_familiar_pattern():
    # With the threshold member weighted 0 and the range rule off, the level is the discord
    # member's. An average under the fitted mean has a one-sided Gaussian tail of at least
    # 1/2, whose log-scale level is log(1/2) / log(1e-10) = 0.0301 at most; the two-sided
    # test mirrors it above the mean, where a run of zero distances is far out (a tail
    # under 1e-2 at least, level 0.2).
    params = dict(SMALL, **PLAIN, tolerance=None, threshold_weight=0.0, discord_window=16,
                  discord_history=400, discord_weight=1.0)
    values = _familiar_stretch()
    two = create("ensemble", **params).score(values)
    one = create("ensemble", **params, pattern_two_sided=False).score(values)
    assert two[620:700].max() > 0.2           # Numenta's two-sided test: well out
    assert one[620:700].max() <= np.log(0.5) / np.log(1e-10) + 1e-9
    # where an average is above the mean (a one-sided level over 0.0301) the mirror does
    # nothing: both tests give the same tail
    above = one > 0.0302
    assert above.sum() > 50
    np.testing.assert_allclose(one[above], two[above], rtol=1e-9)


@pytest.mark.parametrize("two_sided", [True, False])
def test_pattern_two_sided_applies_to_the_pattern_members_only(two_sided):
    from kizashi.decision.likelihood import AnomalyLikelihood
    from kizashi.detectors.pattern.context import ContextDetector
    from kizashi.detectors.pattern.discord import DiscordDetector
    from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold

    values = _familiar_stretch()
    values[800:810] = 0.0  # a flat stretch: a new shape within the usual range
    likelihood = {"learning_period": 50, "estimation_samples": 50, "suppress_red_zone": False}
    members = ((RollingSigmaThreshold(window=50, min_periods=30), True, 0.85, 30),
               (ContextDetector(levels=16, max_order=3, min_periods=0), two_sided, 0.95, 30),
               (DiscordDetector(window=16, history=400), two_sided, 1.0, 31))
    levels = []
    for member, sided, weight, warmup in members:
        raw = member.score(values)
        raw[:warmup] = np.nan  # the ensemble's warm-ups (the discord member's: 16 + 15)
        level = AnomalyLikelihood(two_sided=sided, **likelihood).transform(raw)
        levels.append(weight * np.nan_to_num(level, nan=0.0))
    got = create("ensemble", **SMALL, **PLAIN, tolerance=None, discord_window=16,
                 discord_history=400, discord_weight=1.0, context_weight=0.95,
                 threshold_weight=0.85, pattern_two_sided=two_sided).score(values)
    np.testing.assert_allclose(got, np.max(levels, axis=0), rtol=1e-9, atol=1e-12)
