"""The demo report's diagnosis sections: grouped incidents with causes and types, and logs.

:func:`section` adds to ``report.html``:

* **Incidents, grouped and explained** — the rolling mean ± k·σ detector's alerts
  on every series grouped into incidents (:mod:`kizashi.engine.grouping`), each
  with its summary, ranked causes (metrics and nodes) and anomaly type, for the
  incidents that overlap an injected one; and how many alerts became how many
  incidents over the whole run;
* **Logs** — the centre's generated logs (:mod:`kizashi.data.cluster_logs`,
  written beside the report as ``demo-lsf.log``) read by the ``logs`` source's
  reader (Drain3 templates counted per node and 5 minutes) and scored by the
  same engine: when the batch daemon's restart loop is caught, and how long
  before the first metric alert on that node.
"""

from __future__ import annotations

import html
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = ["diagnose_demo", "logs_demo", "section"]

#: The alerting rule of the demo (2 steps to fire, 3 to resolve).
DECISION = {"min_steps": 2, "resolve_steps": 3}
#: Log counts: a spread of at least one line, so a few lines more than usual are no anomaly.
LOG_PARAMS = {"min_std": 1.0}


def diagnose_demo(telemetry: Any, runs: list[Any]) -> tuple[list[Any], int]:
    """Grouped, explained incidents of the threshold detector, and its alert count."""
    from kizashi.engine.batch import incidents
    from kizashi.engine.diagnosis import diagnose
    from kizashi.report.demo import score_by_metric

    frame = telemetry.frame
    run = next((r for r in runs if r.name == "threshold"), None)
    if run is None:
        levels, _, active = score_by_metric(telemetry, "threshold", {}, "default")
    else:
        levels, active = run.scores, run.active
    alerts = incidents(active, levels)
    result = SimpleNamespace(entities=frame.entities, metrics=frame.metrics, levels=levels,
                             incidents=alerts, attribution=None, values=frame.values,
                             flags=active, timestamps=frame.timestamps)
    return diagnose(result, frame), len(alerts)


def logs_demo(telemetry: Any, out: Path | None = None, seed: int = 0) -> dict[str, Any]:
    """Generate the centre's logs, detect on them, and time the restart loop's alert."""
    from kizashi.data.cluster import STEP_SECONDS
    from kizashi.data.cluster_logs import generate_cluster_logs, loop_start
    from kizashi.data.logs import logs_to_frame
    from kizashi.engine.batch import score_frame
    from kizashi.engine.diagnosis import diagnose

    lines = generate_cluster_logs(telemetry, seed=seed)
    if out is not None:
        (out / "demo-lsf.log").write_text("\n".join(lines) + "\n", encoding="utf-8")
    frame = logs_to_frame(lines, step=STEP_SECONDS, format="iso", name="demo-lsf.log")
    result = score_frame(frame, "threshold", LOG_PARAMS, decision=DECISION)
    found = diagnose(result, frame)
    loop = next((i for i in telemetry.incidents if i.name == "daemon-restart-loop"), None)
    caught, caught_at = None, None
    if loop is not None:
        node = loop.series[0][0]
        begin = loop_start(telemetry)
        for d in found:
            hits = [m.start for m in d.group.members if begin <= m.start <= loop.end and
                    result.entities[m.series] == node and "restarted" in result.metrics[m.series]]
            if hits:
                caught, caught_at = d, min(hits)
                break
    offset = int(frame.epoch_seconds[0] - telemetry.frame.epoch_seconds[0]) // STEP_SECONDS
    return {"lines": len(lines), "templates": len(set(frame.metrics)),
            "series": frame.n_series, "incidents": found, "caught": caught, "loop": loop,
            "caught_at": None if caught_at is None else caught_at + offset}


def _row(d: Any, when: str, injected: str) -> str:
    e = html.escape
    return (f"<tr><td>{e(when)}</td><td>{e(injected)}</td><td>{e(d.summary)}</td>"
            f"<td>{len(d.group.members)}</td><td>{e(d.type.replace('_', ' '))}</td>"
            f"<td style='text-align:left'>{e(d.causes_text())}</td></tr>")


def section(out: Path, telemetry: Any, runs: list[Any]) -> str:
    """The HTML of the diagnosis sections (see the module docs)."""
    from kizashi.data.cluster import STEP_SECONDS

    frame = telemetry.frame
    found, n_alerts = diagnose_demo(telemetry, runs)
    rows = []
    keys = frame.keys
    for incident in telemetry.incidents:
        series = {keys.index(k) for k in incident.series}
        for d in found:  # the incidents with an alert on a series of the injected one, in it
            if any(m.series in series and incident.start - 2 <= m.start <= incident.end
                   for m in d.group.members):
                when = str(frame.timestamps[d.group.start].astype("datetime64[m]"))
                rows.append(_row(d, when, incident.name))
    logs = logs_demo(telemetry, out)
    caught, loop = logs["caught"], logs["loop"]
    if loop is None:
        verdict = "no restart loop in this run."
    elif caught is None:
        verdict = "the restart loop was <b>not</b> caught in the logs."
    else:
        start = logs["caught_at"]
        when = frame.timestamps[start].astype("datetime64[m]")
        node = loop.series[0][0]
        columns = [j for j, (e, _) in enumerate(frame.keys) if e == node]
        metric_alerts = [r for r in runs if r.name == "threshold"]
        first_metric = None
        if metric_alerts:
            active = metric_alerts[0].active[loop.start - 24: loop.end + 1, columns].any(axis=1)
            first_metric = loop.start - 24 + int(np.argmax(active)) if active.any() else None
        lead = "" if first_metric is None else \
            f", {(first_metric - start) * STEP_SECONDS / 60:.0f} min before the first metric " \
            f"alert on {html.escape(node)}"
        verdict = (f"the restart loop on {html.escape(node)} was caught at {when} UTC "
                   f"({html.escape(caught.summary)}; causes: "
                   f"{html.escape(caught.causes_text())}){lead}; its CPU and restart count "
                   f"change at {frame.timestamps[loop.start].astype('datetime64[m]')} UTC.")
    others = len(logs["incidents"]) - (caught is not None)
    return f"""
<h2>Incidents, grouped and explained</h2>
<p>The rolling mean ± k·σ detector raised {n_alerts} alerts on single series over the run;
grouped by start time (alerts starting within 6 steps of an open incident join it) they are
{len(found)} incidents. Those overlapping an injected incident, with their ranked causes
(each metric's calibrated level over the incident, summed over its nodes) and type
(tests of the segment against the steps before it):</p>
<table><tr><th>start (UTC)</th><th>injected incident</th><th>summary</th><th>alerts</th>
<th>type</th><th>causes</th></tr>{''.join(rows)}</table>
<h2>Logs</h2>
<p>{logs['lines']} generated log lines (<a href="demo-lsf.log">demo-lsf.log</a>) mined by Drain3
into {logs['templates']} templates and counted per node and 5 minutes ({logs['series']} series),
scored by the same detector and decision: {verdict} Other log incidents over the run:
{others}.</p>
"""
