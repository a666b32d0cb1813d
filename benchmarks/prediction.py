"""Warnings ahead of failures: kizashi predict against Prometheus' predict_linear rule.

Prints tables (it is not a test). Run from the repository root::

    .venv/bin/python benchmarks/prediction.py            # the report: seeds 0–9
    .venv/bin/python benchmarks/prediction.py --fit      # refit the calibration: seeds 100–119
    .venv/bin/python benchmarks/prediction.py --anomaly-ahead  # its reliability, seeds 0–9
    .venv/bin/python benchmarks/prediction.py --variants  # scenario variants, seeds 0–2
    .venv/bin/python benchmarks/prediction.py --variants step_1min,gaps --seeds 5
    .venv/bin/python benchmarks/prediction.py --families  # other shapes, seeds 0–9
    .venv/bin/python benchmarks/prediction.py --families --irregular
    .venv/bin/python benchmarks/prediction.py --families --first-seed 10  # held out

On the prediction scenario (:func:`kizashi.data.precursors.generate_precursors`:
8 days of 5-minute samples, 12 failing series whose precursors build over
6–48 h, 18 look-alikes that must not warn, 6 normal series per seed), both
predictors look 6 h ahead at every step:

* **kizashi**: ``kizashi predict --horizon 6h``
  (:func:`kizashi.prediction.predictor.predict_frame`), a warning while the
  calibrated probability of reaching the limit within 6 h is ≥ the default
  cutoff (it ends after 2 h under it);
* **predict_linear**: the alert rule ``predict_linear(metric[6h], 6h) >= limit``
  evaluated at every step (:mod:`kizashi.prediction.predict_linear`, Prometheus'
  definition), as written and with ``keep_firing_for: 2h`` (the same hysteresis).

For each failure: the **lead time** (from the first warning during its
precursor to the failure; "missed" when none). **False-warning runs**: runs of
warning steps on look-alikes and normal series, and on failing series before
their precursor starts. Then the **reliability** of kizashi's probabilities
(predicted vs observed frequency of a failure within 6 h, in bins).

``--variants [NAMES]`` runs both on the scenario variants of
:mod:`kizashi.data.precursor_variants` (other sampling steps, noise, units and
limits, faster and slower failures, gaps, 1,000 series, 4 weeks; seeds 0 … N−1,
3 by default) and prints one line per variant: mean lead, missed failures and
false-warning runs of each, side by side.

``--families`` runs both on :mod:`kizashi.data.precursor_families` (shapes the
scenario does not hold: sawtooths near the limit, a fill with a ripple, a leak under a
garbage collector, 0–1 shares, counters, a one-sample spike, 2–3 h power-law rises;
seeds 0 … N−1, 10 by default; anything tuned on them was tuned on seeds 100–119) and
prints one line per family: mean lead, missed failures, false-warning runs and the ETA
error (the ETA at the first warning minus the failure, hours; and the median of
|ETA − failure| over the warning steps of the last 6 h before it). ``--irregular``:
the same with jittered timestamps and 3 % of the rows dropped.

``--fit`` fits the calibration maps of :mod:`kizashi.prediction.calibration`
(time to limit; anomaly ahead on the threshold detector's envelope) on seeds
100–119 and prints the cutoff table used to choose ``DEFAULT_CUTOFF``: the
cutoff with the longest mean lead among those raising at most a tenth of
predict_linear's false-warning runs on those seeds. The reported seeds 0–9
play no part in any choice.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time

import numpy as np

from kizashi.data.precursors import PrecursorScenario, generate_precursors
from kizashi.prediction.predict_linear import predict_linear
from kizashi.prediction.predictor import (
    RESOLVE_SECONDS,
    PredictionResult,
    forecaster_for,
    predict_frame,
    rise_steps,
    step_seconds,
    warnings_from,
)
from kizashi.prediction.warmup_trend import with_trend

REPORT_SEEDS = range(10)
FIT_SEEDS = range(100, 120)
HORIZON = 6 * 3600.0
#: The cutoff rule: the longest mean lead with at most this share of predict_linear's
#: false-warning runs (both on the fit seeds).
FALSE_SHARE = 0.1


#: Whether kizashi's column applies the warm-up trend line (as ``kizashi predict`` does by
#: default; ``--no-warmup-trend`` here as there turns it off).
WARMUP_TREND = True


def kizashi_predict(scenario: PrecursorScenario) -> PredictionResult:
    """What ``kizashi predict`` warns on the scenario's file (with the warm-up trend line
    when :data:`WARMUP_TREND`)."""
    result = predict_frame(scenario.frame, HORIZON, scenario.limits)
    if WARMUP_TREND:
        result, _ = with_trend(result, scenario.frame.values)
    return result


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) of each run of True in a 1-D mask."""
    edges = np.diff(np.r_[0, mask.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True))


def happens_within(event: np.ndarray, steps: int) -> np.ndarray:
    """True at row t where ``event`` is True at some row t … t+steps (the outcome that a
    probability of "by the end of the horizon" predicts: a series already at its limit
    counts)."""
    ahead = event.copy()
    for step in range(1, steps + 1):
        ahead[:-step] |= event[step:]
    return ahead


def evaluate(scenario: PrecursorScenario, warning: np.ndarray) -> dict:
    """Lead hours per failure (None: missed) and false-warning runs by cause."""
    keys = scenario.frame.keys
    hours = scenario.step_seconds / 3600.0
    leads, false = [], {"before precursor": 0}
    failing = set()
    for f in scenario.failures:
        j = keys.index((f.entity, f.metric))
        failing.add(j)
        during = warning[f.precursor_start:f.failure, j]
        leads.append((f.kind, (f.failure - f.precursor_start - int(np.argmax(during))) * hours
                      if during.any() else None))
        false["before precursor"] += len(runs(warning[:f.precursor_start, j]))
    kind_of = {keys.index((e, m)): kind for e, m, kind in scenario.lookalikes}
    for j in range(len(keys)):
        if j not in failing:
            kind = kind_of.get(j, "normal")
            false[kind] = false.get(kind, 0) + len(runs(warning[:, j]))
    return {"leads": leads, "false": false}


def prometheus_warnings(scenario: PrecursorScenario, keep_firing_for: float = 0.0) -> np.ndarray:
    frame = scenario.frame
    limits = np.array([scenario.limit(m) for m in frame.metrics], dtype=np.float64)
    seconds = frame.timestamps.astype(np.int64) / 1e9
    with np.errstate(invalid="ignore"):
        fired = predict_linear(seconds, frame.values, HORIZON, HORIZON) >= limits
    if keep_firing_for <= 0:
        return fired
    return warnings_from(fired.astype(float), 0.5,
                         round(keep_firing_for / scenario.step_seconds) + 1)


def report(seeds: range) -> None:
    methods = ["kizashi", "predict_linear", "pred_linear, keep 2h"]
    per_kind: dict[str, dict[str, list]] = {m: {} for m in methods}
    false: dict[str, dict[str, int]] = {m: {} for m in methods}
    probs, truths, seconds = [], [], []
    print(f"seeds {seeds.start}–{seeds.stop - 1}: lead time per failure (hours; '-' = missed)\n")
    print(f"{'seed':>4} {'failure':<20} {'precursor':>9} {'kizashi':>8} {'pred_lin':>8}")
    for seed in seeds:
        scenario = generate_precursors(seed=seed)
        started = time.perf_counter()
        result = kizashi_predict(scenario)
        seconds.append(time.perf_counter() - started)
        warn = {"kizashi": result.warning,
                "predict_linear": prometheus_warnings(scenario),
                methods[2]: prometheus_warnings(scenario, RESOLVE_SECONDS)}
        scored = {m: evaluate(scenario, w) for m, w in warn.items()}
        for i, f in enumerate(scenario.failures):
            cells = []
            for m in methods:
                kind, lead = scored[m]["leads"][i]
                per_kind[m].setdefault(kind, []).append(lead)
                cells.append(lead)
            length = (f.failure - f.precursor_start) * scenario.step_seconds / 3600
            print(f"{seed:>4} {f.kind:<20} {length:>8.1f}h {_h(cells[0]):>8} {_h(cells[1]):>8}")
        for m in methods:
            for cause, count in scored[m]["false"].items():
                false[m][cause] = false[m].get(cause, 0) + count
        limits = np.array([scenario.limit(m) for m in scenario.frame.metrics])
        truth = happens_within(scenario.frame.values >= limits,
                               round(HORIZON / scenario.step_seconds))
        limited = np.array([k == "limit" for k in result.kinds])
        probs.append(result.probability[:, limited].ravel())
        truths.append(truth[:, limited].ravel())

    print("\nsummary (all seeds)")
    print(f"{'':<38}" + "".join(f"{m[:22]:>24}" for m in methods))
    n_fail = sum(len(v) for v in per_kind["kizashi"].values())
    for kind in per_kind["kizashi"]:
        row = []
        for m in methods:
            leads = [x for x in per_kind[m][kind] if x is not None]
            missed = len(per_kind[m][kind]) - len(leads)
            row.append(f"{statistics.median(leads) if leads else 0:.1f} h ({missed} missed)")
        print(f"{'median lead, ' + kind:<38}" + "".join(f"{c:>24}" for c in row))
    row = []
    for m in methods:
        leads = [x for v in per_kind[m].values() for x in v if x is not None]
        row.append(f"{statistics.mean(leads):.2f} h, {n_fail - len(leads)}/{n_fail} missed")
    print(f"{'mean lead, all failures':<38}" + "".join(f"{c:>24}" for c in row))
    causes = sorted({c for m in methods for c in false[m]})
    for cause in causes:
        print(f"{'false-warning runs, ' + cause:<38}"
              + "".join(f"{false[m].get(cause, 0):>24}" for m in methods))
    print(f"{'false-warning runs, total':<38}"
          + "".join(f"{sum(false[m].values()):>24}" for m in methods))
    print(f"\nkizashi predict time per seed (36 series × 2304 steps): median "
          f"{statistics.median(seconds):.2f} s")
    reliability(np.concatenate(probs), np.concatenate(truths))


def reliability(prob: np.ndarray, truth: np.ndarray,
                title: str = "at the limit now or within 6 h), limit series:") -> None:
    """Predicted probability vs observed frequency, in bins."""
    keep = np.isfinite(prob)
    prob, truth = prob[keep], truth[keep]
    edges = [0.0, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 0.95, 1.0001]
    print(f"\nreliability of kizashi's probability ({title}")
    print(f"{'bin':>13} {'steps':>8} {'mean predicted':>15} {'observed':>9}")
    for lo, hi in itertools.pairwise(edges):
        inside = (prob >= lo) & (prob < hi)
        if inside.sum():
            print(f"[{lo:.2f}, {min(hi, 1):.2f}) {int(inside.sum()):>8} "
                  f"{prob[inside].mean():>15.3f} {truth[inside].mean():>9.3f}")
    brier = float(np.mean((prob - truth) ** 2))
    print(f"Brier score {brier:.4f} (always the base rate {truth.mean():.4f}: "
          f"{float(np.mean((truth.mean() - truth) ** 2)):.4f})")


def anomaly_ahead_reliability(seeds: range) -> None:
    """The reliability of the anomaly-ahead probability on held-out seeds: every series of
    the scenario predicted against its normal envelope (as if it had no limit), the
    outcome being "outside the envelope now or within 6 h"."""
    from kizashi.prediction.calibration import ANOMALY_AHEAD
    from kizashi.prediction.envelope import normal_envelope

    probs, truths = [], []
    for seed in seeds:
        frame = generate_precursors(seed=seed).frame
        forecaster = forecaster_for(step_seconds(frame), HORIZON)
        lower, upper = normal_envelope(frame.values)
        z = forecaster.crossing(frame.values, upper=upper, lower=lower).z
        with np.errstate(invalid="ignore"):
            outside = (frame.values > upper) | (frame.values < lower)
        probs.append(ANOMALY_AHEAD.probability(z).ravel())
        truths.append(happens_within(outside, forecaster.horizon_steps).ravel())
    reliability(np.concatenate(probs), np.concatenate(truths),
                f"anomaly ahead: outside the normal envelope now or within 6 h), "
                f"every series, seeds {seeds.start}–{seeds.stop - 1}:")


def variants_report(names: list[str], seeds: range) -> None:
    """Lead, missed failures and false-warning runs of kizashi and predict_linear on each
    scenario variant (all seeds together), one line per variant."""
    from tqdm import tqdm

    from kizashi.data.precursor_variants import make_variant

    print(f"scenario variants, seeds {seeds.start}–{seeds.stop - 1}: mean and median lead "
          f"over the failures (a missed one counts 0 h), missed failures, false-warning runs; "
          f"'earlier': failures kizashi warned strictly earlier / later than predict_linear\n")
    cells = f"{'mean':>6} {'median':>6} {'missed':>6} {'false':>6}"
    print(f"{'variant':<11} {'series×steps':>13} {'fails':>5} | kizashi {cells} | "
          f"predict_linear {cells} | {'earlier':>7} {'later':>5} | {'s/seed':>6} verdict")
    for name in names:
        got: dict[str, list] = {"kizashi": [], "predict_linear": []}
        false = {"kizashi": 0, "predict_linear": 0}
        seconds = []
        shape = (0, 0)
        for seed in tqdm(seeds, desc=name, leave=False, disable=len(seeds) < 2):
            scenario = make_variant(name, seed)
            shape = scenario.frame.values.shape
            started = time.perf_counter()
            result = kizashi_predict(scenario)
            seconds.append(time.perf_counter() - started)
            for method, warn in (("kizashi", result.warning),
                                 ("predict_linear", prometheus_warnings(scenario))):
                scored = evaluate(scenario, warn)
                got[method] += [lead or 0.0 for _, lead in scored["leads"]]
                got[method + " missed"] = got.get(method + " missed", 0) + sum(
                    lead is None for _, lead in scored["leads"])
                false[method] += sum(scored["false"].values())
        k, p = np.array(got["kizashi"]), np.array(got["predict_linear"])
        row = {}
        for method, leads in (("kizashi", k), ("predict_linear", p)):
            row[method] = (f"{leads.mean():>6.2f} {np.median(leads):>6.2f} "
                           f"{got[method + ' missed']:>6} {false[method]:>6}")
        ahead = (k.mean() > p.mean() and got["kizashi missed"] <= got["predict_linear missed"]
                 and false["kizashi"] < false["predict_linear"])
        print(f"{name:<11} {f'{shape[1]}×{shape[0]}':>13} {len(k):>5} | kizashi {row['kizashi']}"
              f" | predict_linear {row['predict_linear']} | {int((k > p).sum()):>7} "
              f"{int((k < p).sum()):>5} | {statistics.median(seconds):>6.1f} "
              f"{'ahead' if ahead else 'BEHIND'}")


def rule_eta(scenario: PrecursorScenario) -> np.ndarray:
    """The ETA (datetime64) of the predict_linear rule at each step: where its line reaches
    the limit (NaT where it does not rise, or has no limit)."""
    frame = scenario.frame
    limits = np.array([scenario.limit(m) or np.nan for m in frame.metrics], dtype=np.float64)
    seconds = frame.timestamps.astype(np.int64) / 1e9
    now = predict_linear(seconds, frame.values, HORIZON, 0.0)
    ahead = predict_linear(seconds, frame.values, HORIZON, HORIZON)
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (ahead - now) / HORIZON
        wait = np.where(now >= limits, 0.0, (limits - now) / slope)
    wait = np.where(np.isfinite(wait) & (wait >= 0) & (wait < 30 * 86400), wait, np.nan)
    eta = np.full(wait.shape, np.datetime64("NaT", "ns"))
    offsets = (np.nan_to_num(wait) * 1e9).astype("timedelta64[ns]")
    return np.where(np.isfinite(wait), frame.timestamps[:, None] + offsets, eta)


def eta_errors(scenario: PrecursorScenario, warning: np.ndarray,
               eta: np.ndarray) -> list[tuple[float | None, float | None]]:
    """Per failure: (ETA − failure at the first warning of its precursor, median
    |ETA − failure| over the warning steps of the last 6 h before it), in hours; None where
    there is none."""
    keys, stamps = scenario.frame.keys, scenario.frame.timestamps
    out = []
    for f in scenario.failures:
        j = keys.index((f.entity, f.metric))
        due = stamps[f.failure]
        rows = f.precursor_start + np.flatnonzero(warning[f.precursor_start:f.failure, j])
        hours = (eta[rows, j] - due).astype("timedelta64[s]").astype(np.float64) / 3600
        hours[np.isnat(eta[rows, j])] = np.nan
        first = None if rows.size == 0 or np.isnan(hours[0]) else float(hours[0])
        late = (stamps[rows] >= due - np.timedelta64(int(HORIZON), "s")) & np.isfinite(hours)
        out.append((first, float(np.median(np.abs(hours[late]))) if late.any() else None))
    return out


def families_report(seeds: range, irregular: bool = False) -> None:
    """Per family of :mod:`kizashi.data.precursor_families`: lead, missed, false-warning
    runs (a run starting at a spike over the limit is not false) and ETA errors, kizashi
    and predict_linear side by side (all seeds together)."""
    from tqdm import tqdm

    from kizashi.data.precursor_families import (
        FAILURE_FAMILIES,
        LOOKALIKE_FAMILIES,
        generate_families,
    )

    methods = ("kizashi", "predict_linear")
    leads = {m: {k: [] for k in FAILURE_FAMILIES} for m in methods}
    etas = {m: {k: ([], []) for k in FAILURE_FAMILIES} for m in methods}
    false = {m: {k: 0 for k in (*FAILURE_FAMILIES, *LOOKALIKE_FAMILIES, "normal")}
             for m in methods}
    for seed in tqdm(seeds, desc="families", leave=False):
        scenario = generate_families(seed=seed, irregular=irregular)
        result = kizashi_predict(scenario)
        keys = scenario.frame.keys
        spike_rows = {keys.index((e, m)): r for e, m, r in scenario.spikes}
        for method, warn, eta in (("kizashi", result.warning, result.eta),
                                  ("predict_linear", prometheus_warnings(scenario),
                                   rule_eta(scenario))):
            for f, (_, lead), (first, late) in zip(
                    scenario.failures, evaluate(scenario, warn)["leads"],
                    eta_errors(scenario, warn, eta), strict=True):
                leads[method][f.kind].append(lead)
                if first is not None:
                    etas[method][f.kind][0].append(first)
                if late is not None:
                    etas[method][f.kind][1].append(late)
                false[method][f.kind] += len(runs(warn[:f.precursor_start,
                                                       keys.index((f.entity, f.metric))]))
            kind_of = {keys.index((e, m)): k for e, m, k in scenario.lookalikes}
            failing = {keys.index((f.entity, f.metric)) for f in scenario.failures}
            for j in range(len(keys)):
                if j in failing:
                    continue
                count = sum(start != spike_rows.get(j) for start, _ in runs(warn[:, j]))
                false[method][kind_of.get(j, "normal")] += count

    def _m(values: list) -> str:
        return f"{statistics.median(values):+.2f}" if values else "-"

    print(f"precursor families{', irregular sampling' if irregular else ''}, seeds "
          f"{seeds.start}–{seeds.stop - 1}: mean lead (h, a missed failure counts 0), "
          f"missed, false-warning runs; ETA error (h): median of ETA − failure at the first "
          f"warning, and median |ETA − failure| over the warnings of the last 6 h\n")
    head = f"{'lead':>6} {'missed':>6} {'false':>5} {'eta@1st':>7} {'|eta|6h':>7}"
    print(f"{'family':<16} {'n':>3} | kizashi {head} | predict_linear {head}")
    totals = {m: [[], 0, 0] for m in methods}
    for kind in (*FAILURE_FAMILIES, *LOOKALIKE_FAMILIES, "normal"):
        cells = []
        n = 0
        for m in methods:
            got = leads[m].get(kind, [])
            n = len(got)
            totals[m][0] += [x or 0.0 for x in got]
            totals[m][1] += sum(x is None for x in got)
            totals[m][2] += false[m][kind]
            if got:
                first, late = etas[m][kind]
                cells.append(f"{statistics.mean(x or 0.0 for x in got):>6.2f} "
                             f"{sum(x is None for x in got):>6} {false[m][kind]:>5} "
                             f"{_m(first):>7} {_m(late):>7}")
            else:
                cells.append(f"{'':>6} {'':>6} {false[m][kind]:>5} {'':>7} {'':>7}")
        print(f"{kind:<16} {n or '':>3} | kizashi {cells[0]} | predict_linear {cells[1]}")
    row = [f"{statistics.mean(t[0]):>6.2f} {t[1]:>6} {t[2]:>5}" for t in totals.values()]
    print(f"{'all':<16} {len(totals['kizashi'][0]):>3} | kizashi {row[0]} {'':>15} | "
          f"predict_linear {row[1]}")


def fit(seeds: range) -> None:
    from kizashi.prediction.calibration import IsotonicCalibration
    from kizashi.prediction.envelope import normal_envelope
    from kizashi.prediction.rise_gate import rise_gate

    margins, outcomes, env_margins, env_outcomes, gates = [], [], [], [], []
    scenarios = [generate_precursors(seed=s) for s in seeds]
    for scenario in scenarios:
        frame = scenario.frame
        forecaster = forecaster_for(step_seconds(frame), HORIZON)
        h = forecaster.horizon_steps
        limits = np.array([scenario.limit(m) for m in frame.metrics])
        crossing = forecaster.crossing(frame.values, upper=limits)
        margins.append(crossing.z)
        with np.errstate(invalid="ignore"):
            there = crossing.ready & (frame.values >= limits)
        gates.append(there | rise_gate(frame.values, limits, rise_steps(step_seconds(frame)), h))
        outcomes.append(happens_within(frame.values >= limits, h))
        lower, upper = normal_envelope(frame.values)
        env = forecaster.crossing(frame.values, upper=upper, lower=lower)
        with np.errstate(invalid="ignore"):
            outside = (frame.values > upper) | (frame.values < lower)
        env_margins.append(env.z.ravel())
        env_outcomes.append(happens_within(outside, h).ravel())
    limit_fit = IsotonicCalibration.fit(np.concatenate([z.ravel() for z in margins]),
                                        np.concatenate([y.ravel() for y in outcomes]))
    envelope_fit = IsotonicCalibration.fit(np.concatenate(env_margins),
                                           np.concatenate(env_outcomes))
    print(f"seeds {seeds.start}–{seeds.stop - 1}")
    for name, fitted in (("TIME_TO_LIMIT", limit_fit), ("ANOMALY_AHEAD", envelope_fit)):
        knots = ", ".join(f"{v:.4g}" for v in fitted.knots)
        probabilities = ", ".join(f"{v:.4g}" for v in fitted.probabilities)
        print(f"{name} = IsotonicCalibration(\n    knots=({knots}),\n"
              f"    probabilities=({probabilities}))")
    rule = [evaluate(sc, prometheus_warnings(sc)) for sc in scenarios]
    baseline = statistics.mean(sum(r["false"].values()) for r in rule)
    allowed = FALSE_SHARE * baseline
    print(f"\npredict_linear's false-warning runs per seed here: {baseline:.1f}; the cutoff is "
          f"the one with the longest mean lead at ≤ {allowed:.1f} (a tenth of that)")
    print("\ncutoff table with these constants (the cutoff is chosen here, never on 0–9):")
    print("(with the rise gate; per kind: median lead h, and false runs of growth_stops; "
          "predict_linear's own: " + ", ".join(
              f"{k} {v}" for k, v in _per_kind(rule).items()) + ")")
    print(f"{'cutoff':>7} {'mean lead h (missed = 0)':>25} {'missed':>7} {'false runs/seed':>16}"
          "  per kind")
    best = None
    for cutoff in (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6):
        leads, false_runs, scores = [], 0, []
        for scenario, z, gate in zip(scenarios, margins, gates, strict=True):
            warn = warnings_from(limit_fit.probability(z), cutoff,
                                 round(RESOLVE_SECONDS / scenario.step_seconds), gate)
            scored = evaluate(scenario, warn)
            scores.append(scored)
            leads += [x or 0.0 for _, x in scored["leads"]]
            false_runs += sum(scored["false"].values())
        per_seed = false_runs / len(scenarios)
        missed = sum(x == 0.0 for x in leads)
        kinds = ", ".join(f"{k} {v}" for k, v in _per_kind(scores).items())
        print(f"{cutoff:>7.2f} {statistics.mean(leads):>25.2f} {missed:>7} {per_seed:>16.2f}"
              f"  {kinds}")
        if per_seed <= allowed and (best is None or statistics.mean(leads) > best[1]):
            best = (cutoff, statistics.mean(leads))
    if best is not None:
        print(f"\nlongest mean lead with ≤ {allowed:.1f} false-warning runs per seed: "
              f"cutoff {best[0]}")


def _per_kind(scores: list[dict]) -> dict[str, str]:
    """Median lead per failure kind (missed = 0) and the growth_stops false-warning runs."""
    leads: dict[str, list[float]] = {}
    for scored in scores:
        for kind, lead in scored["leads"]:
            leads.setdefault(kind, []).append(lead or 0.0)
    out = {kind: f"{statistics.median(v):.2f}" for kind, v in sorted(leads.items())}
    out["growth_stops"] = str(sum(s["false"].get("growth_stops", 0) for s in scores))
    return out


def _h(lead: float | None) -> str:
    return "-" if lead is None else f"{lead:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fit", action="store_true",
                        help="fit the calibration and print the cutoff table (seeds 100–119)")
    parser.add_argument("--seeds", type=int, default=None,
                        help="report on seeds 0 … N−1 (default 10; 3 with --variants)")
    parser.add_argument("--anomaly-ahead", action="store_true",
                        help="only the reliability of the anomaly-ahead probability "
                             "(seeds 0 … N−1)")
    parser.add_argument("--variants", nargs="?", const="all", metavar="NAMES",
                        help="kizashi vs predict_linear on scenario variants (comma-separated "
                             "names of kizashi.data.precursor_variants.VARIANTS, or all; "
                             "seeds 0 … N−1, 3 unless --seeds)")
    parser.add_argument("--families", action="store_true",
                        help="kizashi vs predict_linear per family of "
                             "kizashi.data.precursor_families (seeds 0 … N−1, 10 unless --seeds)")
    parser.add_argument("--irregular", action="store_true",
                        help="with --families: jittered timestamps, 3 %% of rows dropped")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds FIRST … FIRST+N−1 (--families' held-out check: 10; the "
                             "development seeds: 100)")
    parser.add_argument("--no-warmup-trend", action="store_true",
                        help="kizashi without the warm-up trend line (kizashi predict "
                             "--no-warmup-trend)")
    args = parser.parse_args()
    global WARMUP_TREND
    WARMUP_TREND = not args.no_warmup_trend
    if args.families:
        count = args.seeds or len(REPORT_SEEDS)
        families_report(range(args.first_seed, args.first_seed + count), args.irregular)
    elif args.variants:
        from kizashi.data.precursor_variants import VARIANTS

        names = list(VARIANTS) if args.variants == "all" else args.variants.split(",")
        unknown = [n for n in names if n not in VARIANTS]
        if unknown:
            parser.error(f"unknown variant(s) {', '.join(unknown)}; known: {', '.join(VARIANTS)}")
        variants_report(names, range(args.first_seed, args.first_seed + (args.seeds or 3)))
    elif args.fit:
        fit(FIT_SEEDS)
    elif args.anomaly_ahead:
        anomaly_ahead_reliability(range(args.seeds or len(REPORT_SEEDS)))
    else:
        report(range(args.first_seed, args.first_seed + (args.seeds or len(REPORT_SEEDS))))


if __name__ == "__main__":
    main()
