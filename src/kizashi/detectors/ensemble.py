"""The default detector: calibrated members, per metric and per entity, in one score."""

from __future__ import annotations

import math
from typing import Any, Self

import numpy as np

from kizashi.decision.count_tail import CountTail
from kizashi.decision.likelihood import AnomalyLikelihood
from kizashi.detectors.base import Detector
from kizashi.detectors.multivariate.deviation_state import (
    deviation_shares,
    fit_deviation,
    history_of,
    remember_rows,
)
from kizashi.detectors.multivariate.reference import ReferenceDetector
from kizashi.detectors.pattern.context import ContextDetector
from kizashi.detectors.pattern.discord import DiscordDetector
from kizashi.detectors.threshold.day_profile import DayProfile
from kizashi.detectors.threshold.range_rule import RangeRule
from kizashi.detectors.threshold.rolling_sigma import RollingSigmaThreshold
from kizashi.detectors.threshold.steadiness import Steadiness
from kizashi.state import State

ACROSS = ("max", "mean")
#: How the standardised scores of several reference windows become one.
REFERENCE_COMBINE = ("mean", "max")
#: Which training rows' raw scores standardise a reference's (``reference_spread``).
REFERENCE_SPREAD = ("fit", "held_out")
#: The stream part's name for the fitted reference's last rows (see ``split_state_dict``).
RECENT = "reference_recent"


#: ``z`` of Numenta's red line: the Gaussian tail probability 1e-5.
Z_RED = 4.2649


def reference_level(z: np.ndarray) -> np.ndarray:
    """The level of a standardised reference score ``z``: Numenta's log-scale tail level up
    to the red line, then ``1 − 0.5 (z_red / z)²`` (still growing, never 1).

    >>> [round(float(v), 3) for v in reference_level(np.array([0.0, Z_RED, 2 * Z_RED, 1e6]))]
    [0.03, 0.5, 0.875, 1.0]
    """
    from scipy.special import erfc

    from kizashi.decision.likelihood import log_scale

    z = np.asarray(z, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        tail = 0.5 * erfc(np.minimum(z, Z_RED) / 1.4142)
        low = np.maximum(log_scale(1.0 - tail), 0.0)
        high = 1.0 - 0.5 * (Z_RED / np.maximum(z, Z_RED)) ** 2
    return np.where(np.isnan(z), np.nan, np.where(z > Z_RED, high, low))


class EnsembleDetector(Detector):
    """kizashi's default: a few calibrated detectors per metric, a fixed reference per entity.

    For each metric of an entity (vectorised over metrics):

    * ``threshold`` — rolling ``|x − mean| / σ`` over ``window`` values;
    * ``context`` — how new the pattern of the last quantised values is
      (:class:`~kizashi.detectors.pattern.context.ContextDetector`);
    * each of the two is **calibrated on its own** by Numenta's anomaly
      likelihood (:class:`~kizashi.decision.likelihood.AnomalyLikelihood`,
      with red-zone suppression), so the members' scores mean the same thing
      on every series (the tail probability of their recent average);
    * ``discord`` — how far the last ``discord_window`` values are from their
      nearest past stretch (:class:`~kizashi.detectors.pattern.discord.DiscordDetector`),
      calibrated by its own likelihood too;
    * the metric's level is ``max(threshold_weight · L_threshold, context_weight · L_context,
      discord_weight · L_discord)``, and 1 when the value leaves the range
      seen so far by more than ``tolerance`` of it (Numenta's range rule;
      ``tolerance=None`` turns it off).

    An entity's score is the ``across`` (max or mean) of its metrics' levels;
    with ``rest`` set, an entity's alert (a score at or above ``default_threshold``)
    silences the next ``rest`` steps (their scores become 0), as one detection
    per NAB window is all that counts.

    **An entity of several metrics fitted on training rows** (``fit``, with
    ``reference=True``) is judged as a whole instead: by a fixed reference of
    those rows (:class:`~kizashi.detectors.multivariate.reference.ReferenceDetector`,
    the mean PCA residual over metrics of windows of ``reference_window``
    rows, which never learns an incident as normal). Its raw score ``r`` is
    put on the same scale through the Gaussian of ``r`` over the training
    rows (``z = (r − mean) / sd``, each half of them scored by a reference of
    the other half: ``reference_spread``; with several windows, the mean of
    their ``z``): Numenta's log-scale tail level up to the
    red line (0.5 at ``z ≈ 4.26``),
    then ``1 − 0.5 · (z_red / z)²``, which keeps growing with ``z`` and never
    reaches 1, so a larger departure always ranks higher; the per-metric
    members are then not run, and :meth:`explain` attributes by each metric's
    deviation from its training rows, level and changes over trailing windows
    (:class:`~kizashi.detectors.multivariate.deviation.DeviationAttribution`).

    Every score is in [0, 1] on the likelihood's log scale, where 0.5 is
    Numenta's red line (a tail probability of 1e-5) and 0.6 a tail of 1e-6,
    this detector's ``default_threshold`` (``alert_tail``): its scores are
    already calibrated, so the engine takes them as they are. While the likelihoods learn
    (``learning_period + estimation_samples`` steps) every score is 0; the
    range rule waits as long (while a series is young its range grows all
    the time).

    A univariate series (a NAB file) is an entity of one metric. Hyper-parameters
    were chosen on the tuning splits of :mod:`kizashi.evaluation.splits` (NAB's
    tuning fold, SMD's tuning machines, the centre scenario's tuning seeds); see
    ``docs/benchmarks.md``.

    Parameters
    ----------
    window : int
        Values in the threshold member's rolling window: one week of 5-minute
        samples, so that it spans the weekly cycle (with a shorter window the
        first working day after a long weekend looks like an incident on every
        node). NAB's runner uses 1000 (chosen on NAB's tuning fold; its files
        are one to three weeks long).
    context_levels, context_order : int
        Bins of the value range and longest pattern of the context member.
    context_weight : float
        Weight of the context member's calibrated level (0 leaves it out).
    discord_window, discord_history : int
        Window length and past windows of the discord member.
    discord_weight : float
        Weight of the discord member's calibrated level (0, the default, leaves
        it out: it compares each step with ``discord_history`` windows, which
        is too dear for thousands of series; NAB's runner sets 1).
    tolerance : float or None
        Range rule: the fraction of the range a value must overshoot it by.
    across : {"max", "mean"}
        How an entity's metric levels become one score.
    reference : bool
        Judge a fitted entity of several metrics by its fixed reference.
    averaging_window, learning_period, estimation_samples : int
        The likelihood's (Numenta's ``averagingWindow``, ``learningPeriod``,
        ``estimationSamples``).
    suppress_red_zone : bool
        The likelihood's red-zone suppression (a sustained anomaly crosses the
        red line once, at its onset): off, so an alert holds for a whole
        incident; NAB's runner turns it on (as NAB's Numenta detector does).
    hold : int
        An entity's score from its metrics is the smallest of its last ``hold``
        steps' levels: a level must hold that long (15 minutes of 5-minute
        steps) before it counts, so one odd sample (a single daemon restart) does
        not page. NAB's runner sets 1 (its point-wise scoring rewards the first
        step). Not applied to a fitted reference, which does not flicker.
    rest : int
        Steps after an entity's alert whose scores are set to 0 (0: none).
        NAB's runner sets a fifth of the probationary period.
    rest_tail : float or None
        The tail probability at which a level starts a rest (and is silenced
        within one): ``None`` (the default) rests on alerts, ``alert_tail``.
        A larger tail (NAB's runner: 1e-4, level 0.4) also rests after a
        near-alert, so a departure is one row from the line upwards, not one
        row per step it stays above it.
    threshold_weight : float
        Weight of the threshold member's calibrated level (1, the default).
        NAB's runner sets 0.85: the pattern members (context, discord) then
        alert at a smaller tail than the threshold member does.
    discord_averaging_window : int or None
        The discord member's likelihood averages this many scores (``None``, the
        default: ``averaging_window``); NAB's runner sets 10: a new shape is
        brief, a departure of level lasts.
    reference_window : int, or several (``"1,5,20"`` or a tuple)
        Rows per window of the fitted reference's PCA (its ``window``; 1: each
        row on its own). With several, one reference per window, each raw score
        standardised over the training rows (``z``), and the entity's ``z`` is
        their ``reference_combine``: short windows see a row that is off,
        long ones a change in how the metrics move. ``(1, 5, 20)``, chosen on
        SMD's tuning machines under both protocols (``docs/benchmarks.md``;
        10 alone before).
    reference_combine : {"mean", "max"}
        How several windows' standardised scores become one (``mean``, chosen
        with the windows).
    reference_power : float
        Exponent ``p`` of the generalised mean ``(mean_f d_f^p)^(1/p)`` by which each
        reference aggregates its metrics' residuals ``d_f`` (1, the default: their
        mean; 2: their root mean square). Below 1 a row counts by how many metrics
        left the training rows' axes more than by the few that left them farthest.
        0.7 was best on SMD's tuning machines but lost on the reported ones, so the
        default stays 1 (``docs/benchmarks.md``).
    reference_spread : {"held_out", "fit"}
        Which raw scores of the training rows give each reference's mean and spread
        (the ``z`` of its score): ``"held_out"`` (the default), those of two references
        fitted on one half of the training rows each, scoring the other half; ``"fit"``
        (the default before), those of the reference fitted on them all. A reference
        scores the rows it was fitted on closer than new ones, a long window's more so
        (on SMD a 20-row window's training spread is a quarter of its held-out one), so
        with ``"fit"`` its ``z`` is inflated against a short window's and every ``z``
        against what new normal rows score. Chosen on SMD's tuning machines under both
        protocols (``docs/benchmarks.md``). Costs two more fits of half the rows; the
        test rows are scored by the reference of all of them either way.
    compress : bool
        Calibrate ``log(1 + z)`` of the threshold member instead of ``z``: one
        huge z-score (a single restart of a daemon that rarely restarts)
        weighs less in the likelihood's moving average.
    counts : bool
        Judge a **sparse count series** (every value so far a whole number ≥ 0,
        at least half of them 0: restarts, errors per step) by the tail of its
        recent count of events under a count model learned from its past
        (:class:`~kizashi.decision.count_tail.CountTail`) instead of the
        threshold member and the range rule: one restart of a daemon that
        restarts now and then is ordinary, a burst of them is not.
    z_cap : float or None
        The threshold member's z-scores are capped here before the likelihood
        sees them: a z of 50 is already far past the red line, and the first steps
        of a huge incident (a filesystem hang, 200× the usual latency), learned
        before protection starts, would otherwise swell the Gaussian the likelihood
        fits to a month of averages and blind the series for that month.
        ``None`` feeds the z-scores as they are.
    likelihood_min_std : float or None
        The smallest standard deviation the threshold member's likelihood may fit to
        its moving averages of z-scores (in z units; ``None``: Numenta's floor only).
        The likelihood's Gaussian tail is light; averaged z-scores of a series with
        multiplicative noise (a filesystem latency whose spread grows with the load)
        or ordinary level changes (a node's memory as jobs come and go) are not: with
        a fitted deviation of 0.23 an average z of 2.1 is five deviations out and pages
        at 1e-6. With the floor at 0.5 an alert needs an average z of about 3.3 (the
        mean's 0.9 plus 4.75 floors), a departure an operator would call one.
    long_window : int or None
        The rolling z-score is the smaller of the one over ``window`` values and the
        one over the last ``long_window`` (four weeks of 5-minute samples; ``None``:
        the ``window`` alone): a level the last weeks know is not an excursion
        because the last week does not. When a quiet season ends (activity back up by
        two thirds within two days) a week's mean and σ are all quiet-season and every
        node's office hours page; against four weeks they are ordinary. A runaway
        process or a hang is far off both. Costs ``long_window`` floats per series.
    seasonal : bool
        With timestamps, the threshold member's z-score is the larger of the rolling
        one and a day profile's
        (:class:`~kizashi.detectors.threshold.day_profile.DayProfile`: working-day
        and day-off means and spreads per hour × a gain with a one-day half-life),
        once a series has been seen for a week and only while its profile explains
        a tenth of its daily variance: a 5 a.m. runaway process that a week's
        mean and σ find ordinary is far off 5 a.m.'s own, and a quiet season is
        learned within days.
    holidays : str, sequence of str or None
        Dates (``YYYY-MM-DD`` in ``timezone``; comma-separated in a string) the day
        profile's calendar calls days off besides weekends. Optional: a holiday fits the
        day-off profile better and is judged by it anyway; the calendar decides which
        profile a value teaches (``profile_teach``).
    timezone : str or None
        The centre's clock for the day profile (``+09:00``, ``Asia/Tokyo``): its hours,
        weekends and ``holidays`` are local ones. ``None``: UTC days.
    pattern_two_sided : bool
        The pattern members' (context, discord) likelihoods also call an average far
        *below* its usual unlikely, as Numenta's two-sided test does (True, the default).
        False scores only averages above it: a pattern more familiar than usual is not
        an anomaly. NAB's runner sets False (chosen on NAB's tuning fold). The threshold
        member's likelihood stays two-sided.
    profile_teach : str
        Which of the day profile's profiles a value teaches: ``"fit"`` (the
        default, the better-fitting one: the day-off profile of a series that
        started on a working day never learns) or ``"calendar"`` (a weekend or
        holiday the day-off one, any other day the working-day one; judged by the
        better fit either way). ``"calendar"`` makes ``timezone`` and
        ``holidays`` count, but raised false runs on two of the centre's tuning
        variants (``docs/benchmarks.md``), so it is not the default yet.
    steady_window, steady_ratio : int or None, float
        The threshold member's z-score is multiplied by a steadiness boost
        (:class:`~kizashi.detectors.threshold.steadiness.Steadiness`) while a value
        is above its level and the median of its last ``steady_window`` step
        changes is under ``steady_ratio`` × its usual one: a runaway process pins a
        node's CPU near 100 % with almost no jitter, a level a busy afternoon
        reaches too (only 2–3 z off), but not so steadily. ``None``: no boost.
    causes_relations : float or None
        A fitted entity's causes also weigh how far each metric is from what the
        other metrics predict (the ridge strength of that model,
        :mod:`~kizashi.detectors.multivariate.relations`); ``None`` (the default):
        off, it lowered SMD's HitRate (docs/diagnosis.md).
    alert_tail : float
        The engine alerts when a level's tail probability is under this
        (``default_threshold``, 0.6 on the log scale for 1e-6). Numenta's red line
        (1e-5, level 0.5) is for one series; a cluster of a hundred series at
        5-minute steps makes 2·10⁵ series-steps a week, so 1e-5 would allow about
        two chance alerts a week even from perfectly calibrated levels.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> values = np.sin(np.arange(3000) / 20.0) + rng.normal(0, 0.1, 3000)
    >>> values[2500:2510] += 3.0
    >>> scores = EnsembleDetector().score(values)
    >>> bool(scores[2500:2512].max() >= 0.5), bool(scores[1500:2500].max() < 0.5)
    (True, True)
    """

    multivariate = True
    #: Scores are in [0, 1] and mean the same on every series already.
    calibrated_output = True

    model_keys = ("reference", "weights_key")  # weights_key: a `kizashi fit` model's
    conformance_params = {"window": 30, "learning_period": 20, "estimation_samples": 20,
                          "context_order": 2, "context_weight": 0.5, "hold": 1,
                          "discord_window": 4, "discord_history": 50, "discord_weight": 0.5,
                          "rest": 5, "rest_tail": 1e-3, "threshold_weight": 0.9,
                          "discord_averaging_window": 5}

    def __init__(self, window: int = 2016, context_levels: int = 16, context_order: int = 3,
                 context_weight: float = 0.0, tolerance: float | None = 0.05,
                 across: str = "max", reference: bool = True,
                 averaging_window: int = 10, learning_period: int = 288,
                 estimation_samples: int = 100, suppress_red_zone: bool = False,
                 hold: int = 3, compress: bool = False, counts: bool = True,
                 z_cap: float | None = 50.0, discord_window: int = 32,
                 discord_history: int = 2000, discord_weight: float = 0.0, rest: int = 0,
                 seasonal: bool = True, alert_tail: float = 1e-6,
                 holidays: str | tuple[str, ...] | None = None,
                 reference_window: int | str | tuple[int, ...] = (1, 5, 20),
                 reference_combine: str = "mean",
                 reference_power: float = 1.0,
                 reference_spread: str = "held_out",
                 rest_tail: float | None = None, threshold_weight: float = 1.0,
                 discord_averaging_window: int | None = None,
                 likelihood_min_std: float | None = 0.5, timezone: str | None = None,
                 long_window: int | None = 8064, profile_teach: str = "fit",
                 pattern_two_sided: bool = True,
                 steady_window: int | None = 36, steady_ratio: float = 0.5,
                 causes_relations: float | None = None):
        self.window = window
        self.context_levels = context_levels
        self.context_order = context_order
        self.context_weight = context_weight
        self.tolerance = tolerance
        self.across = across
        self.reference = reference
        self.averaging_window = averaging_window
        self.learning_period = learning_period
        self.estimation_samples = estimation_samples
        self.suppress_red_zone = suppress_red_zone
        self.hold = hold
        self.compress = compress
        self.reference_window = reference_window
        self.reference_combine = reference_combine
        self.reference_power = reference_power
        self.reference_spread = reference_spread
        self.counts = counts
        self.z_cap = z_cap
        self.discord_window = discord_window
        self.discord_history = discord_history
        self.discord_weight = discord_weight
        self.rest = rest
        self.seasonal = seasonal
        self.alert_tail = alert_tail
        self.holidays = holidays
        self.rest_tail = rest_tail
        self.threshold_weight = threshold_weight
        self.discord_averaging_window = discord_averaging_window
        self.likelihood_min_std = likelihood_min_std
        self.timezone = timezone
        self.long_window = long_window
        self.profile_teach = profile_teach
        self.pattern_two_sided = pattern_two_sided
        self.steady_window = steady_window
        self.steady_ratio = steady_ratio
        self.causes_relations = causes_relations

    @property
    def default_threshold(self) -> float:  # type: ignore[override]
        """The level of a tail probability ``alert_tail`` (0.6 for 1e-6) on the log scale."""
        from kizashi.decision.likelihood import log_scale

        if not 0.0 < float(self.alert_tail) < 1.0:
            raise ValueError(f"ensemble: alert_tail must be between 0 and 1, got "
                             f"{self.alert_tail!r}")
        return float(log_scale(1.0 - float(self.alert_tail)))

    @property
    def rest_line(self) -> float:
        """The level at which a rest starts: ``rest_tail``'s on the log scale, else the
        alert line (:attr:`default_threshold`)."""
        from kizashi.decision.likelihood import log_scale

        if self.rest_tail is None:
            return self.default_threshold
        if not 0.0 < float(self.rest_tail) < 1.0:
            raise ValueError(f"ensemble: rest_tail must be between 0 and 1 or none, got "
                             f"{self.rest_tail!r}")
        return float(log_scale(1.0 - float(self.rest_tail)))

    # ---------------------------------------------------------------- members
    def _members(self) -> dict[str, Any]:
        if self.across not in ACROSS:
            raise ValueError(f"ensemble: across must be one of {', '.join(ACROSS)}, "
                             f"got {self.across!r}")
        if isinstance(self.hold, bool) or int(self.hold) != self.hold or self.hold < 1:
            raise ValueError(f"ensemble: hold must be a whole number >= 1, got {self.hold!r}")
        for name in ("context_weight", "discord_weight", "threshold_weight"):
            weight = getattr(self, name)
            if not (math.isfinite(weight) and weight >= 0):
                raise ValueError(f"ensemble: {name} must be a number >= 0, got {weight!r}")
        if isinstance(self.rest, bool) or int(self.rest) != self.rest or self.rest < 0:
            raise ValueError(f"ensemble: rest must be a whole number >= 0, got {self.rest!r}")
        self.rest_line  # noqa: B018 -- refuses a rest_tail outside (0, 1)
        if not isinstance(getattr(self, "pattern_two_sided", True), (bool, np.bool_)):
            raise ValueError(f"ensemble: pattern_two_sided must be true or false, got "
                             f"{self.pattern_two_sided!r}")
        min_periods = min(30, int(self.window))
        return {
            "threshold": RollingSigmaThreshold(window=int(self.window), min_periods=min_periods),
            "context": ContextDetector(levels=int(self.context_levels),
                                       max_order=int(self.context_order), min_periods=0),
            "range": RangeRule(tolerance=0.0 if self.tolerance is None else self.tolerance,
                               min_periods=int(self.learning_period)
                               + int(self.estimation_samples)),
            "reference": ReferenceDetector(window=self._reference_windows()[0]),
            "discord": DiscordDetector(window=int(self.discord_window),
                                       history=int(self.discord_history)),
        }

    def _likelihood(self, key: str = "") -> AnomalyLikelihood:
        averaging = self.averaging_window
        if key == "l_discord" and self.discord_averaging_window is not None:
            averaging = self.discord_averaging_window
        # a pattern member's score below its usual is a more familiar pattern, which
        # pattern_two_sided=False does not call unlikely (the threshold member stays two-sided)
        two_sided = bool(getattr(self, "pattern_two_sided", True)) \
            or key not in ("l_context", "l_discord")
        return AnomalyLikelihood(averaging_window=int(averaging),
                                 learning_period=int(self.learning_period),
                                 estimation_samples=int(self.estimation_samples),
                                 suppress_red_zone=bool(self.suppress_red_zone),
                                 two_sided=two_sided)

    @property
    def protect_baseline(self) -> bool:  # type: ignore[override]
        """False once a fitted reference judges: it learns nothing while scoring, and its
        windows must see every row (the decider reads this when it is made)."""
        return not (self.reference and self.state_ is not None and self.state_["trained"])

    @property
    def n_warmup(self) -> int:
        # the members' own warm-up; while the likelihoods learn the scores are 0, so the
        # engine need not wait for them too
        return min(30, int(self.window))

    @property
    def baseline_steps(self) -> int:
        # Protection keeps an incident out of the members, but it also freezes the
        # likelihoods' moving averages at the incident's first steps: learn again after
        # six averaging windows, so an alert cannot outlast its incident by much longer.
        return 6 * int(self.averaging_window)

    def _init_state(self, n_series: int) -> State:
        members = self._members()
        likelihood = self._likelihood()
        return {
            "n_series": n_series,
            "trained": False,
            "seen": np.zeros(n_series, dtype=np.int64),
            "threshold": members["threshold"]._init_state(n_series),
            "context": members["context"]._init_state(n_series),
            "range": members["range"]._init_state(n_series),
            "l_threshold": likelihood.reset(n_series).state_,
            "l_context": self._likelihood().reset(n_series).state_,
            "discord": members["discord"]._init_state(n_series),
            "l_discord": self._likelihood("l_discord").reset(n_series).state_,
            "since_alert": int(self.rest) + 1,
            "recent": np.full(max(int(self.hold) - 1, 0), np.nan),
            "reference": {},
            "counts": CountTail(window=int(self.averaging_window)).initial_state(n_series),
        }

    def _fit(self, values: np.ndarray, t: np.ndarray | None) -> None:
        """Fix the reference on ``values`` (several metrics), else learn the members on them."""
        if values.shape[1] >= 2 and self.reference:
            fixed = [self._fixed_reference(width, values, t)
                     for width in self._reference_windows()]
            if len(fixed) > 1:  # the other windows' references, judged beside the first
                fixed[0]["also"] = fixed[1:]
            self.state_["reference"] = fixed[0]
            fit_deviation(self.state_, values,  # the causes: which metrics moved
                          relation_alpha=self.causes_relations)
            self.state_["trained"] = True
        self._score_batch(self.state_, values, t)

    # ------------------------------------------------------------------ score
    def _calibrate(self, state: State, key: str, raw: np.ndarray) -> np.ndarray:
        likelihood = self._likelihood(key)
        if key == "l_threshold" and self.likelihood_min_std is not None:
            floor = float(self.likelihood_min_std)
            if not (math.isfinite(floor) and floor >= 0):
                raise ValueError(f"ensemble: likelihood_min_std must be a number >= 0 or none, "
                                 f"got {self.likelihood_min_std!r}")
            likelihood.min_variance = max(likelihood.min_variance, floor * floor)
        likelihood.state_ = state[key]
        return likelihood.transform(raw)

    def _score_batch(self, state: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        return self._scores(state, values, t)[0]

    def _scores(self, state: State, values: np.ndarray, t: np.ndarray | None
                ) -> tuple[np.ndarray, np.ndarray]:
        """``(time, 1)`` entity scores and ``(time, metrics)`` metric levels."""
        members = self._members()
        observed = ~np.isnan(values)
        if state["trained"] and self.reference:
            remember_rows(state, values)  # the causes' trailing windows read these
            return self._by_reference(state, values, t, members)
        before = state["seen"] + np.cumsum(observed, axis=0) - observed  # seen before each row
        ready = before >= members["threshold"].n_warmup
        raw = members["threshold"]._score_batch(state["threshold"], values, t)
        if self.long_window is not None:
            raw = self._long(state, values, t, raw)
        if self.seasonal and t is not None:
            raw = self._seasonal(state, values, t, raw)
        if getattr(self, "steady_window", None) is not None:
            raw = self._steady(state, values, raw)
        if self.z_cap is not None:
            raw = np.minimum(raw, float(self.z_cap))
        if self.compress:
            raw = np.log1p(raw)
        levels = self._calibrate(state, "l_threshold", np.where(ready, raw, np.nan))
        if float(self.threshold_weight) != 1.0:
            levels = float(self.threshold_weight) * levels
        if float(self.context_weight) > 0:
            raw = members["context"]._score_batch(state["context"], values, t)
            context = self._calibrate(state, "l_context", np.where(ready, raw, np.nan))
            levels = np.fmax(levels, float(self.context_weight) * context)
        if float(self.discord_weight) > 0:
            raw = members["discord"]._score_batch(state["discord"], values, t)
            ready = before >= members["discord"].n_warmup  # no candidate window before
            discord = self._calibrate(state, "l_discord", np.where(ready, raw, np.nan))
            levels = np.fmax(levels, float(self.discord_weight) * discord)
        if self.tolerance is not None:
            flags = members["range"]._score_batch(state["range"], values, t)
            levels = np.where(flags >= 1.0, 1.0, levels)
        if self.counts:
            levels = self._counted(state, values, before, levels)
        state["seen"] = state["seen"] + observed.sum(axis=0)
        levels = np.where(observed, np.nan_to_num(levels, nan=0.0), np.nan)
        any_seen = observed.any(axis=1)
        with np.errstate(invalid="ignore"):
            filled = np.where(observed, levels, 0.0)
            if self.across == "max":
                entity = filled.max(axis=1)
            else:
                entity = filled.sum(axis=1) / np.maximum(observed.sum(axis=1), 1)
        entity = self._held(state, np.where(any_seen, entity, np.nan))
        entity = self._rested(state, entity)
        # the multivariate contract: a row with a missing metric has no entity score
        entity = np.where(observed.all(axis=1), entity, np.nan)
        return entity[:, None], levels

    def _seasonal(self, state: State, values: np.ndarray, t: np.ndarray,
                  raw: np.ndarray) -> np.ndarray:
        """The larger of ``raw`` and the day profile's score where it has one (a daily
        cycle, a week seen)."""
        member = DayProfile(holidays=self.holidays, timezone=self.timezone,
                            teach=getattr(self, "profile_teach", "fit"))
        # a state saved before the day profile existed starts learning it now
        profile = state.setdefault("day_profile", member.initial_state(values.shape[1]))
        scored = member.assess(profile, values, t)
        return np.where(np.isnan(scored), raw, np.fmax(scored, raw))

    def _steady(self, state: State, values: np.ndarray, raw: np.ndarray) -> np.ndarray:
        """``raw`` times the steadiness boost: a value held above its level with a fraction
        of its usual jitter (a pinned process) is further off than its z-score says."""
        member = Steadiness(window=self.steady_window, ratio=self.steady_ratio)
        # a state saved before the steadiness existed starts learning it now
        steady = state.setdefault("steadiness", member.initial_state(values.shape[1]))
        return raw * member.assess(steady, values)

    def _long(self, state: State, values: np.ndarray, t: np.ndarray | None,
              raw: np.ndarray) -> np.ndarray:
        """The smaller of ``raw`` and the z-score over the last ``long_window`` values."""
        window = self.long_window
        if isinstance(window, bool) or int(window) != window or window < 2:
            raise ValueError(f"ensemble: long_window must be a whole number >= 2 or none, got "
                             f"{window!r}")
        member = RollingSigmaThreshold(window=int(window), min_periods=min(30, int(window)))
        # a state saved before the long window existed starts learning it now
        long = state.setdefault("threshold_long", member._init_state(values.shape[1]))
        z = member._score_batch(long, values, t)
        return np.where(np.isnan(z), raw, np.fmin(raw, z))

    def _counted(self, state: State, values: np.ndarray, before: np.ndarray,
                 levels: np.ndarray) -> np.ndarray:
        """``levels`` with a sparse count series' rows judged by its count tail instead."""
        tail = CountTail(window=int(self.averaging_window))
        # a state saved before the count tail existed starts counting now
        counts = state.setdefault("counts", tail.initial_state(values.shape[1]))
        counted, sparse = tail.assess(counts, values)
        ready = before >= int(self.learning_period) + int(self.estimation_samples)
        return np.where(sparse, np.where(ready, np.nan_to_num(counted, nan=0.0), 0.0), levels)

    def _by_reference(self, state: State, values: np.ndarray, t: np.ndarray | None,
                      members: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        """A fitted entity: its reference's level, and each metric's share of ``|z|``."""
        reference, fixed = members["reference"], state["reference"]
        z = np.stack([self._standardised(each, values, t)
                      for each in [fixed, *fixed.get("also", [])]])
        with np.errstate(invalid="ignore"):
            z = z.max(axis=0) if self.reference_combine == "max" else z.mean(axis=0)
        entity = np.nan_to_num(reference_level(z), nan=0.0)
        entity = np.where(np.isnan(values).any(axis=1), np.nan, entity)
        return entity[:, None], reference._distances(fixed, values, "zscore")

    def _reference_windows(self) -> tuple[int, ...]:
        """``reference_window`` as whole numbers >= 1 (one, or several: ``"1,10"``)."""
        given = self.reference_window
        parts = given.split(",") if isinstance(given, str) else \
            list(given) if isinstance(given, (tuple, list)) else [given]
        windows = []
        for part in parts or [None]:  # nothing given: refused as a missing number
            try:
                number = math.nan if isinstance(part, bool) else float(part)
            except (TypeError, ValueError):
                number = math.nan
            if not (number.is_integer() and number >= 1):
                raise ValueError(f"ensemble: reference_window must be whole numbers >= 1 "
                                 f"(one, or several as '1,10'), got {given!r}")
            windows.append(int(number))
        if self.reference_combine not in REFERENCE_COMBINE:
            raise ValueError(f"ensemble: reference_combine must be one of "
                             f"{', '.join(REFERENCE_COMBINE)}, got {self.reference_combine!r}")
        return tuple(windows)

    def _reference_power(self) -> float:
        """``reference_power`` as a number > 0."""
        power = self.reference_power
        try:
            number = math.nan if isinstance(power, bool) else float(power)
        except (TypeError, ValueError):
            number = math.nan
        if not (math.isfinite(number) and number > 0):
            raise ValueError(f"ensemble: reference_power must be a number > 0, got {power!r}")
        return number

    def _held_out(self) -> bool:
        """Whether ``reference_spread`` asks for held-out training scores."""
        if self.reference_spread not in REFERENCE_SPREAD:
            raise ValueError(f"ensemble: reference_spread must be one of "
                             f"{', '.join(REFERENCE_SPREAD)}, got {self.reference_spread!r}")
        return self.reference_spread == "held_out"

    def _held_out_scores(self, width: int, values: np.ndarray, t: np.ndarray | None,
                         fitted: np.ndarray) -> np.ndarray:
        """The raw scores of each half of ``values`` by a reference of windows of ``width``
        rows fitted on the other half (``fitted``, the scores of the reference fitted on all
        of them, where a half has fewer than two complete rows to fit on)."""
        half = values.shape[0] // 2
        parts = [(values[half:], values[:half]), (values[:half], values[half:])]
        if any((~np.isnan(fit).any(axis=1)).sum() < 2 for fit, _ in parts):
            return fitted
        power = self._reference_power()
        held = []
        for fit, scored in parts:
            other = ReferenceDetector(window=width, aggregate="mean" if power == 1.0 else
                                      "power", power=power)
            other.reset(values.shape[1])
            other._fit(fit, None)
            held.append(other._score_batch(other.state_, scored, None)[:, 0])
        return np.concatenate(held)

    def _fixed_reference(self, width: int, values: np.ndarray, t: np.ndarray | None
                         ) -> State:
        """A reference of windows of ``width`` rows fitted on ``values``, with the mean and
        spread of its raw scores over them (its stream continues after their last row)."""
        power = self._reference_power()
        reference = ReferenceDetector(window=width, aggregate="mean" if power == 1.0 else "power",
                                      power=power)
        reference.reset(values.shape[1])
        reference._fit(values, t)
        reference.state_["power"] = power  # how its raw scores aggregate the metrics
        raw = reference._score_batch(reference.state_, values, t)[:, 0]
        if self._held_out():
            raw = self._held_out_scores(width, values, t, raw)
        raw = raw[np.isfinite(raw)]
        reference.state_["raw_mean"] = float(raw.mean()) if raw.size else 0.0
        reference.state_["raw_std"] = max(float(raw.std()) if raw.size else 0.0, 1e-9)
        return reference.state_

    @staticmethod
    def _standardised(fixed: State, values: np.ndarray, t: np.ndarray | None) -> np.ndarray:
        """``(raw − mean) / sd`` of one fitted reference's raw scores over its training rows
        (its window is that of its state: the rows it keeps, plus one)."""
        power = float(fixed.get("power", 1.0))  # a model saved before the power: the mean
        reference = ReferenceDetector(window=int(fixed["recent"].shape[0]) + 1,
                                      aggregate="mean" if power == 1.0 else "power", power=power)
        raw = reference._score_batch(fixed, values, t)[:, 0]
        return (raw - fixed["raw_mean"]) / fixed["raw_std"]

    def _held(self, state: State, entity: np.ndarray) -> np.ndarray:
        """The smallest of the last ``hold`` observed levels (missing rows skipped)."""
        hold = int(self.hold)
        if hold == 1:
            return entity
        seen = ~np.isnan(entity)
        chain = np.concatenate([state["recent"], entity[seen]])
        held = np.full(entity.shape, np.nan)
        if seen.any():
            from numpy.lib.stride_tricks import sliding_window_view

            # NaN (not yet hold levels seen) is ignored by fmin; a full window is needed
            windows = sliding_window_view(chain, hold)
            held[seen] = np.where(np.isnan(windows).any(axis=1), 0.0, windows.min(axis=1))
        state["recent"] = chain[-(hold - 1):].copy()
        return held

    def _rested(self, state: State, entity: np.ndarray) -> np.ndarray:
        """``entity`` with every level at or above the rest line (the alert line unless
        ``rest_tail`` is set) within ``rest`` steps of the last kept one set to 0."""
        rest = int(self.rest)
        if rest == 0:
            return entity
        entity = entity.copy()
        last = -int(state["since_alert"])  # the last kept alert, in rows of this block
        with np.errstate(invalid="ignore"):
            alerts = np.flatnonzero(entity >= self.rest_line)
        for i in alerts:
            if i - last <= rest:
                entity[i] = 0.0
            else:
                last = int(i)
        state["since_alert"] = min(entity.shape[0] - last, rest + 1)
        return entity

    def split_state_dict(self) -> tuple[dict[str, Any], dict[str, Any]]:
        """:meth:`Detector.split_state_dict`, with the fitted references' last rows
        (``recent`` of each window's reference, which every step moves on) in the stream
        part: the model part stays as it was fitted, so a daemon can take it from a
        saved model."""
        model, stream = super().split_state_dict()
        reference = model.get("reference")
        if isinstance(reference, dict) and "recent" in reference:
            windows = [reference, *reference.get("also", [])]
            fixed = [{k: v for k, v in each.items() if k not in ("recent", "also")}
                     for each in windows]
            if len(fixed) > 1:
                fixed[0]["also"] = fixed[1:]
            model = dict(model, reference=fixed[0])
            stream["state"][RECENT] = [each["recent"] for each in windows]
        return model, stream

    def load_split_state_dict(self, model: dict[str, Any], stream: dict[str, Any]) -> Self:
        """Join what :meth:`split_state_dict` returned (the references' rows put back)."""
        state = dict(stream["state"])
        recent = state.pop(RECENT, None)
        if recent is not None and isinstance(model.get("reference"), dict):
            if not isinstance(recent, list):  # saved while one window was the only one
                recent = [recent]
            first = model["reference"]
            windows = [first, *first.get("also", [])]
            if len(recent) != len(windows):
                raise ValueError(f"ensemble: the stream holds rows of {len(recent)} reference "
                                 f"windows, the model has {len(windows)}")
            joined = [{**each, "recent": rows} for each, rows in zip(windows, recent, strict=True)]
            if len(joined) > 1:
                joined[0]["also"] = joined[1:]
            model = dict(model, reference=joined[0])
        return super().load_split_state_dict(model, dict(stream, state=state))

    def _update(self, state: State, x: np.ndarray, t: float | None) -> np.ndarray:
        return self._scores(state, x[None, :], None if t is None else np.array([t]))[0][0]

    def _explain(self, state: State, values: np.ndarray, t: np.ndarray | None
                 ) -> dict[str, np.ndarray]:
        """Scores, and each metric's share of the metrics' levels (attribution)."""
        history = history_of(state)  # a fitted entity: before scoring moves it on
        entity, levels = self._scores(state, values, t)
        total = np.nansum(levels, axis=1, keepdims=True)
        count = np.maximum((~np.isnan(levels)).sum(axis=1, keepdims=True), 1)
        with np.errstate(invalid="ignore", divide="ignore"):
            share = np.where(total > 0, levels / total, 1.0 / count)
        if history is not None and self.reference and state["trained"]:
            # a fitted entity: each metric's deviation against its training rows
            # (DeviationAttribution), whichever member scored the row
            share = deviation_shares(state, values, history)
        return {"score": entity, "attribution": np.where(np.isnan(levels), np.nan, share)}
