"""Plots of the demo report: the centre at a glance, and each incident with every detector."""

from __future__ import annotations

from pathlib import Path

from kizashi.data.cluster import STEPS_PER_DAY, ClusterTelemetry, Incident
from kizashi.report.plots import _pyplot


def plot_overview(telemetry: ClusterTelemetry, runs, path: Path) -> None:
    """Mean CPU with its spread, the queue, incidents and where each detector alerted."""
    plt = _pyplot()
    frame = telemetry.frame
    t = frame.timestamps
    cpu = frame.values[:, [j for j, m in enumerate(frame.metrics) if m == "cpu_util"]]
    queue = frame.column("batch", "pending_jobs")
    fig, axes = plt.subplots(3, 1, figsize=(12, 7), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1, 1.4]})
    axes[0].fill_between(t, cpu.min(axis=1), cpu.max(axis=1), color="#9ecae1", alpha=0.6,
                         lw=0, label="min–max over nodes")
    axes[0].plot(t, cpu.mean(axis=1), color="#1f4e79", lw=0.7, label="mean")
    axes[0].set_ylabel("CPU %")
    axes[1].plot(t, queue, color="#6a51a3", lw=0.7)
    axes[1].set_ylabel("pending jobs")
    quiet = telemetry.quiet_season
    for axis in axes[:2]:
        axis.axvspan(t[quiet[0]], t[quiet[1]], color="#cccccc", alpha=0.35, lw=0)
        for incident in telemetry.incidents:
            axis.axvspan(t[incident.start], t[incident.end], color="#ffbf00", alpha=0.6, lw=0)
    axes[0].legend(loc="lower left", fontsize=7)
    axes[0].set_title("grey: quiet season; amber: incidents", fontsize=9, loc="left")
    _alert_strips(axes[2], t, [r.active.any(axis=1) for r in runs], [r.label for r in runs],
                  "any alert active, per detector")
    _save(plt, fig, path)


def plot_incident(telemetry: ClusterTelemetry, incident: Incident, runs, path: Path) -> None:
    """The first affected series around the incident, and each detector's alerts on it."""
    plt = _pyplot()
    frame = telemetry.frame
    j = frame.keys.index(incident.series[0])
    lo = max(incident.start - STEPS_PER_DAY, 0)
    hi = min(incident.end + STEPS_PER_DAY, frame.n_times - 1)
    t = frame.timestamps[lo:hi + 1]
    columns = [frame.keys.index(k) for k in incident.series]
    fig, axes = plt.subplots(2, 1, figsize=(12, 4.5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1.4]})
    axes[0].plot(t, frame.values[lo:hi + 1, j], color="#1f4e79", lw=0.8)
    axes[0].axvspan(frame.timestamps[incident.start], frame.timestamps[incident.end],
                    color="#ffbf00", alpha=0.35, lw=0)
    axes[0].set_title(f"{incident.series[0][0]} / {incident.series[0][1]} "
                      f"({len(columns)} affected series)", fontsize=9, loc="left")
    _alert_strips(axes[1], t, [r.active[lo:hi + 1][:, columns].any(axis=1) for r in runs],
                  [r.label for r in runs], "alerts on the affected series")
    _save(plt, fig, path)


def _alert_strips(axis, t, alerting, labels, title: str) -> None:
    """One horizontal strip per detector, red where its alert is active."""
    for k, active in enumerate(alerting):
        axis.fill_between(t, k - 0.4, k + 0.4, where=active, color="#d62728", lw=0)
    axis.set_yticks(range(len(labels)), labels, fontsize=8)
    axis.set_ylim(-0.6, len(labels) - 0.4)
    axis.set_title(title, fontsize=9, loc="left")


def _save(plt, fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)
