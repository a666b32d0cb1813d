"""The demo report's prediction section: a warning ahead of a memory leak's OOM.

The demo centre's nodes also report memory use; on one node a leak builds
for a day or two and ends in an OOM kill, and two nodes have a scratch area
that fills every day and is emptied at night (a look-alike). ``kizashi
predict`` (6 h ahead) and Prometheus' ``predict_linear(mem[6h], 6h) >= 100``
rule run on the same series; the section shows when each first warned
before the OOM and how many warnings each raised where nothing failed.

>>> from kizashi.data.cluster import generate_cluster
>>> telemetry = generate_cluster(n_nodes=4, days=8, seed=2)
>>> demo = prediction_demo(telemetry, seed=2)
>>> demo.kizashi_lead_hours is not None and demo.kizashi_lead_hours > 0
True
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kizashi.data.cluster import STEP_SECONDS, ClusterTelemetry, node_name
from kizashi.data.frame import SeriesFrame
from kizashi.data.precursors import make_series

__all__ = ["PredictionDemo", "add_prediction_section", "prediction_demo"]

HORIZON = 6 * 3600.0
#: Days of the run the prediction section looks at (the end of the month).
DAYS_SHOWN = 8


@dataclass(frozen=True, eq=False)
class PredictionDemo:
    """The memory and scratch series, the leak, and both predictors' warnings."""

    frame: SeriesFrame
    leak_column: int
    precursor_start: int
    failure: int
    probability: np.ndarray
    kizashi: np.ndarray
    predict_linear: np.ndarray
    eta: np.ndarray

    def lead_hours(self, warning: np.ndarray) -> float | None:
        during = warning[self.precursor_start:self.failure, self.leak_column]
        if not during.any():
            return None
        return (self.failure - self.precursor_start - int(np.argmax(during))) * STEP_SECONDS / 3600

    @property
    def kizashi_lead_hours(self) -> float | None:
        return self.lead_hours(self.kizashi)

    def false_runs(self, warning: np.ndarray) -> int:
        """Warning runs on series that do not fail, and on the leak before it starts."""
        count = 0
        for j in range(warning.shape[1]):
            column = warning[: self.precursor_start, j] if j == self.leak_column else warning[:, j]
            count += int(np.sum(np.diff(np.r_[0, column.astype(np.int8)]) == 1))
        return count


def prediction_demo(telemetry: ClusterTelemetry, seed: int = 0) -> PredictionDemo:
    """Memory of every node (one leaks) and two nightly-cleaned scratch areas over the last
    :data:`DAYS_SHOWN` days of the demo's run, predicted by kizashi and predict_linear."""
    from kizashi.prediction.predict_linear import predict_linear
    from kizashi.prediction.predictor import predict_frame
    from kizashi.prediction.warmup_trend import with_trend

    timestamps = telemetry.frame.timestamps
    day = 86400 // STEP_SECONDS
    n = min(DAYS_SHOWN * day, timestamps.size)
    nodes = sorted({e for e in telemetry.frame.entities if e.startswith("node")})
    leak_node = len(nodes) - 1
    columns, entities, metrics = [], [], []
    start = failure = 0
    for i in range(len(nodes)):
        kind = "memory_leak" if i == leak_node else "normal"
        values, rows = make_series(kind, n, STEP_SECONDS, seed=seed * 1000 + i,
                                   first_row=int(4 * day))
        if rows is not None:
            start, failure = rows
        columns.append(values)
        entities.append(node_name(i))
        metrics.append("mem_used_pct")
    for i in range(min(2, len(nodes))):
        values, _ = make_series("nightly_cleanup", n, STEP_SECONDS, seed=seed * 1000 + 500 + i)
        columns.append(values)
        entities.append(node_name(i))
        metrics.append("scratch_used_pct")
    frame = SeriesFrame(timestamps[-n:], np.column_stack(columns), tuple(entities),
                        tuple(metrics), name="demo memory and scratch")
    # what kizashi predict says by default: the warm-up trend line while a series learns
    result, _ = with_trend(predict_frame(frame, HORIZON), frame.values)
    seconds = frame.timestamps.astype(np.int64) / 1e9
    with np.errstate(invalid="ignore"):
        linear = predict_linear(seconds, frame.values, HORIZON, HORIZON) >= 100.0
    return PredictionDemo(frame, leak_node, start, failure, result.probability,
                          result.warning, linear, result.eta)


def add_prediction_section(out: Path, telemetry: ClusterTelemetry, seed: int = 0) -> None:
    """Append the prediction section (and its plot) to ``out/report.html``."""
    demo = prediction_demo(telemetry, seed)
    _plot(demo, out / "prediction.png")
    report = out / "report.html"
    page = report.read_text(encoding="utf-8")
    page = page.replace("</body>", _section(demo) + "\n</body>")
    report.write_text(page, encoding="utf-8")


def _when(demo: PredictionDemo, warning: np.ndarray) -> str:
    lead = demo.lead_hours(warning)
    if lead is None:
        return "no warning before the OOM"
    first = demo.failure - round(lead * 3600 / STEP_SECONDS)
    stamp = np.datetime_as_string(demo.frame.timestamps[first], unit="m")
    return f"first warning {stamp} UTC, {lead:.1f} h before the OOM"


def _section(demo: PredictionDemo) -> str:
    e = html.escape
    frame = demo.frame
    node = frame.entities[demo.leak_column]
    oom = np.datetime_as_string(frame.timestamps[demo.failure], unit="m")
    begins = np.datetime_as_string(frame.timestamps[demo.precursor_start], unit="m")
    lead = demo.kizashi_lead_hours
    first = None if lead is None else demo.failure - round(lead * 3600 / STEP_SECONDS)
    eta = "" if first is None or np.isnat(demo.eta[first, demo.leak_column]) else \
        np.datetime_as_string(demo.eta[first, demo.leak_column], unit="m")
    detail = "" if first is None else (
        f" It said P = {demo.probability[first, demo.leak_column]:.2f} of reaching 100 % within "
        f"6 h{', ETA ' + eta + ' UTC' if eta else ''}.")
    return f"""<h2>Warnings ahead (kizashi predict)</h2>
<p>Memory use of every node and two scratch areas emptied every night, over the last
{DAYS_SHOWN} days. On {e(node)} a memory leak starts {begins} UTC and ends in an OOM kill at
{oom} UTC. Both predictors look 6 h ahead at every step; kizashi's probability is calibrated
(<code>kizashi predict --horizon 6h</code>; in its first ~42 h, while it learns, a series
warns from its 6 h trend line, as a scratch area does before it has been emptied twice),
Prometheus' rule is
<code>predict_linear(mem_used_pct[6h], 6h) &gt;= 100</code>.{e(detail)}</p>
<table><tr><th></th><th>kizashi predict</th><th>predict_linear rule</th></tr>
<tr><th>the leak on {e(node)}</th><td>{e(_when(demo, demo.kizashi))}</td>
<td>{e(_when(demo, demo.predict_linear))}</td></tr>
<tr><th>false warnings (runs on series that did not fail)</th>
<td>{demo.false_runs(demo.kizashi)}</td><td>{demo.false_runs(demo.predict_linear)}</td></tr>
</table>
<img src="prediction.png" alt="memory leak with kizashi's probability">
"""


def _plot(demo: PredictionDemo, path: Path) -> None:
    from kizashi.report.plots import _pyplot

    plt = _pyplot()
    t = demo.frame.timestamps
    j = demo.leak_column
    fig, axes = plt.subplots(2, 1, figsize=(12, 5), sharex=True,
                             gridspec_kw={"height_ratios": [2, 1]})
    axes[0].plot(t, demo.frame.values[:, j], color="#1f4e79", lw=0.8,
                 label=f"{demo.frame.entities[j]} mem_used_pct")
    axes[0].axhline(100, color="#b22222", lw=0.8, ls="--", label="limit")
    axes[0].axvline(t[demo.failure], color="#b22222", lw=1.0, label="OOM")
    for name, warning, colour in (("kizashi warning", demo.kizashi, "#ffbf00"),
                                  ("predict_linear", demo.predict_linear, "#9e9ac8")):
        shown = np.where(warning[:, j], 1.0, np.nan)
        axes[0].plot(t, shown * (103 if colour == "#ffbf00" else 106), color=colour, lw=4,
                     label=name)
    axes[0].set_ylabel("memory %")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[1].plot(t, demo.probability[:, j], color="#d95f02", lw=0.8)
    axes[1].set_ylabel("P(100 % within 6 h)")
    axes[1].set_ylim(-0.02, 1.02)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
