"""Score a detector on the centre scenario: incidents caught, false-alarm runs per week.

A detector runs through the engine exactly as ``kizashi detect`` runs it
(:func:`kizashi.engine.batch.score_frame`, the default decision unless
``decision`` says otherwise) over the whole scenario
(:func:`kizashi.data.centre.generate_centre`). Then, per series:

* an incident is **caught** when an alert is active on one of its ``series``
  between its start and its end;
* an **alarm run** is a run of active steps of one output (a series, or for
  a multivariate detector an entity: one run however many metrics it has,
  explained when any of them is); it is **false** when
  it starts after the learning days and touches no series the incident
  disturbs (``affected``) between the incident's start and ``GRACE_STEPS``
  after its end.

False-alarm runs are counted over the whole cluster (every series) and divided
by the weeks after the learning days.

>>> from kizashi.data.centre import generate_centre
>>> scenario = generate_centre(n_nodes=4, weeks=3, seed=3)
>>> result = score_centre(scenario, "range_rule", {"min_periods": 2016})
>>> result.n_incidents, 0 <= result.caught <= 6, result.false_runs >= 0
(6, True, True)
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizashi.data.centre import STEP_SECONDS, STEPS_PER_DAY, CentreScenario

__all__ = ["GRACE_STEPS", "CentreResult", "explained_mask", "judge", "output_columns",
           "score_centre"]

#: Steps after an incident's end during which alerts on what it disturbed are still about it.
GRACE_STEPS = 24


@dataclass(frozen=True)
class CentreResult:
    """What one detector did on one scenario."""

    detector: str
    n_incidents: int
    caught: int
    missed: tuple[str, ...]  #: kinds of the incidents missed
    delays_min: tuple[float, ...]  #: minutes from start to the first alert, per caught incident
    false_runs: int
    weeks: float
    seconds: float
    false_by_metric: dict[str, int] = field(default_factory=dict)

    @property
    def false_per_week(self) -> float:
        """False-alarm runs per week, across the whole cluster."""
        return self.false_runs / self.weeks


def explained_mask(scenario: CentreScenario) -> np.ndarray:
    """``(time, series)``: True where an alert is explained by an incident (plus grace)."""
    frame = scenario.frame
    keys = list(frame.keys)
    out = np.zeros(frame.values.shape, dtype=bool)
    for incident in scenario.incidents:
        stop = min(incident.end + GRACE_STEPS, frame.n_times - 1) + 1
        for key in incident.affected:
            out[incident.start:stop, keys.index(key)] = True
    return out


def output_columns(scenario: CentreScenario, result: Any) -> list[list[int]]:
    """For each output of ``result`` (a series, or an entity), the scenario columns it covers."""
    frame = scenario.frame
    if all(m == "*" for m in result.metrics):
        return [[j for j, e in enumerate(frame.entities) if e == entity]
                for entity in result.entities]
    return [[j] for j in range(frame.n_series)]


def score_centre(scenario: CentreScenario, detector: str, params: dict[str, Any] | None = None,
                 decision: dict[str, Any] | None = None) -> CentreResult:
    """Run ``detector`` over ``scenario`` through the engine and count (see the module docs)."""
    from kizashi.engine.batch import score_frame

    started = time.perf_counter()
    result = score_frame(scenario.frame, detector, params or {}, decision=decision or {})
    seconds = time.perf_counter() - started
    return judge(scenario, detector, np.asarray(result.flags, dtype=bool), seconds,
                 output_columns(scenario, result))


def judge(scenario: CentreScenario, detector: str, active: np.ndarray, seconds: float,
          covers: list[list[int]] | None = None) -> CentreResult:
    """Count caught incidents and false-alarm runs of ``active`` ``(time, outputs)`` alerts.

    ``covers[k]`` lists the scenario's columns output ``k`` speaks for (default:
    one output per column). An entity's alarm run is one run, however many
    metrics the entity has.
    """
    from kizashi.engine.batch import incidents as runs_of

    frame = scenario.frame
    keys = list(frame.keys)
    covers = covers if covers is not None else [[j] for j in range(frame.n_series)]
    owner = {j: k for k, columns in enumerate(covers) for j in columns}
    caught, missed, delays = 0, [], []
    for incident in scenario.incidents:
        outputs = sorted({owner[keys.index(key)] for key in incident.series})
        window = active[incident.start:incident.end + 1, outputs].any(axis=1)
        if window.any():
            caught += 1
            delays.append(int(np.argmax(window)) * STEP_SECONDS / 60.0)
        else:
            missed.append(incident.kind)
    explained = explained_mask(scenario)
    first_counted = scenario.learn_days * STEPS_PER_DAY
    false_runs, by_metric = 0, {}
    for run in runs_of(active):
        if run.start < first_counted:
            continue
        columns = covers[run.series]
        if explained[run.start:run.end + 1][:, columns].any():
            continue
        false_runs += 1
        metric = frame.metrics[columns[0]] if len(columns) == 1 else "entity"
        by_metric[metric] = by_metric.get(metric, 0) + 1
    return CentreResult(detector, len(scenario.incidents), caught, tuple(missed), tuple(delays),
                        false_runs, scenario.weeks_scored, seconds, by_metric)
