"""The deep detectors' error-normaliser and aggregation options on SMD; prints a Markdown table.

    .venv/bin/python benchmarks/deep_smd_options.py --detector cnn
    .venv/bin/python benchmarks/deep_smd_options.py --detector autoencoder \\
        --machine machine-1-6 --machine machine-3-3 --protocol omni

Each machine's detector is trained once (its other parameters from ``--param``), then
the same weights are installed into a detector per ``normaliser`` (``discounted``,
``cumulative``, ``fixed``), whose per-metric standardised errors on the test half are
combined across metrics every way (``aggregate``: ``mean``, ``l2``, ``max``; the
autoencoder also ``pooled``; for the univariate ``lstm`` it is how its per-metric
scores combine, as ``kizashi bench smd --aggregate`` does). The test half is scored
as one block from the state after ``fit`` (what streaming gives, but without the
engine's alert protection that ``kizashi bench smd`` adds, which only matters to a
normaliser that learns; ``--engine`` scores through the engine instead, with the
detector's own ``aggregate`` only). The table gives VUS-PR per machine and the mean.

The default machines are the local SMD machines *outside* the six that
``docs/benchmarks.md`` reports (machine-1-6, machine-3-3), with the OmniAnomaly
protocol (they have no TSB-AD training length): the split on which the deep
detectors' defaults are chosen. Needs ``KIZASHI_DATA`` with ``smd/``.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

TUNE_MACHINES = ("machine-1-6", "machine-3-3")
NORMALISERS = ("discounted", "cumulative", "fixed")


def aggregates(detector: str) -> tuple[str, ...]:
    return ("pooled", "mean", "l2", "max") if detector == "autoencoder" else ("mean", "l2", "max")


def combine(scores: np.ndarray, how: str) -> np.ndarray:
    """A univariate detector's per-metric scores as one per row (``kizashi bench smd``'s rule)."""
    if how == "l2":
        return np.sqrt(np.nanmean(np.maximum(scores, 0.0) ** 2, axis=1))
    return np.nanmax(scores, axis=1) if how == "max" else np.nanmean(scores, axis=1)


def machine_rows(name: str, detector: str, params: dict, protocol: str,
                 engine: bool = False) -> dict[tuple, float]:
    """VUS-PR of every option combination on one machine (``engine``: only the
    detector's own ``aggregate``, scored through the engine as ``kizashi bench smd``)."""
    from kizashi.cli.bench_smd import published_vus_pr
    from kizashi.data.smd import load_smd
    from kizashi.detectors.registry import create
    from kizashi.engine.decider import Decider
    from kizashi.engine.stream import DetectorStream
    from kizashi.evaluation.vus import vus_pr

    machine = load_smd(name)
    test, stamps = machine.test.values, machine.test.timestamps
    if protocol == "tsb-ad":
        split = published_vus_pr().get(name, {}).get("tr_N")
        if not split:
            raise SystemExit(f"{name}: no TSB-AD training length; use --protocol omni")
        train, train_t = test[:split], stamps[:split]
    else:
        train, train_t = machine.train.values, machine.train.timestamps
    trained = create(detector, **params).fit(train, train_t)
    state = trained.state_
    labels = machine.test_labels.astype(bool)
    out = {}
    for normaliser in NORMALISERS:
        groups = option_groups(detector)
        if engine and detector != "lstm":
            groups = [params.get("aggregate", create(detector).aggregate)]
        for option in groups:
            extra = {} if detector == "lstm" else {"aggregate": option or "mean"}
            model = create(detector, **{**params, "normaliser": normaliser, **extra})
            model.reset(train.shape[1])
            model._install(state["weights"], state["scale_mean"], state["scale_std"], train,
                           model._timestamps(train_t, train.shape[0]))
            if engine:
                stream = DetectorStream(model, Decider.for_detector(model))
                scores = stream.process(test, stamps).scores.reshape(test.shape[0], -1)
            else:
                scores = per_metric_scores(model, test)
            ways = [h for h in aggregates(detector) if h != "pooled"] if option is None \
                else [option]
            for how in ways:
                row = combine(scores, how) if scores.shape[1] > 1 else scores[:, 0]
                row = np.nan_to_num(row, nan=0.0, posinf=1e12, neginf=-1e12)
                out[(normaliser, how)] = vus_pr(labels, row)
    return out


def option_groups(detector: str) -> list[str | None]:
    """Detector ``aggregate`` settings to score with: ``None`` stands for every
    aggregate, combined here from one set of per-metric scores."""
    return ["pooled", None] if detector == "autoencoder" else [None]


def per_metric_scores(model, test: np.ndarray) -> np.ndarray:
    """The test half's scores ``(time, metrics)`` (``(time, 1)`` for a pooled autoencoder),
    as one block from the state after ``fit`` (the same as streaming; no alert protection)."""
    state = model.state_
    if not model.multivariate:
        return model._score_batch(state, test, None)
    if getattr(model, "aggregate", None) == "pooled":
        return model._score_batch(state, test, None)
    ready, errors = model._errors(state, test)
    if model.network_name == "autoencoder":  # warm-up rows score 0, as in the detector
        errors = np.where((~np.isnan(test).any(axis=1) & ~ready)[:, None], 0.0, errors)
    return model._normalise(state, errors, np.repeat(ready[:, None], errors.shape[1], axis=1))


def main() -> None:
    from kizashi.detectors.registry import parse_param

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--detector", default="cnn", choices=("cnn", "autoencoder", "lstm"))
    parser.add_argument("--machine", action="append", help="default: the tune machines")
    parser.add_argument("--protocol", choices=("omni", "tsb-ad"), default="omni")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--engine", action="store_true",
                        help="score through the engine with its default decider (alert "
                             "protection), only the detector's own aggregate")
    args = parser.parse_args()
    params = {"device": "cpu", **dict(parse_param(p) for p in args.param)}
    machines = args.machine or list(TUNE_MACHINES)
    table = {}
    for name in machines:
        started = time.perf_counter()
        table[name] = machine_rows(name, args.detector, params, args.protocol, args.engine)
        print(f"{name}: {time.perf_counter() - started:.0f} s", flush=True)
    combos = list(table[machines[0]])
    how = "through the engine" if args.engine else "one block, no alert protection"
    print(f"\n{args.detector} {params}, protocol {args.protocol}, {how}: VUS-PR\n")
    print("| normaliser | aggregate | " + " | ".join(machines) + " | mean |")
    print("|---|---|" + "---|" * (len(machines) + 1))
    for combo in combos:
        values = [table[m][combo] for m in machines]
        print(f"| {combo[0]} | {combo[1]} | " + " | ".join(f"{v:.3f}" for v in values)
              + f" | {np.mean(values):.3f} |")


if __name__ == "__main__":
    main()
