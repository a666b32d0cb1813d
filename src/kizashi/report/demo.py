"""The demo: run the available detectors on generated cluster telemetry and report verdicts.

For each injected incident the report says which detectors raised an alert on
an affected series during it, and how long after its start; for each detector
it counts false alerts (alerts on series and times with no incident), also
within the quiet season, where a fixed threshold misfires.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kizashi.data.cluster import STEP_SECONDS, ClusterTelemetry, generate_cluster
from kizashi.detectors.registry import DETECTORS, get_class
from kizashi.lazy import import_target

#: Bounds an operator would set by hand, per metric (the static threshold's parameters).
STATIC_BOUNDS = {
    "cpu_util": {"low": 12.0, "high": 98.0},
    "fs_latency_ms": {"high": 25.0},
    "daemon_restarts": {"high": 1.5},
    "pending_jobs": {"high": 400.0},
}
#: Floors under σ for the z-score detectors: restarts are sparse counts, and one
#: restart should not look infinitely odd because the usual spread is ~0.
MIN_STD = {"daemon_restarts": 0.5}
#: Grace after an incident during which alerts still count as about it (aftermath).
GRACE_STEPS = 24


@dataclass
class DetectorRun:
    """One detector's alerts over the whole frame."""

    label: str
    name: str
    cutoff: str
    scores: np.ndarray
    flags: np.ndarray
    active: np.ndarray
    seconds: float
    verdicts: dict[str, tuple[bool, float | None]] = field(default_factory=dict)
    false_alerts: int = 0
    false_alerts_quiet: int = 0


#: Small networks for the deep detectors: the demo shows the decision, not a tuned model.
DEEP_PARAMS = {
    "lstm": {"window": 12, "hidden": 16, "epochs": 3, "max_samples": 20000, "device": "cpu"},
    "autoencoder": {"window": 12, "hidden": 16, "latent": 4, "epochs": 3,
                    "max_samples": 5000, "device": "cpu"},
    "cnn": {"window": 12, "channels": 16, "layers": 2, "epochs": 3, "max_samples": 5000,
            "device": "cpu"},
}


def demo_detectors() -> list[tuple[str, str, dict[str, Any], str]]:
    """(label, registry name, params, cutoff) for every detector the demo runs.

    The threshold family with settings an operator would use, then every other
    registered detector with its defaults — the deep ones too when PyTorch is
    installed (trained on the first 30 % of the month, the engine's rule) — all
    with the engine's default, calibrated decision.
    """
    runs: list[tuple[str, str, dict[str, Any], str]] = [
        ("static bounds", "static_threshold", {}, "default"),
        ("rolling mean ± k·σ", "threshold", {}, "default"),
        ("rolling quantile", "quantile_threshold", {}, "default"),
        ("seasonal baseline", "seasonal_threshold", {}, "default"),
    ]
    import importlib.util

    from kizashi.detectors.deep.network_detector import NetworkDetector

    has_torch = importlib.util.find_spec("torch") is not None
    seen = {get_class(name) for _, name, _, _ in runs}
    for name in DETECTORS:
        try:
            cls = get_class(name)
        except ImportError:
            continue
        if cls in seen or (issubclass(cls, NetworkDetector) and not has_torch):
            continue  # the deep detectors need the dl extra
        seen.add(cls)
        runs.append((name, name, dict(DEEP_PARAMS.get(name, {})), "default"))
    return runs


def run_demo(out_dir: str | Path, n_nodes: int = 32, days: int = 35, seed: int = 0,
             progress: bool = True, names: list[str] | None = None) -> Path:
    """Generate telemetry, run the detectors, write ``report.html`` and its plots.

    ``names`` limits the run to those registry names (default: all of
    :func:`demo_detectors`).
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    telemetry = generate_cluster(n_nodes=n_nodes, days=days, seed=seed)
    runs = []
    plan = [p for p in demo_detectors() if names is None or p[1] in names]
    if not plan:
        raise ValueError(f"none of {names} is a detector the demo can run")
    for label, name, params, cutoff in tqdm(plan, desc="detectors", disable=not progress):
        started = time.perf_counter()
        scores, flags, active = score_by_metric(telemetry, name, params, cutoff)
        run = DetectorRun(label, name, decision_text(name, params, cutoff), scores, flags,
                          active, time.perf_counter() - started)
        judge(run, telemetry)
        runs.append(run)
    write_report(out, telemetry, runs)
    import_target("kizashi.report.demo_prediction:add_prediction_section")(out, telemetry, seed)
    import_target("kizashi.report.demo_centre:add_centre_section")(out, seed)
    return out / "report.html"


def decision_text(name: str, params: dict[str, Any], cutoff: str) -> str:
    """How the engine decides for detector ``name``: the calibration and the cutoff.

    >>> decision_text("threshold", {}, "default"), decision_text("sst", {}, "default")
    ('own scale > 3', 'likelihood > 0.5')
    """
    from kizashi.detectors.registry import create
    from kizashi.engine.decider import Decider

    decider = Decider.for_detector(create(name, **params), cutoff=cutoff)
    try:
        threshold = f"{float(decider.default_thresholds(1)[0]):.3g}"
    except ValueError:
        threshold = cutoff
    if decider.rule.kind == "quantile":
        threshold = str(decider.rule)
    scale = "own scale" if decider.resolved_calibration == "none" else \
        decider.resolved_calibration
    return f"{scale} > {threshold}"


def score_by_metric(telemetry: ClusterTelemetry, name: str, params: dict[str, Any],
                    cutoff: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels, steps above the cutoff and active alerts of every series, through the engine.

    A univariate detector runs once per metric (its parameters may depend on the
    metric); a multivariate one once over each node's metrics, and its alerts
    count on every series of that node. Alerts fire after 2 steps (10 min)
    above the cutoff and resolve after 3 below it.
    """
    from kizashi.engine.batch import score_frame

    frame = telemetry.frame
    shape = frame.values.shape
    levels, above, active = np.full(shape, np.nan), np.zeros(shape, bool), np.zeros(shape, bool)
    decision = {"cutoff": cutoff, "min_steps": 2, "resolve_steps": 3}
    if get_class(name).multivariate:
        result = score_frame(frame, name, params, decision=decision)
        for k, entity in enumerate(result.entities):
            columns = [j for j, e in enumerate(frame.entities) if e == entity]
            levels[:, columns] = result.levels[:, [k]]
            above[:, columns] = (result.levels[:, [k]] > result.cutoffs[k])
            active[:, columns] = result.flags[:, [k]]
        return levels, above, active
    for metric in frame.unique_metrics():
        columns = [j for j, m in enumerate(frame.metrics) if m == metric]
        metric_params = dict(params)
        if name == "static_threshold":
            metric_params.update(STATIC_BOUNDS[metric])
        elif metric in MIN_STD and "min_std" in get_class(name)().get_params():
            metric_params["min_std"] = MIN_STD[metric]
        result = score_frame(frame.take(columns), name, metric_params, decision=decision)
        levels[:, columns] = result.levels
        with np.errstate(invalid="ignore"):
            above[:, columns] = result.levels > result.cutoffs
        active[:, columns] = result.flags
    return levels, above, active


def judge(run: DetectorRun, telemetry: ClusterTelemetry) -> None:
    """Fill in the verdict per incident and the false-alert counts."""
    frame = telemetry.frame
    keys = frame.keys
    for incident in telemetry.incidents:
        columns = [keys.index(k) for k in incident.series]
        window = run.active[incident.start: incident.end + 1, columns].any(axis=1)
        if window.any():
            delay = int(np.argmax(window)) * STEP_SECONDS / 60.0
            run.verdicts[incident.name] = (True, delay)
        else:
            run.verdicts[incident.name] = (False, None)
    # An alert is false when its run of active steps touches no incident (plus grace).
    explained = frame.labels.copy()
    for incident in telemetry.incidents:
        for key in incident.series:
            j = keys.index(key)
            explained[incident.end: incident.end + GRACE_STEPS + 1, j] = True
    # The incidents stall every node's CPU too: alerts there are true, not false.
    for incident in telemetry.incidents:
        if incident.name in ("filesystem-hang", "tape-staging-wait"):
            cpu = [j for j, m in enumerate(frame.metrics) if m == "cpu_util"]
            explained[incident.start: incident.end + GRACE_STEPS + 1, cpu] = True
    quiet0 = telemetry.quiet_season[0]
    for j in range(frame.n_series):
        edges = np.diff(np.r_[0, run.active[:, j].astype(np.int8), 0])
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1),
                               strict=True):
            if not explained[start:stop, j].any():
                run.false_alerts += 1
                run.false_alerts_quiet += int(start >= quiet0)


def write_report(out: Path, telemetry: ClusterTelemetry, runs: list[DetectorRun]) -> None:
    """report.html with a verdict table, false alerts, and one plot per incident."""
    from kizashi.report import demo_diagnosis
    from kizashi.report.demo_plots import plot_incident, plot_overview

    plot_overview(telemetry, runs, out / "overview.png")
    images = []
    for incident in telemetry.incidents:
        path = out / f"incident-{incident.name}.png"
        plot_incident(telemetry, incident, runs, path)
        images.append((incident, path.name))

    e = html.escape
    head = "".join(f"<th>{e(r.label)}</th>" for r in runs)
    rows = []
    for incident in telemetry.incidents:
        cells = []
        for run in runs:
            found, delay = run.verdicts[incident.name]
            cells.append(f'<td class="hit">alert after {delay:.0f} min</td>' if found
                         else '<td class="miss">missed</td>')
        when = telemetry.frame.timestamps[incident.start].astype("datetime64[m]")
        rows.append(f"<tr><th>{e(incident.name)}<br><small>{e(incident.description)}<br>"
                    f"{when} UTC</small></th>{''.join(cells)}</tr>")
    false_row = "".join(f"<td>{r.false_alerts}</td>" for r in runs)
    quiet_row = "".join(f"<td>{r.false_alerts_quiet}</td>" for r in runs)
    time_row = "".join(f"<td>{r.seconds:.1f} s</td>" for r in runs)
    cutoff_row = "".join(f"<td>{e(r.cutoff)}</td>" for r in runs)
    frame = telemetry.frame
    figures = "".join(
        f'<h3>{e(i.name)}</h3><p>{e(i.description)}</p><img src="{e(p)}" alt="{e(i.name)}">'
        for i, p in images)
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>kizashi demo report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em; max-width: 1200px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 0.35em 0.6em; text-align: center; }}
th small {{ font-weight: normal; color: #555; }}
td.hit {{ background: #e3f4e1; }} td.miss {{ background: #fbe3e3; }}
img {{ max-width: 100%; border: 1px solid #eee; }}
</style></head><body>
<h1>kizashi demo: {frame.n_series} series of a {len(set(frame.entities)) - 1}-node centre</h1>
<p>{frame.n_times} five-minute steps from {frame.timestamps[0].astype('datetime64[D]')} to
{frame.timestamps[-1].astype('datetime64[D]')}, generated with a fixed seed. A quiet season
lowers CPU utilisation from {frame.timestamps[telemetry.quiet_season[0]].astype('datetime64[D]')}
on. An alert fires after 2 consecutive flagged steps (10 min) and resolves after 3 clear ones.
</p>
<h2>Verdicts per incident</h2>
<table><tr><th>incident</th>{head}</tr>{''.join(rows)}
<tr><th>false alerts (whole run)</th>{false_row}</tr>
<tr><th>false alerts in the quiet season</th>{quiet_row}</tr>
<tr><th>decision (the engine's default)</th>{cutoff_row}</tr>
<tr><th>run time</th>{time_row}</tr></table>
<h2>The centre at a glance</h2><img src="overview.png" alt="overview">
<h2>Incidents</h2>{figures}
{demo_diagnosis.section(out, telemetry, runs)}
</body></html>
"""
    (out / "report.html").write_text(page, encoding="utf-8")
