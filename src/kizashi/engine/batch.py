"""The engine over a whole :class:`SeriesFrame`: the one rule for training and warm-up.

Every batch command (``kizashi detect``, the demo, ``kizashi bench``) runs a
detector over a file through :func:`score_frame`:

* **training** — a detector that needs training (``requires_training``) is
  fitted on ``train`` when given (``kizashi detect --train FILE``), else on the
  first ``fit_fraction`` of the data (30 % by default). Rows a model was fitted
  on are **never re-scored as if unseen**: their score is empty (NaN) and they
  raise no alert. Streaming detectors fit nothing; they learn as they go.
* **warm-up** — a series' first ``n_warmup`` scores are empty too, and while the
  calibrator learns the scale the series is "learning" (no decision, no
  alert); an empty score is not a 0.
* **deciding** — a :class:`~kizashi.engine.decider.Decider` per detector, with
  baseline protection, through :class:`~kizashi.engine.stream.DetectorStream`.
  A quantile cutoff (``q0.999``) is a quantile of each series' own levels over
  the scored rows (a first pass with no alerts gives them).
* **multivariate** detectors score each entity's metrics together, one score
  per entity and step.

Examples
--------
>>> from kizashi.data.frame import SeriesFrame
>>> rng = np.random.default_rng(1)
>>> values = rng.normal(0, 1, (500, 2))
>>> values[400:430, 1] += 25.0
>>> frame = SeriesFrame.from_arrays(np.arange(500) * 60.0, values)
>>> result = score_frame(frame, "threshold", {"window": 100, "k": 5.0},
...                      decision={"min_steps": 3, "resolve_steps": 3})
>>> [(i.series, i.start, i.end) for i in result.incidents]
[(1, 402, 431)]
>>> bool(np.isnan(result.scores[:30]).all())      # warm-up: empty, not 0
True
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.decision.quantiles import column_quantiles
from kizashi.detectors.changepoint.jit import HAVE_NUMBA
from kizashi.detectors.registry import create
from kizashi.engine.decider import Decider
from kizashi.engine.runs_kernel import count_runs, fill_runs
from kizashi.engine.stream import DetectorStream, StreamBlock, join_decisions
from kizashi.streaming.magnitudes import DETECT_SMALLEST, typical_factors

__all__ = ["FIT_FRACTION", "FrameResult", "Incident", "UnfittedError", "incidents",
           "nothing_fitted", "score_frame"]

#: Share of a file a detector that needs training is fitted on when no training file is given.
FIT_FRACTION = 0.3
#: With a progress bar, rows of the first chunk the stream is given (more on few series:
#: ``CHUNK_POINTS``); a chunk that took under half of ``CHUNK_SECONDS`` doubles the next
#: (a chunk's fixed cost is paid less often, and the bar still moves about every
#: ``CHUNK_SECONDS``). Chunks do not change results.
CHUNK = 8192
CHUNK_POINTS = 65536  #: values (rows × series) of the first chunk, at least ``CHUNK`` rows
CHUNK_SECONDS = 1.0


@dataclass(frozen=True)
class Incident:
    """One alert of one output column: rows ``start`` (fired) to ``end`` (last active row)."""

    series: int
    start: int
    end: int
    peak: float


def incidents(active: np.ndarray, levels: np.ndarray | None = None) -> list[Incident]:
    """The runs of active steps of a ``(time, series)`` array, in time order.

    >>> [(i.series, i.start, i.end) for i in incidents(np.array([[0, 1], [1, 1], [1, 0]]))]
    [(1, 0, 1), (0, 1, 2)]
    """
    active = np.asarray(active, dtype=bool)
    active = active.reshape(active.shape[0], -1)
    n_time, n_series = active.shape
    if HAVE_NUMBA:  # two compiled passes (runs_kernel), in the order listed below
        flags = np.ascontiguousarray(active)
        n = count_runs(flags)
        series, starts, ends = (np.empty(n, np.int64) for _ in range(3))
        peaks = np.empty(n)
        with_levels = levels is not None
        fill_runs(flags, np.ascontiguousarray(levels, dtype=np.float64).reshape(n_time, -1)
                  if with_levels else np.empty((0, 0)), with_levels, series, starts, ends, peaks)
        return [Incident(j, start, end, peak) for j, start, end, peak in zip(
            series.tolist(), starts.tolist(), ends.tolist(), peaks.tolist(), strict=True)]
    # runs of every series at once, series-major: edges of the padded rows
    padded = np.zeros((n_series, n_time + 2), dtype=np.int8)
    padded[:, 1:-1] = active.T
    edges = np.diff(padded, axis=1)
    series, starts = np.nonzero(edges == 1)
    stops = np.nonzero(edges == -1)[1]
    if levels is None or not series.size:
        peaks = np.full(series.size, np.nan)
    else:  # the largest non-NaN level of each run (NaN when it has none)
        flat = np.append(np.asarray(levels, dtype=np.float64).reshape(n_time, -1).T.ravel(),
                         np.nan)
        bounds = np.empty(2 * series.size, dtype=np.int64)
        bounds[0::2] = series * n_time + starts
        bounds[1::2] = series * n_time + stops
        with np.errstate(invalid="ignore"):
            peaks = np.fmax.reduceat(flat, bounds)[0::2]
    order = np.lexsort((series, starts))
    return [Incident(j, start, stop - 1, peak) for j, start, stop, peak in zip(
        series[order].tolist(), starts[order].tolist(), stops[order].tolist(),
        peaks[order].tolist(), strict=True)]


@dataclass(frozen=True, eq=False)
class FrameResult:
    """Scores and verdicts for every output column (a series, or an entity if multivariate)."""

    timestamps: np.ndarray
    entities: tuple[str, ...]
    metrics: tuple[str, ...]
    values: np.ndarray  #: (T, S) the input series (NaN for an entity-level score)
    scores: np.ndarray  #: (T, S) raw scores; NaN while training, learning or missing
    levels: np.ndarray  #: (T, S) calibrated scores, the decider's scale
    cutoffs: np.ndarray  #: (S,) the threshold on the levels
    flags: np.ndarray  #: (T, S) bool: an alert is active
    learning: np.ndarray  #: (T, S) bool: observed, but still training or warming up
    detector: str
    params: dict[str, Any]
    calibration: str = "none"
    labels: np.ndarray | None = None
    incidents: list[Incident] = field(default_factory=list)
    #: (T, frame series) each input's share of its entity's score, for a multivariate
    #: detector run with ``explain=True`` (None otherwise; see :mod:`kizashi.engine.causes`)
    attribution: np.ndarray | None = None
    #: (T, S) the normal band each step was judged against, as the engine let the detector
    #: learn (protected steps left out), for a univariate detector with a typed band run
    #: with ``bands=True`` (None otherwise)
    lower: np.ndarray | None = None
    upper: np.ndarray | None = None
    #: (entity, reason) of each entity whose model a multivariate detector could not fit
    #: (too few training rows with values): its scores are empty, the others scored
    unfitted: tuple[tuple[str, str], ...] = ()

    def to_long(self):
        """A pandas DataFrame: timestamp, entity, metric, detector, score, is_anomaly."""
        import pandas as pd

        n_t, n_s = self.scores.shape
        return pd.DataFrame({
            "timestamp": np.repeat(self.timestamps, n_s),
            "entity": np.tile(np.asarray(self.entities, dtype=object), n_t),
            "metric": np.tile(np.asarray(self.metrics, dtype=object), n_t),
            "detector": self.detector,
            "score": self.scores.reshape(-1),
            "is_anomaly": self.flags.reshape(-1),
        })


def _groups(frame: SeriesFrame, multivariate: bool) -> Iterator[list[int]]:
    if not multivariate:
        yield list(range(frame.n_series))
        return
    for entity in frame.unique_entities():
        yield [j for j, e in enumerate(frame.entities) if e == entity]


class UnfittedError(ValueError):
    """A detector's model could not be fitted on a group's training rows (too few values)."""


def score_frame(frame: SeriesFrame, name: str, params: dict[str, Any] | None = None, *,
                decision: dict[str, Any] | None = None, train: SeriesFrame | None = None,
                fit_fraction: float = FIT_FRACTION, progress: bool = False,
                explain: bool = False, bands: bool = False,
                partial: bool = False) -> FrameResult:
    """Run detector ``name`` over every series of ``frame`` and decide (see the module docs).

    ``decision`` holds :class:`~kizashi.engine.decider.Decider` parameters
    (``calibration``, ``cutoff``, ``min_steps``, ...). ``explain`` keeps a
    multivariate detector's per-input attribution (``FrameResult.attribution``);
    ``bands`` keeps a univariate detector's normal band (``FrameResult.lower``/``upper``).

    An entity whose model a multivariate detector cannot fit (a node that starts after
    the training rows, or has no values in them) gets empty scores and is listed in
    ``FrameResult.unfitted``; when no entity can be fitted that is a ``ValueError``
    (naming the entity), unless ``partial`` (a part of a frame scored on a Dask worker,
    the whole judged when the parts are joined).
    """
    params = dict(params or {})
    decision = dict(decision or {})
    probe = create(name, **params)
    if train is not None and train.keys != frame.keys:
        missing = sorted(set(frame.keys) - set(train.keys))[:3]
        raise ValueError(f"training data {train.name} lacks series of {frame.name}: "
                         f"{', '.join(f'{e}/{m}' for e, m in missing) or 'order differs'}")
    t = frame.epoch_seconds
    parts = []
    unfitted: list[tuple[str, str]] = []
    for group in _groups(frame, probe.multivariate):
        try:
            parts.append(_score_group(frame, group, name, params, decision, train,
                                      fit_fraction, t, progress, explain, bands))
        except UnfittedError as error:
            unfitted.append((frame.entities[group[0]], str(error)))
            parts.append(_unfitted_part(frame.n_times, len(group)))
    if unfitted and len(unfitted) == len(parts) and not partial:
        raise nothing_fitted(unfitted)
    fitted = [p for p in parts if p[5] is not None]
    shared = np.unique(np.concatenate([p[4] for p in fitted])) if fitted else np.zeros(0)
    if unfitted and len(shared) == 1:  # one cutoff for all (not per-entity quantiles)
        parts = [p if p[5] is not None else (*p[:4], np.full(1, shared[0]), *p[5:])
                 for p in parts]
    scores, levels, active, learning = (
        parts[0][k] if len(parts) == 1 else np.hstack([p[k] for p in parts]) for k in range(4))
    cutoffs = np.concatenate([p[4] for p in parts])
    calibration = fitted[0][5] if fitted and fitted[0][5] is not None else "none"
    attribution = np.hstack([p[6] for p in parts]) if explain and probe.multivariate and parts \
        else None
    if probe.multivariate:
        groups = list(_groups(frame, True))
        entities = tuple(frame.unique_entities())
        metrics = ("*",) * len(entities)
        values = np.full((frame.n_times, len(entities)), np.nan)
        labels = None if frame.labels is None else np.column_stack(
            [frame.labels[:, g].any(axis=1) for g in groups])
    else:
        entities, metrics, labels, values = frame.entities, frame.metrics, frame.labels, \
            frame.values
    band = [p[7] for p in parts] if bands and not probe.multivariate else []
    lower = np.hstack([b[0] for b in band]) if band and band[0] is not None else None
    upper = np.hstack([b[1] for b in band]) if band and band[0] is not None else None
    return FrameResult(frame.timestamps, entities, metrics, values, scores, levels, cutoffs,
                       active, learning, name, params, calibration, labels,
                       incidents(active, levels), attribution, lower, upper, tuple(unfitted))


def nothing_fitted(unfitted: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> ValueError:
    """The error of a run in which no entity's model could be fitted: the first's reason.

    >>> str(nothing_fitted([("n1", "too few rows"), ("n2", "too few rows")]))
    "no entity's model could be fitted (entity 'n1': too few rows)"
    """
    entity, reason = unfitted[0]
    return ValueError(reason if len(unfitted) == 1 else
                      f"no entity's model could be fitted (entity {entity!r}: {reason})")


def _unfitted_part(n_times: int, n_inputs: int) -> tuple[Any, ...]:
    """A group's output with no model: empty scores and levels, no alert, not learning."""
    empty = np.full((n_times, 1), np.nan)
    none = np.zeros((n_times, 1), dtype=bool)
    return (empty, empty.copy(), none, none.copy(), np.full(1, np.nan), None,
            np.full((n_times, n_inputs), np.nan), None)


def _score_group(frame: SeriesFrame, group: list[int], name: str, params: dict[str, Any],
                 decision: dict[str, Any], train: SeriesFrame | None, fit_fraction: float,
                 t: np.ndarray, progress: bool, explain: bool = False,
                 bands: bool = False) -> tuple[Any, ...]:
    detector = create(name, **params)
    before = None
    if bands and not detector.multivariate and not detector.requires_training:
        before = detector.clone()
    # every series at once: the frame's own array (read only here) when it is C-ordered,
    # so that a group scores alike whether or not it is the whole frame (a Dask partition)
    block = np.ascontiguousarray(frame.values if group == list(range(frame.n_series))
                                 else frame.values[:, group])
    trained_on = None if train is None else train.values[:, group]
    # a series of extreme magnitude (typically below 2^-20, or above 2^400: a unit of
    # 1e-300 or 1e300) is scored at an ordinary one, multiplied by a power of two (exact):
    # the detectors' absolute floors would otherwise exceed its whole spread (or its squares
    # overflow). Every other series, one with a single glitch among ordinary values too,
    # keeps a factor of 1 and its scores bit for bit; so does every series when the user
    # gave a number in the data's unit (a bound, a floor: the detector's unit_params).
    if any(params.get(key) is not None for key in type(detector).unit_params):
        factors = np.ones(block.shape[1])
    else:
        factors = typical_factors(block if trained_on is None else
                                  np.vstack([block, trained_on]), smallest=DETECT_SMALLEST)
    scaled = bool((factors != 1.0).any())
    if scaled:
        block = block * factors
        trained_on = None if trained_on is None else trained_on * factors
    start = 0
    if detector.requires_training or train is not None:  # a training file is always used
        if train is not None:
            rows, times = trained_on, train.epoch_seconds
        else:
            start = max(int(fit_fraction * frame.n_times), 1)
            if start >= frame.n_times:
                raise ValueError(f"{frame.name or 'the data'}: {frame.n_times} rows are too few "
                                 f"to fit {name!r} on {fit_fraction:.0%} and score the rest; "
                                 f"give a training file")
            rows, times = block[:start], t[:start]
        try:  # (the parameters were checked: a failure is about these rows, too few values)
            detector.fit(rows, times)
        except ValueError as error:
            reason = str(error)
            if train is not None and train.name and train.name not in reason:
                reason = f"{train.name}: {reason}"  # the training file's fault: named first
            if detector.multivariate:  # one entity's model: the others may still be fitted
                raise UnfittedError(reason) from None
            raise ValueError(reason) from None
    n_out = 1 if detector.multivariate else len(group)
    attribution = None
    if explain and detector.multivariate:  # from the fitted state, before the stream learns
        from kizashi.engine.causes import attribution_of

        attribution = np.full((frame.n_times, len(group)), np.nan)
        if start < frame.n_times:
            attribution[start:] = attribution_of(detector, block[start:], t[start:])
    stream = DetectorStream(detector, Decider.for_detector(detector, **decision), fused=True)
    rule = stream.decider.rule
    if rule.kind == "quantile":
        # First pass without alerts: the levels whose quantile becomes the threshold.
        fitted = detector.state_dict() if detector.state_ is not None else None
        stream.decider.reset(n_out)
        stream.decider.set_thresholds(np.full(n_out, np.inf))
        first = _run(stream, block[start:], t[start:], progress, frame.name)
        thresholds = _quantiles(first.decision.level, rule.value)
        detector = create(name, **params)
        if fitted is not None:
            detector.load_state_dict(fitted)
        stream = DetectorStream(detector, Decider.for_detector(detector, **decision),
                                fused=True)
        stream.decider.reset(n_out)
        stream.decider.set_thresholds(thresholds)
    out = _run(stream, block[start:], t[start:], progress, frame.name)
    missing = np.isnan(block).all(axis=1, keepdims=True) if detector.multivariate else \
        np.isnan(block)
    learned = ~missing[:start]  # observed while training
    # a raw score means something once the detector's own warm-up is over
    unscored = _unscored(missing[start:], int(detector.n_warmup))
    if start == 0:  # the stream's own (fresh) arrays are the result
        scores, levels = out.scores, out.decision.level
        active, learning = out.decision.active, out.decision.learning
        np.copyto(scores, np.nan, where=unscored)
    else:
        scores = np.full((frame.n_times, n_out), np.nan)
        levels = np.full((frame.n_times, n_out), np.nan)
        active = np.zeros((frame.n_times, n_out), dtype=bool)
        learning = np.zeros((frame.n_times, n_out), dtype=bool)
        learning[:start] = learned
        scores[start:] = np.where(unscored, np.nan, out.scores)
        levels[start:] = out.decision.level
        active[start:] = out.decision.active
        learning[start:] = out.decision.learning
    cutoffs = out.decision.threshold[-1] if out.decision.threshold.shape[0] else \
        stream.decider.state_["threshold"]
    band = None
    if before is not None:  # the typed output, replayed on what the engine let it learn
        typed = before.explain(np.where(out.decision.protect, np.nan, block), t)
        if typed.lower is not None and typed.upper is not None:
            band = (typed.lower / factors, typed.upper / factors) if scaled else \
                (typed.lower, typed.upper)  # (in the series' own unit)
    return (scores, levels, active, learning, cutoffs, stream.decider.resolved_calibration,
            attribution, band)


def _unscored(missing: np.ndarray, n_warmup: int) -> np.ndarray:
    """Where a raw score is empty: a missing step, or one of a series' first ``n_warmup``
    observed steps (``missing`` may be marked in place and returned)."""
    if n_warmup <= 0:
        return missing
    head = missing[:n_warmup]
    if head.shape[0] == n_warmup and not head.any():  # no gap in the warm-up: its first rows
        head[...] = True
        return missing
    return missing | (np.cumsum(~missing, axis=0) <= n_warmup)


def _run(stream: DetectorStream, block: np.ndarray, t: np.ndarray, progress: bool,
         what: str) -> Any:
    """The stream over ``block`` in chunks, with a progress bar on long data."""
    from tqdm import tqdm

    width = stream.decider.state_["n_series"] if stream.decider.state_ else block.shape[1]
    # chunks serve the progress bar only: without one, the whole block at once (no copies)
    chunk = max(CHUNK, CHUNK_POINTS // max(int(width), 1)) if progress else max(len(block), 1)
    scores, decisions = [], []
    with tqdm(total=len(block), disable=not progress, unit="step", desc=f"scoring {what}",
              leave=False) as bar:
        begin = 0
        while begin < len(block):
            end = min(begin + chunk, len(block))
            started = time.perf_counter()
            out = stream.process(block[begin:end], t[begin:end])
            scores.append(out.scores)
            decisions.append(out.decision)
            bar.update(end - begin)
            begin = end
            if time.perf_counter() - started < CHUNK_SECONDS / 2:  # fast: fewer, longer chunks
                chunk *= 2
    n_out = stream.decider.state_["n_series"] if stream.decider.state_ else 1
    if not scores:
        return StreamBlock(np.zeros((0, n_out)), join_decisions([], n_out))
    if len(scores) == 1:  # one chunk: its arrays as they are (no copy)
        return StreamBlock(scores[0], decisions[0])
    return StreamBlock(np.vstack(scores), join_decisions(decisions, n_out))


def _quantiles(levels: np.ndarray, q: float) -> np.ndarray:
    return column_quantiles(levels, q)
