"""The engine: Source → Detector → Decider → Sink, one path every command drives.

* :mod:`kizashi.engine.sources` — where series come from (files, Prometheus, a growing CSV);
* detectors — :mod:`kizashi.detectors` (scores, typed output in :mod:`kizashi.engine.output`);
* :mod:`kizashi.engine.decider` — calibration, cutoff, duration/hysteresis, alerts,
  baseline protection;
* :mod:`kizashi.engine.stream` — one detector and its decider over a stream, in blocks,
  with protected steps kept from the detector;
* :mod:`kizashi.engine.batch` — the same over a whole file, with the one training rule;
* :mod:`kizashi.engine.sinks` — where results go (score files, Alertmanager, webhook).

See ``docs/architecture.md`` for the picture.
"""

from kizashi.engine.decider import BlockDecision, Decider, StepDecision

__all__ = ["BlockDecision", "Decider", "StepDecision"]
