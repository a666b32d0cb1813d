"""``kizashi bench smd --detector NAME``: a detector on the Server Machine Dataset.

For every machine with a local copy (:func:`kizashi.data.smd.machines`, found through
``KIZASHI_DATA``) the detector is fitted and the test half is scored, then VUS-PR,
AUC-PR, AUC-ROC, the best point-wise F1 and the best event-wise F1 are printed per
machine, next to the VUS-PR that the TSB-AD benchmark publishes for the same
machine (``smd/tsb_ad_vus_pr_smd.csv``).

Two protocols:

``omni`` (default)
    OmniAnomaly's: fit on ``train/``, score ``test/``.
``tsb-ad``
    TSB-AD's, so the published numbers compare like with like: only the test half
    is used, its first ``tr_N`` rows (from TSB-AD's file name) train the detector and
    the whole test half is scored (training rows included).

A univariate detector scores each metric on its own; the per-row score is the
maximum over metrics (``--aggregate``: or their mean, or the root mean square of
their positive parts, ``l2``).

Root cause: ``hitrate_100`` and ``hitrate_150`` are OmniAnomaly's HitRate@100 %/150 %
(:mod:`kizashi.evaluation.interpretation`) of the detector's per-metric attribution
against SMD's interpretation labels, over the detected anomalous rows: labelled rows
whose score reaches the best-F1 threshold (the ``F1`` column's). The attribution is a
multivariate detector's own (:func:`kizashi.engine.causes.attribution_of`), and for a
univariate detector each metric's share of the row's scores through the engine — what
``kizashi detect --explain`` ranks.

``hitrate_100_incident`` and ``hitrate_150_incident`` score the same detected rows
with the ranking of their whole **incident** (the run of consecutive detected rows,
the attribution averaged over it: what ``kizashi detect --incidents`` names,
:func:`kizashi.evaluation.interpretation.incident_attribution`). It reads rows after
the one judged, so it is a separate, hindsight measure, not OmniAnomaly's per-point
HitRate.
"""

from __future__ import annotations

import csv
import re
import time
from pathlib import Path
from typing import Any

import click
import numpy as np

from kizashi.cli.errors import distinct_values, not_empty_path

#: TSB-AD methods shown beside kizashi's numbers (deep ones first, then classical).
PUBLISHED = ("AutoEncoder", "LSTMAD", "USAD", "OmniAnomaly", "CNN", "PCA", "IForest")
#: The hindsight HitRates: each detected row ranked as its whole incident.
INCIDENT_KEYS = ("hitrate_100_incident", "hitrate_150_incident")


def published_vus_pr(root: Path | None = None) -> dict[str, dict[str, Any]]:
    """TSB-AD's per-machine VUS-PR rows (with ``tr_N``) by machine name."""
    from kizashi.data.paths import dataset_dir

    base = root or dataset_dir("smd")
    path = None if base is None else base / "tsb_ad_vus_pr_smd.csv"
    if path is None or not path.exists():
        return {}
    out = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row.get("machine"):
                found = re.search(r"_tr_(\d+)_", row["file"])
                row["tr_N"] = int(found.group(1)) if found else None
                out[row["machine"]] = row
    return out


def evaluate(labels: np.ndarray, scores: np.ndarray) -> dict[str, float]:
    """The metrics of one machine (scores: one per row, no NaN)."""
    from kizashi.evaluation.events import best_event_f1
    from kizashi.evaluation.pointwise import auc_pr, auc_roc, best_f1
    from kizashi.evaluation.vus import vus_pr

    labels = labels.astype(bool)
    return {"vus_pr": vus_pr(labels, scores), "auc_pr": auc_pr(labels, scores),
            "auc_roc": auc_roc(labels, scores), "f1": best_f1(labels, scores).f1,
            "event_f1": best_event_f1(labels, scores).f1}


def score_machine(name: str, detector: str, params: dict[str, Any], protocol: str,
                  aggregate: str, published: dict[str, Any] | None,
                  protect: bool | None = None) -> tuple[np.ndarray, np.ndarray, float,
                                                        dict[str, Any]]:
    """Row scores and labels of one machine, the seconds it took, and its HitRates."""
    from kizashi.data.smd import load_smd
    from kizashi.detectors.registry import create
    from kizashi.engine.causes import attribution_of, shares_of
    from kizashi.engine.decider import Decider
    from kizashi.engine.stream import DetectorStream

    machine = load_smd(name)
    started = time.perf_counter()
    model = create(detector, **params)
    test, stamps = machine.test.values, machine.test.timestamps
    if protocol == "tsb-ad":
        from kizashi.evaluation.splits import SMD_TUNE_MACHINES, tsb_ad_train_rows

        split = (published or {}).get("tr_N")
        if not split and name in SMD_TUNE_MACHINES:
            split = tsb_ad_train_rows(machine.test_labels)  # TSB-AD's rule, no published row
        if not split:
            raise ValueError(f"{name}: TSB-AD has no training length for this machine; "
                             "use --protocol omni")
        model.fit(test[:split], stamps[:split])
    else:
        model.fit(machine.train.values, machine.train.timestamps)
    # a multivariate detector's own attribution, from the fitted state (left unchanged)
    attribution = attribution_of(model, test, stamps) if model.multivariate else None
    # Through the engine (the decider protects the baseline during alerts); VUS and AUC
    # rank the raw scores. As TSB-AD does, its training rows are scored too.
    stream = DetectorStream(model, Decider.for_detector(model, protect=protect))
    scores = stream.process(test, stamps).scores
    if not model.multivariate:
        scores = scores.reshape(test.shape[0], -1)
        # a univariate detector's per-metric scores through the engine (the baseline
        # protected during alerts), as `kizashi detect --explain` ranks causes
        attribution = shares_of(np.nan_to_num(scores, nan=0.0))
    if scores.shape[1] > 1 and aggregate == "l2":  # root mean square of the positive parts
        with np.errstate(over="ignore"):
            scores = np.sqrt(np.nanmean(np.maximum(scores, 0.0) ** 2, axis=1))
    elif scores.shape[1] > 1:
        scores = np.nanmax(scores, axis=1) if aggregate == "max" else np.nanmean(scores, axis=1)
    else:
        scores = scores[:, 0]
    scores = np.nan_to_num(scores, nan=0.0, posinf=1e12, neginf=-1e12)
    rates = interpretation(machine.test_labels, scores, attribution, machine.segments)
    return scores, machine.test_labels, time.perf_counter() - started, rates


def interpretation(labels: np.ndarray, scores: np.ndarray, attribution: np.ndarray,
                   segments: list) -> dict[str, Any]:
    """HitRate@100 %/150 % over the labelled rows the best-F1 threshold detects."""
    from kizashi.evaluation.interpretation import hit_rates, incident_attribution
    from kizashi.evaluation.pointwise import best_f1

    threshold = best_f1(labels.astype(bool), scores).threshold
    detected = scores >= threshold
    rates = hit_rates(attribution, segments, detected=detected)
    # hindsight: each detected row ranked as its whole incident (a separate measure)
    whole = hit_rates(incident_attribution(attribution, detected), segments, detected=detected)
    rates.update({f"{key}_incident": whole[key] for key in ("hitrate_100", "hitrate_150")})
    return rates


def markdown(rows: list[dict[str, Any]], detector: str) -> str:
    head = ["machine", f"{detector} VUS-PR", "AUC-PR", "AUC-ROC", "F1", "event F1",
            "HitRate@100%", "HitRate@150%", "incident @100%", "incident @150%", "s",
            *(f"TSB-AD {m}" for m in PUBLISHED)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["machine"], *(f"{row[k]:.3f}" for k in
                                   ("vus_pr", "auc_pr", "auc_roc", "f1", "event_f1",
                                    "hitrate_100", "hitrate_150")),
                 *(f"{row[k]:.3f}" if k in row else "–" for k in INCIDENT_KEYS),
                 f"{row['seconds']:.0f}",
                 *(row["published"].get(m, "") or "–" for m in PUBLISHED)]
        lines.append("| " + " | ".join(cells) + " |")
    if len(rows) > 1:
        mean = {k: np.nanmean([r[k] for r in rows]) for k in
                ("vus_pr", "auc_pr", "auc_roc", "f1", "event_f1", "hitrate_100",
                 "hitrate_150", "seconds")}
        incident = [f"**{np.nanmean([r[k] for r in rows]):.3f}**"
                    if all(k in r for r in rows) else "–" for k in INCIDENT_KEYS]
        pub = []
        for m in PUBLISHED:
            values = [float(r["published"][m]) for r in rows if r["published"].get(m)]
            pub.append(f"{np.mean(values):.3f}" if len(values) == len(rows) else "–")
        lines.append("| **mean** | " + " | ".join(f"**{mean[k]:.3f}**" for k in
                                                    ("vus_pr", "auc_pr", "auc_roc", "f1",
                                                     "event_f1", "hitrate_100",
                                                     "hitrate_150"))
                     + " | " + " | ".join(incident)
                     + f" | {mean['seconds']:.0f} | " + " | ".join(pub) + " |")
    return "\n".join(lines)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--detector", default=None,
              help="A registered detector name (default: the default detector).")
@click.option("--param", "params", multiple=True, metavar="KEY=VALUE",
              help="A detector parameter (repeatable).")
@click.option("--machine", "machine_names", multiple=True, callback=distinct_values,
              help="Only this machine (repeatable; default: every local one).")
@click.option("--protocol", type=click.Choice(["omni", "tsb-ad"]), default="omni",
              show_default=True, help="omni: fit on train/, score test/; tsb-ad: TSB-AD's split.")
@click.option("--aggregate", type=click.Choice(["max", "mean", "l2"]), default="max",
              show_default=True, help="Per-row score of a univariate detector.")
@click.option("--protect/--no-protect", default=None,
              help="Keep alerting steps out of the baseline (default: the detector's own).")
@click.option("--json", "json_path", type=click.Path(dir_okay=False), callback=not_empty_path,
              help="Also write the per-machine numbers here (a .json file).")
@click.option("--split", type=click.Choice(["reported", "tune"]), default="reported",
              show_default=True,
              help="reported: the machines given (default: every local one); tune: the local "
                   "machines outside the six reported with TSB-AD's protocol, where parameters "
                   "are chosen (TSB-AD's training-length rule where none is published).")
def smd(detector: str | None, params: tuple[str, ...], machine_names: tuple[str, ...],
        protocol: str, aggregate: str, protect: bool | None, json_path: Path | None,
        split: str) -> None:
    """Server Machine Dataset: VUS-PR, AUC-PR, AUC-ROC, F1, event F1 and root-cause
    HitRate@100 %/150 % per machine, beside TSB-AD's published VUS-PR."""
    from kizashi.cli.bench import check_outputs, usage_checked_params
    from kizashi.data.smd import machines
    from kizashi.detectors.registry import DEFAULT_DETECTOR
    from kizashi.evaluation.splits import SMD_TUNE_MACHINES, describe

    detector = detector or DEFAULT_DETECTOR
    parsed = usage_checked_params(detector, params)
    check_outputs(json_path)
    try:
        if split == "tune" and machine_names:
            raise ValueError("--split tune chooses its own machines: leave out --machine")
        names = list(SMD_TUNE_MACHINES) if split == "tune" else \
            (list(machine_names) or machines())
        if not names:
            from kizashi.data.paths import dataset_dir, dataset_root

            local, root = dataset_dir("smd"), dataset_root()
            raise ValueError(f"{local / 'train'} holds no machine files (machine-1-1.txt, …)"
                             if local is not None else
                             f"no local SMD copy: KIZASHI_DATA={root} has no smd/ folder"
                             if root is not None else
                             "no local SMD copy: set KIZASHI_DATA to a folder with smd/")
        published = published_vus_pr()
        rows = []
        for name in names:
            scores, labels, seconds, rates = score_machine(
                name, detector, parsed, protocol, aggregate, published.get(name), protect)
            row = {"machine": name, **evaluate(labels, scores), **rates, "seconds": seconds,
                   "published": {m: published.get(name, {}).get(m, "") for m in PUBLISHED}}
            rows.append(row)
            click.echo(f"{name}: VUS-PR {row['vus_pr']:.3f}  AUC-PR {row['auc_pr']:.3f}  "
                       f"HitRate@150% {row['hitrate_150']:.3f} (incident "
                       f"{row['hitrate_150_incident']:.3f})  ({seconds:.0f} s)", err=True)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"SMD, protocol {protocol}, detector {detector} {parsed or ''}".rstrip())
    click.echo(markdown(rows, detector))
    click.echo(describe("smd", split))
    if json_path is not None:
        from kizashi.cli.json_output import write_json

        write_json(json_path, rows)  # strict JSON: NaN as null
