"""Ways to warn less on ``steps_plateau`` and ``leak_restarted``, and what each costs.

Prints a table (it is not a test). kizashi raises more false-warning runs than the
``predict_linear(metric[6h], 6h) >= limit`` rule on two look-alike families of
:mod:`kizashi.data.precursor_families` (``benchmarks/prediction_lookalikes.py``). Each
option below is a change to the warning step of :func:`kizashi.prediction.predictor.
predict_frame` (the probabilities are the same); the table gives, per development set,
the mean lead (a missed failure counts 0 h), missed failures, false-warning runs in all
and on the two families, and the hours of warning on look-alikes (runs merge only by
warning longer)::

    .venv/bin/python benchmarks/prediction_lookalike_options.py      # development seeds

Options:

* ``current`` — kizashi as it is;
* ``resolve_2.5h``, ``resolve_3h`` — the warning ends after 2.5 h / 3 h without support
  instead of 2 h (``RESOLVE_SECONDS``);
* ``hold_probability`` — a warning, once raised, goes on while the probability stays
  at the cutoff, the rise gate closed;
* ``hold_6h_line`` — it goes on while the 6 h line (the rule's own test) reaches the limit;
* ``one_reset`` — the cycle gate takes one reset within 2 days, not two, as a cycling
  series (:class:`~kizashi.prediction.cycle_gate.CycleGate` ``resets=1``).

Sets (development only; the reported seeds 0–9 and 10–19 play no part): the families'
seeds 0–2, the scenario variants ``default`` and ``fast_2h`` at their fit seeds 100–104,
and ``leak_after_restart`` (:mod:`kizashi.data.precursor_families`): a leak (12, 24,
36 h) to 85 / 89 / 93 %, a restart, 12 or 24 h later the same leak again, this time to
the limit — what ``one_reset`` would hold back (lead of kizashi per option; the rule's
below).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from unittest import mock

import numpy as np

import kizashi.prediction.predictor as predictor
from kizashi.data.frame import SeriesFrame
from kizashi.data.precursor_families import generate_families, leak_after_restart
from kizashi.data.precursor_variants import make_variant
from kizashi.decision.alert_filter import AlertFilter
from kizashi.prediction.cycle_gate import CycleGate
from kizashi.prediction.predict_linear import predict_linear
from prediction import HORIZON, evaluate, prometheus_warnings, runs

FAMILIES = ("steps_plateau", "leak_restarted")


def _captured(frame: SeriesFrame, limits: dict[str, float], resets: int) -> dict:
    """The inputs of the warning step of ``predict_frame`` (one regular grid)."""
    got: dict = {}
    real = predictor.warnings_from

    def spy(probability, cutoff, resolve_steps, gate=None, also=None):
        got.update(probability=probability, cutoff=cutoff, resolve=resolve_steps,
                   gate=gate, also=also)
        return real(probability, cutoff, resolve_steps, gate, also)

    def gate_for(step: float, horizon_steps: int) -> CycleGate:
        g = real_gate_for(step, horizon_steps)
        return CycleGate(g.segment, g.horizon, g.memory, resets=resets)

    real_gate_for = predictor.cycle_gate_for
    with mock.patch.object(predictor, "warnings_from", spy), \
            mock.patch.object(predictor, "cycle_gate_for", gate_for):
        result = predictor.predict_frame(frame, HORIZON, limits)
    if got["probability"].shape != result.warning.shape:
        raise RuntimeError("a frame with missing rows: the captured grid is not the output's")
    got["warning"] = result.warning
    return got


def _start(d: dict) -> np.ndarray:
    return ((d["probability"] >= d["cutoff"]) | d["also"]) & d["gate"]


def _hold(start: np.ndarray, keep: np.ndarray, resolve: int) -> np.ndarray:
    """On at a start; then on while ``keep`` (or a start) came within ``resolve`` steps."""
    out = np.zeros_like(start)
    on = np.zeros(start.shape[1], dtype=bool)
    quiet = np.zeros(start.shape[1], dtype=np.int64)
    for t in range(start.shape[0]):
        quiet = np.where(keep[t] | start[t], 0, quiet + 1)
        on = start[t] | (on & (quiet < resolve))
        out[t] = on
    return out


def _resolve(hours: float) -> Callable:
    def rule(d: dict, frame: SeriesFrame, line: np.ndarray, step: float) -> np.ndarray:
        return AlertFilter(min_steps=1, resolve_steps=round(hours * 3600 / step)).apply(
            _start(d))
    return rule


OPTIONS: dict[str, Callable] = {
    "current": lambda d, frame, line, step: d["warning"],
    "resolve_2.5h": _resolve(2.5),
    "resolve_3h": _resolve(3.0),
    "hold_probability": lambda d, frame, line, step: _hold(
        _start(d), d["probability"] >= d["cutoff"], d["resolve"]),
    "hold_6h_line": lambda d, frame, line, step: _hold(_start(d), line, d["resolve"]),
    "one_reset": lambda d, frame, line, step: d["one_reset"],
}


def _leads(warning: np.ndarray, spans: list[tuple[int, int]], per_hour: float) -> list[float]:
    return [(f - s - int(np.argmax(warning[s:f, j]))) / per_hour if warning[s:f, j].any()
            else 0.0 for j, (s, f) in enumerate(spans)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family-seeds", default="0,1,2")
    parser.add_argument("--fit-seeds", default="100,101,102,103,104")
    args = parser.parse_args()
    sets: dict[str, list] = {"families": [generate_families(seed=int(s))
                                          for s in args.family_seeds.split(",")]}
    for name in ("default", "fast_2h"):
        sets[name] = [make_variant(name, int(s)) for s in args.fit_seeds.split(",")]
    print(f"families seeds {args.family_seeds}; default and fast_2h seeds {args.fit_seeds}. "
          "lead h (mean, missed counted 0), missed, false-warning runs: all / steps_plateau / "
          "leak_restarted; hours of warning on look-alikes: all / steps_plateau / "
          "leak_restarted\n")
    print(f"{'set':<10} {'option':<17} {'lead':>6} {'missed':>6} {'runs':>5} {'steps':>5} "
          f"{'leak':>5} {'hours':>6} {'steps':>6} {'leak':>6}")
    for name, scenarios in sets.items():
        captured = []
        for sc in scenarios:
            d = _captured(sc.frame, sc.limits, 2)
            d["one_reset"] = _captured(sc.frame, sc.limits, 1)["warning"]
            captured.append(d)
        for option in [*OPTIONS, "the rule"]:
            leads, missed, false, hours = [], 0, {}, {}
            for sc, d in zip(scenarios, captured, strict=True):
                line = prometheus_warnings(sc)
                warning = line if option == "the rule" else OPTIONS[option](
                    d, sc.frame, line, sc.step_seconds)
                scored = evaluate(sc, warning)
                leads += [lead or 0.0 for _, lead in scored["leads"]]
                missed += sum(lead is None for _, lead in scored["leads"])
                for kind, count in scored["false"].items():
                    false[kind] = false.get(kind, 0) + count
                keys = sc.frame.keys
                for entity, metric, kind in sc.lookalikes:
                    j = keys.index((entity, metric))
                    hours[kind] = hours.get(kind, 0.0) + sum(
                        b - a for a, b in runs(warning[:, j])) * sc.step_seconds / 3600
            print(f"{name:<10} {option:<17} {np.mean(leads):>6.2f} {missed:>6} "
                  f"{sum(false.values()):>5} {false.get(FAMILIES[0], 0):>5} "
                  f"{false.get(FAMILIES[1], 0):>5} {sum(hours.values()):>6.0f} "
                  f"{hours.get(FAMILIES[0], 0.0):>6.0f} {hours.get(FAMILIES[1], 0.0):>6.0f}")
    frame, spans = leak_after_restart()
    seconds = frame.epoch_seconds
    rule = predict_linear(seconds, frame.values, HORIZON, HORIZON) >= 100.0
    print(f"\nleak_after_restart ({len(spans)} leaks after a restart, to 100): lead h, mean / "
          "least")
    for option, resets in (("current", 2), ("one_reset", 1)):
        d = _captured(frame, {}, resets)
        lead = _leads(d["warning"], spans, 12.0)
        print(f"  {option:<10} {np.mean(lead):.2f} / {min(lead):.2f}")
    lead = _leads(rule, spans, 12.0)
    print(f"  {'the rule':<10} {np.mean(lead):.2f} / {min(lead):.2f}")


if __name__ == "__main__":
    main()
