"""The daemon's tick: fetch new steps, score all series at once, decide, store, notify.

Each watch advances on a grid of steps ``k·interval``. A tick processes every
step after the watch's last processed one, up to now: normally one step
(a Prometheus instant query), after a restart or an outage all the missed
steps (one range query, capped by ``max_backfill``). Each step is one
vectorised ``update`` per detector over every series of the watch; new series
get fresh columns, series unseen for ``series_ttl`` are dropped (their open
alerts resolve). A source failure marks the source down and processes
nothing, so an outage can neither crash the daemon nor invent anomalies.

A tick's writes are one transaction. When it fails (a full disk, an I/O
error), the watch's memory — detector, decider and calibrator states,
series columns, open alerts, last values — is put back as it was before the
tick, so memory and the state file agree, and the same steps are processed
again at the next tick: nothing is lost, nothing decided twice. The daemon
says so loudly: an ERROR line per kind of failure, ``persist_errors`` in its
health (``kizashi_watch_persist_errors_total``, the dashboard's overview).

A state file found damaged while running (:class:`~kizashi.watch.store.StateFileDamaged`:
a row failing its CRC-32, a page SQLite calls malformed) is no failed write: no retry
can read it. The daemon logs one ERROR line naming the file and what to do, marks its
health failed (``/healthz`` answers 503) and stops (:attr:`Watcher.corrupt`; the CLI
exits with status 1, and a restart meets the same damage at the open's check).

Examples
--------
>>> from kizashi.watch.config import parse_config
>>> from kizashi.watch.store import WatchStore
>>> import tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "m.csv")
>>> rows = "".join(f"{t},{5.0 if t == 40 else 1.0 + 0.1 * (t % 3)}\\n" for t in range(50))
>>> _ = open(path, "w").write("timestamp,load\\n" + rows)
>>> config = parse_config(f'''
... interval: 1s
... listen: off
... sources: {{lab: {{type: csv, path: {path}}}}}
... watches:
...   - name: load
...     detectors: [{{detector: threshold, params: {{window: 20, min_periods: 10}}}}]
... ''')
>>> watcher = Watcher(config, WatchStore(":memory:"))
>>> watcher.tick()
>>> [(a["labels"], a["starts_at"], a["status"]) for a in watcher.store.alerts()]
[({'series': 'load'}, 40.0, 'resolved')]
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import math
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kizashi.detectors.base import STATE_FORMAT_VERSION
from kizashi.engine.decider import DECIDER_FORMAT, BlockDecision, Decider
from kizashi.engine.sources import make_source as make_source_from_spec
from kizashi.engine.stream import DetectorStream
from kizashi.state import copy_state, from_json_safe, to_json_safe
from kizashi.watch.alerts import Notifier
from kizashi.watch.blobstate import ChunkHint, chunks_of
from kizashi.watch.columns import SeriesLayout, StateLayout
from kizashi.watch.config import DetectorSpec, WatchConfig, WatchSpec
from kizashi.watch.finite_values import infinite_as_missing
from kizashi.watch.peer_groups import peer_keys
from kizashi.watch.predictions import PREDICT, WatchPredictions
from kizashi.watch.quantile_cutoffs import recent_quantiles
from kizashi.watch.remote_write import RemoteWriter
from kizashi.watch.shards import shard_mask, shard_of
from kizashi.watch.sources import Samples, SourceError, column_name, only_columns, series_key
from kizashi.watch.status import DetectorColumns, SeriesTable
from kizashi.watch.store import StateFileDamaged, WatchStore

__all__ = ["Watcher", "make_source"]

log = logging.getLogger("kizashi.watch")

#: Scores of the last this many steps form the reference of a quantile cutoff.
QUANTILE_STEPS = 1000
QUANTILE_MIN_SCORES = 30
#: A failure to write the state file is logged again after this long (seconds).
PERSIST_LOG_EVERY = 600.0
#: The status lists every series of a watch (``series``) up to this many; above, only
#: the firing ones (the dashboard and /metrics read the watch's ``table`` of arrays).
SNAPSHOT_SERIES = 5000
#: A live step of a univariate detector runs over this many series at a time (its
#: temporary arrays stay small); each slice has at least 2 series.
SLICE = 2048
#: Upper bounds (seconds) of the buckets of the tick-duration histogram on /metrics.
TICK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
#: The watch's own state (when each series was last seen) is stored under this name.
WATCH_TREE = "~watch"


def make_source(config: WatchConfig, name: str) -> Any:
    """The source object for ``config.sources[name]`` (from the engine's source registry)."""
    return make_source_from_spec(config.sources[name])


@dataclass
class _DetectorRun:
    spec: DetectorSpec
    stream: DetectorStream
    layout: SeriesLayout
    decider_layout: StateLayout
    thresholds_at: float = -math.inf
    last_score: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: a trained multivariate model: its input names, in order (None: univariate)
    features: list[str] | None = None
    #: memory equals the stored state (as of the last tick): a tick writes what changed
    stored: bool = False
    #: the detector's state must be read back from the store (a tick's write failed)
    reload: bool = False
    #: chunks of each detector array the live step changed (by path; None: unknown)
    hints: dict[tuple[str, ...], np.ndarray] | None = None

    @property
    def light(self) -> bool:
        """The store holds this detector's state as it was before the tick, and its series
        can be stepped in slices: a tick needs no copy of the detector's state (a failed
        write reads it back; the live step copies one slice at a time)."""
        state = self.detector.state_
        return (self.stored and not self.multivariate and state is not None
                and not self.detector.cross_sectional
                and not getattr(self.detector, "requires_training", False)
                and int(state.get("n_series", 0)) > 1 and self.layout.sliceable(state)
                and self.decider_layout.sliceable(
                    {**self.decider.state_, "calibrator": self.decider.calibrator.state_}))

    @property
    def detector(self) -> Any:
        return self.stream.detector

    @property
    def multivariate(self) -> bool:
        return self.features is not None

    def per_column(self, values: np.ndarray) -> np.ndarray:
        """One value per series of the watch (a multivariate model's one, repeated)."""
        return np.repeat(values[:1], self.last_score.size) if self.multivariate else values

    @property
    def decider(self) -> Decider:
        return self.stream.decider

    @property
    def active(self) -> np.ndarray:
        return self.per_column(self.decider.state_["filter"]["active"])

    @property
    def thresholds(self) -> np.ndarray:
        return self.per_column(self.decider.state_["threshold"])

    def set_decider_state(self, state: dict[str, Any]) -> None:
        self.decider.load_state_dict({"format": DECIDER_FORMAT, "params": to_json_safe(
            self.decider.get_params()), "state": state})


@dataclass
class _WatchRun:
    spec: WatchSpec
    columns: list[int]
    labels: dict[int, dict[str, str]]
    #: per column, when the series was last seen (data time; NaN: not yet)
    seen_at: np.ndarray
    detectors: list[_DetectorRun]
    open_alerts: dict[tuple[int, str], int]
    last_value: np.ndarray = field(default_factory=lambda: np.zeros(0))
    last_t: float | None = None
    #: ``seen_at`` and ``columns`` equal the stored watch tree
    stored: bool = False
    #: the label sets of the last answer and their keys (answers keep their order)
    key_cache: tuple[list[dict[str, str]], list[str]] = ([], [])
    #: warnings ahead (the watch's ``predict:``), or None
    predict: WatchPredictions | None = None

    def keys(self, labels: list[dict[str, str]]) -> list[str]:
        """:func:`series_key` of each label set, reusing the last answer's where equal.

        An equal label set is also replaced in ``labels`` by the last answer's own dict,
        so a tick holds one copy of the labels, not two (memory at 100k series)."""
        old_labels, old_keys = self.key_cache
        if len(old_labels) == len(labels):
            keys = []
            for i, (a, b, k) in enumerate(zip(old_labels, labels, old_keys, strict=True)):
                if a is b or a == b:
                    labels[i] = a
                    keys.append(k)
                else:
                    keys.append(series_key(b))
        else:
            keys = [series_key(b) for b in labels]
        self.key_cache = (labels, keys)
        return keys

    @property
    def last_seen(self) -> dict[int, float]:
        """When each series was last seen, by series id."""
        return {sid: float(t) for sid, t in zip(self.columns, self.seen_at.tolist(),
                                                strict=True) if not math.isnan(t)}

    def remember(self) -> _WatchMemory:
        """A copy of everything a tick changes in memory (see :meth:`restore`)."""
        light = [d.light for d in self.detectors]
        return _WatchMemory(
            list(self.columns), dict(self.labels), self.seen_at.copy(), dict(self.open_alerts),
            self.last_value.copy(), self.last_t, self.stored,
            [(None if lit else copy_state(d.detector.state_), copy_state(d.decider.state_),
              copy_state(d.decider.calibrator.state_), d.last_score.copy(), d.thresholds_at,
              d.stored) for d, lit in zip(self.detectors, light, strict=True)],
            None if self.predict is None else self.predict.state_tree(), light)

    def restore(self, memory: _WatchMemory) -> None:
        """Put back what :meth:`remember` copied (the tick's transaction was rolled back)."""
        self.columns, self.labels = memory.columns, memory.labels
        self.seen_at, self.open_alerts = memory.seen_at, memory.open_alerts
        self.last_value, self.last_t = memory.last_value, memory.last_t
        self.stored = memory.stored
        for drun, (detector, decider, calibrator, last_score, thresholds_at, stored), lit in zip(
                self.detectors, memory.detectors, memory.light, strict=True):
            if lit:   # not copied: the store has it (Watcher._reload)
                drun.reload = True
            else:
                drun.detector.state_ = detector
            drun.decider.state_ = decider
            drun.decider.calibrator.state_ = calibrator
            drun.last_score, drun.thresholds_at = last_score, thresholds_at
            drun.stored = stored
        if self.predict is not None and memory.predict is not None:
            self.predict.load_tree(memory.predict, [self.labels.get(int(sid), {}) for sid in
                                                    memory.predict["series"].tolist()])


@dataclass
class _WatchMemory:
    """A watch's in-memory state before a tick, to restore when the tick's write fails."""

    columns: list[int]
    labels: dict[int, dict[str, str]]
    seen_at: np.ndarray
    open_alerts: dict[tuple[int, str], int]
    last_value: np.ndarray
    last_t: float | None
    stored: bool
    detectors: list[tuple[Any, Any, Any, np.ndarray, float, bool]]
    predict: dict[str, Any] | None = None
    #: per detector: its state was not copied (the store holds it as before the tick).
    #: Not the same as a copied state of None: a watch's first tick has no state yet, and
    #: its failure must put back None, not ask the store for a state it never had (before,
    #: a failed first tick — a full disk at start — stopped the watch until a restart)
    light: list[bool] = field(default_factory=list)


@dataclass
class Health:
    """The daemon's own counters, exported on ``/metrics`` and shown on the dashboard."""

    started: float
    ticks: int = 0
    tick_seconds: float = 0.0
    points: int = 0
    source_up: dict[str, bool] = field(default_factory=dict)
    source_errors: dict[str, int] = field(default_factory=dict)
    source_last_error: dict[str, str] = field(default_factory=dict)
    watch_errors: dict[str, int] = field(default_factory=dict)
    backfilled_steps: int = 0
    skipped_steps: int = 0
    infinite_values: dict[str, int] = field(default_factory=dict)  #: per watch, taken as missing
    persist_errors: int = 0         #: writes to the state file that failed
    persist_ok: bool = True         #: the last write succeeded
    persist_last_error: str = ""
    #: the state file was found damaged: the one-line error; the daemon stops
    state_corrupt: str = ""
    #: tick durations: counts per bucket of TICK_BUCKETS (cumulative in /metrics), and sum
    tick_counts: list[int] = field(default_factory=lambda: [0] * (len(TICK_BUCKETS) + 1))
    tick_sum: float = 0.0


class Watcher:
    """Runs the watches of a config against a store.

    Parameters
    ----------
    config : WatchConfig
    store : WatchStore
    clock : callable
        Seconds since the epoch (tests pass a fake clock).
    sources : dict, optional
        Source objects by name (default: made from the config).
    """

    def __init__(self, config: WatchConfig, store: WatchStore,
                 clock: Callable[[], float] = time.time,
                 sources: dict[str, Any] | None = None):
        self.config = config
        self.store = store
        self.clock = clock
        self.sources = sources or {name: make_source(config, name) for name in config.sources}
        self.notifier = Notifier(config.alerts, config.link_base, clock,
                                 store_error=self._persist_failed)
        self.health = Health(started=clock())
        self.remote = RemoteWriter(config.remote_write, config.storage)  # scores to a TSDB
        self._persist_logged: dict[str, float] = {}   # failure kind → when it was last logged
        #: when each (watch, series) was last told to have left its magnitude (logged at
        #: most once an hour per series: one that keeps jumping would say it every tick)
        self._unit_warned: dict[tuple[str, int], float] = {}
        self._persist_told = False                     # an ERROR was logged since the last success
        #: the state file was found damaged while running (the error's line): no tick can
        #: succeed any more, :meth:`run` returns and the CLI exits with status 1
        self.corrupt: str | None = None
        self.health.source_up = {name: True for name in config.sources}
        self.health.source_errors = dict.fromkeys(config.sources, 0)
        self.runs = [self._load(spec) for spec in config.watches]
        self._snapshot: dict[str, Any] = {}
        self._prune_at = 0.0
        self._infinite_warned: set[str] = set()   # watches told of ±Inf values
        self._columns_warned: set[str] = set()    # watches told of columns not there
        self._ahead_warned: set[str] = set()      # watches told their progress is ahead
        self._publish()

    # ------------------------------------------------------------------ loading
    def _load(self, spec: WatchSpec) -> _WatchRun:
        saved = {d.name: self.store.load_state(spec.name, d.name) for d in spec.detectors}
        binary = {d.name for d in spec.detectors if self.store.has_tree(spec.name, d.name)}
        # the series (columns) of the watch: as saved by its detectors (all save the same)
        columns = next((s[0] for s in saved.values() if s is not None), [])
        runs = [self._load_detector(spec, dspec, columns, saved[dspec.name])
                for dspec in spec.detectors]
        for drun in runs:
            drun.stored &= drun.spec.name in binary
        rows = {row["id"]: row for row in self.store.all_series() if row["watch"] == spec.name}
        labels = {sid: rows[sid]["labels"] if sid in rows else {} for sid in columns}
        seen_at = np.array([rows[sid]["last_seen"] if sid in rows else 0.0 for sid in columns],
                           dtype=np.float64)
        tree = self.store.load_tree(spec.name, WATCH_TREE)
        stored = tree is not None and np.array_equal(tree["series"], columns)
        if stored:  # exactly when each series was last seen (the table's is coarser)
            seen_at = tree["seen_at"]
        open_alerts = {(a["series_id"], a["detector"]): a["id"]
                       for a in self.store.alerts(status="firing", limit=100000)
                       if a["watch"] == spec.name}
        names = {d.name for d in spec.detectors} | ({PREDICT} if spec.predict else set())
        orphans = [key for key in open_alerts if key[1] not in names or key[0] not in columns]
        if orphans:  # a detector left the config while alerting: its alerts end now
            try:
                with self.store.transaction():
                    for key in orphans:
                        self.store.resolve_alert(open_alerts[key], self.clock())
                        for sink in self.notifier.sinks:
                            self.store.enqueue(open_alerts[key], sink, "resolved", self.clock())
            except StateFileDamaged:  # the caller says it in one line (no retry reads it)
                raise
            except sqlite3.Error as error:  # resolved at the next start instead
                self._persist_failed(f"watch {spec.name}: resolving alerts of removed "
                                     "detectors", error)
            for key in orphans:
                open_alerts.pop(key)
        return _WatchRun(spec, list(columns), labels, seen_at, runs, open_alerts,
                         last_value=np.full(len(columns), np.nan),
                         last_t=self.store.progress(spec.name), stored=stored,
                         predict=self._load_predict(spec, rows))

    def _load_predict(self, spec: WatchSpec, rows: dict[int, Any]) -> WatchPredictions | None:
        """The watch's predictor, from the state file when it has one."""
        if spec.predict is None:
            return None
        predict = WatchPredictions(spec.predict, self.config.interval)
        tree = self.store.load_tree(spec.name, PREDICT)
        if tree is not None:
            try:
                predict.load_tree(tree, [rows[sid]["labels"] if sid in rows else {}
                                         for sid in tree["series"].tolist()], stored=True)
            except (ValueError, KeyError, TypeError) as error:
                log.warning("watch %s: saved predictions not usable (%s); predicting afresh",
                            spec.name, error)
                predict = WatchPredictions(spec.predict, self.config.interval)
        return predict

    def _load_detector(self, spec: WatchSpec, dspec: DetectorSpec, columns: list[int],
                       item: tuple[list[int], dict[str, Any]] | None) -> _DetectorRun:
        detector = dspec.build()
        interval = self.config.interval
        features = list(dspec.trained()["features"]) if dspec.model is not None else None
        outputs = 1 if features is not None else len(columns)

        def fresh_decider(n: int) -> dict[str, Any]:
            return dspec.decision(interval, detector.clone()).reset(n).state_dict()["state"]

        run = _DetectorRun(dspec, DetectorStream(detector, dspec.decision(interval, detector)),
                           SeriesLayout(detector), StateLayout(fresh_decider),
                           features=features)
        run.decider.reset(outputs)
        state = item[1] if item is not None and item[0] == columns else None
        recut = False   # the config's cutoff differs from the saved one: write it all once
        if state is not None:
            try:  # the decider first: alert runs survive any change of detector parameters
                if state.get("decider") is not None:
                    run.set_decider_state(state["decider"])
                elif len(state.get("filter", {}).get("active", ())) == len(columns):
                    legacy = run.decider.state_  # a state saved before the engine's decider
                    legacy["filter"] = state["filter"]
                    legacy["run_start"] = np.asarray(state.get("run_start", legacy[
                        "run_start"]), dtype=np.float64)
                if dspec.cutoff.kind != "quantile":  # the config's cutoff, not the saved one
                    saved_cut = np.array(run.decider.state_["threshold"], dtype=np.float64)
                    run.decider.set_thresholds(run.decider.default_thresholds(outputs))
                    recut = not np.array_equal(saved_cut, run.decider.state_["threshold"],
                                               equal_nan=True)
            except (ValueError, KeyError, TypeError) as error:
                log.warning("watch %s, detector %s: saved decision state not usable (%s); "
                            "starting it afresh", spec.name, dspec.name, error)
                run.decider.reset(outputs)
                state = dict(state, decider=None)
            trained = copy_state(detector.state_)
            try:
                if state.get("detector_stream") is not None:  # a model from its folder
                    model, _ = detector.split_state_dict()
                    if state.get("model_key") != model.get("weights_key"):
                        raise ValueError(f"the model in {dspec.model} changed")
                    detector.load_split_state_dict(model, state["detector_stream"])
                elif state.get("detector") is not None:
                    _restore_detector(detector, state["detector"])
                    if features is None and detector.n_series_ != len(columns):
                        raise ValueError("detector state does not match the series")
                    run.stored = state.get("decider") is not None and not recut
            except (ValueError, KeyError, TypeError) as error:
                log.warning("watch %s, detector %s: saved state not usable (%s); starting "
                            "that detector afresh", spec.name, dspec.name, error)
                detector.state_ = trained  # a trained model starts from its training
                run.stored = False
        if detector.state_ is None and columns:
            detector.state_ = run.layout.fresh(len(columns))
        run.last_score = np.full(len(columns), np.nan)
        return run

    # --------------------------------------------------------------------- loop
    def run(self, stop: threading.Event) -> None:
        """Tick every ``interval`` until ``stop`` is set."""
        interval = self.config.interval
        while not stop.is_set() and self.corrupt is None:
            self.tick()
            if self.corrupt is not None:   # said once in the log; a retry cannot succeed
                return
            now = self.clock()
            wake = (math.floor(now / interval) + 1) * interval + min(0.2 * interval, 2.0)
            stop.wait(max(0.0, wake - now))

    def tick(self) -> None:
        """Process every watch once; never raises for a failing source or sink.

        A state file found damaged ends the tick and sets :attr:`corrupt` instead.
        """
        if self.corrupt is not None:
            return
        started = time.monotonic()
        for run in self.runs:
            try:
                self._tick_watch(run)
            except StateFileDamaged as error:  # no retry can read it: stop (not a failed write)
                self._state_corrupt(error)
                self._publish()
                return
            except sqlite3.Error as error:  # memory was rolled back: the steps come again
                self._persist_failed(f"watch {run.spec.name}: writing the tick", error)
            except Exception as error:  # keep the daemon alive; the log says what broke
                self.health.watch_errors[run.spec.name] = (
                    self.health.watch_errors.get(run.spec.name, 0) + 1)
                log.exception("watch %s: tick failed: %s", run.spec.name, error)
        budget = max(1.0, min(10.0, self.config.interval / 2))   # seconds per sink kind
        try:
            self.notifier.deliver(self.store, budget=budget)
        except StateFileDamaged as error:   # its outbox rows read back damaged
            self._state_corrupt(error)
        except Exception:
            log.exception("delivering alerts failed")
        try:
            self.remote.deliver(budget=budget)
        except Exception:
            log.exception("remote_write delivery failed")
        now = self.clock()
        latest = max((r.last_t for r in self.runs if r.last_t is not None), default=None)
        if latest is not None and now >= self._prune_at and self.corrupt is None:
            # retention counts in data time
            self._prune_at = now + 600.0
            try:
                with self.store.transaction():
                    self.store.prune(latest - self.config.retention)
                    for run in self.runs:  # the series table's last_seen, for the pages
                        self.store.set_last_seen(list(run.last_seen.items()))
            except (StateFileDamaged, sqlite3.Error) as error:  # damaged: _persist_failed stops
                self._persist_failed("pruning old points", error)
        self.health.ticks += 1
        self.health.tick_seconds = time.monotonic() - started
        self.health.tick_sum += self.health.tick_seconds
        self.health.tick_counts[sum(self.health.tick_seconds > b for b in TICK_BUCKETS)] += 1
        self._publish()

    # --------------------------------------------------------------- one watch
    def _warn_ahead(self, watch: str, last: float, end: float) -> None:
        """Say once (until steps flow again) that a watch waits for the clock to pass the
        last step it processed: the clock was set back, or the state file comes from a
        machine whose clock was ahead. Nothing is processed meanwhile, not even silently."""
        if watch in self._ahead_warned:
            return
        self._ahead_warned.add(watch)
        from kizashi.watch.alerts import iso

        def when(t: float) -> str:
            try:
                return iso(t)
            except (ValueError, OverflowError, OSError):  # past year 9999
                return f"{t:.6g} epoch seconds"

        log.warning("watch %s: its last processed step (%s) is %.6g s ahead of this machine's "
                    "clock (%s); nothing is processed until the clock passes it (the clock was "
                    "set back, or the state file comes from a machine whose clock was ahead: "
                    "move the state file away to start afresh now)", watch, when(last),
                    last - end, when(end))

    def _fetch(self, run: _WatchRun) -> Samples | None:
        spec = run.spec
        source = self.sources[spec.source]
        last = self.store.progress(spec.name)
        try:
            if not source.follows_clock:
                samples = source.read(last)
            else:
                step = self.config.interval
                end = math.floor(self.clock() / step) * step
                start = end - self._aligned(self.config.initial_backfill) if last is None \
                    else last + step
                if start > end + 1e-9:
                    if last is not None and last > end + 1e-9:
                        self._warn_ahead(spec.name, last, end)
                    return None
                self._ahead_warned.discard(spec.name)
                earliest = end - self._aligned(self.config.max_backfill)
                if start < earliest - 1e-9:
                    skipped = round((earliest - start) / step)
                    self.health.skipped_steps += skipped
                    log.warning("watch %s: gap of %d steps is longer than max_backfill; "
                                "skipping the oldest %d", spec.name,
                                round((end - start) / step), skipped)
                    start = earliest
                if abs(start - end) < 1e-9:
                    samples = source.instant(spec.query or "", end)
                else:
                    samples = source.range(spec.query or "", start, end, step)
                    self.health.backfilled_steps += samples.timestamps.size - 1
        except SourceError as failure:
            error = " ".join(str(failure).split())   # one line, whatever the server sent
            if (self.health.source_up.get(spec.source, True)   # the backfill's range query
                    or _same_kind(self.health.source_last_error.get(spec.source)) !=  # failing
                    _same_kind(error)):                             # as the instant did: same
                log.error("source %s is down: %s", spec.source, error)  # each new kind once
            self.health.source_up[spec.source] = False
            self.health.source_errors[spec.source] = self.health.source_errors.get(
                spec.source, 0) + 1
            self.health.source_last_error[spec.source] = str(error)
            return None
        if not self.health.source_up.get(spec.source, True):
            log.info("source %s is up again", spec.source)
        self.health.source_up[spec.source] = True
        samples = infinite_as_missing(samples, spec.name, self._infinite_warned,
                                      self.health.infinite_values)
        if spec.columns is not None:  # a watch of some columns of a shared file
            whole = samples
            samples, absent = only_columns(samples, spec.columns)
            if absent and whole.labels and spec.name not in self._columns_warned:
                self._columns_warned.add(spec.name)  # once per watch (and per start)
                log.warning("watch %s: column(s) %s not in source %s (it has: %s)", spec.name,
                            ", ".join(absent), spec.source, ", ".join(sorted(
                                {column_name(lb) or "?" for lb in whole.labels})))
        keys = run.keys(samples.labels)
        if self.config.shard[1] > 1 and not any(d.needs_all_series for d in spec.detectors):
            keep = np.flatnonzero(shard_mask(samples.labels, self.config.shard, keys)).tolist()
            return Samples(samples.timestamps, [samples.labels[i] for i in keep],
                           samples.values[:, keep], [keys[i] for i in keep])
        return Samples(samples.timestamps, samples.labels, samples.values, keys)

    def _aligned(self, seconds: float) -> float:
        return math.floor(seconds / self.config.interval) * self.config.interval

    def _tick_watch(self, run: _WatchRun) -> None:
        """Process the new steps of a watch in one transaction.

        When the transaction fails, memory is restored to what it was before,
        and the error is raised: the same steps are fetched again next tick.
        """
        i, n = self.config.shard
        if n > 1 and any(d.needs_all_series for d in run.spec.detectors) and \
                shard_of(run.spec.name, n) != i:
            return   # a watch of a trained model or of peers lives whole on its name's shard
        self._reload(run)
        samples = self._fetch(run)
        if samples is None or samples.timestamps.size == 0:
            return
        now = self.clock()
        memory = run.remember()
        for drun in run.detectors:
            drun.hints = None
        notes: list[tuple[str, tuple[Any, ...]]] = []   # logged once the tick is stored
        points = 0
        self.remote.discard()
        try:
            with self.store.transaction():
                keys = samples.keys or [series_key(item) for item in samples.labels]
                ids = self.store.series_ids(run.spec.name, samples.labels,
                                            now=float(samples.timestamps[-1]), keys=keys)
                known = set(run.columns)
                new = [sid for sid in dict.fromkeys(ids) if sid not in known]
                run.labels.update(zip(ids, samples.labels, strict=True))
                if new:
                    self._add_columns(run, new)
                matrix = np.full((samples.timestamps.size, len(run.columns)), np.nan)
                if ids:
                    position = {sid: j for j, sid in enumerate(run.columns)}
                    matrix[:, [position[sid] for sid in ids]] = samples.values
                points = self._steps(run, np.asarray(samples.timestamps, dtype=np.float64),
                                     matrix, now, notes, memory)
                self._predict(run, np.asarray(samples.timestamps, dtype=np.float64), matrix,
                              now, notes)
                self._age_out(run, float(samples.timestamps[-1]), now)
                self._save(run, memory)
                self.store.set_progress(run.spec.name, float(samples.timestamps[-1]))
                run.last_t = float(samples.timestamps[-1])
                self.remote.enqueue()  # queued before the tick commits: a kill loses none
        except BaseException:
            run.restore(memory)
            with contextlib.suppress(Exception):   # else at the start of the next tick
                self._reload(run)
            raise
        run.stored = True
        for drun in run.detectors:
            drun.stored = True
        self._persisted()
        self.health.points += points
        for message, args in notes:
            log.warning(message, *args)

    def _reload(self, run: _WatchRun) -> None:
        """Read back the detector states a failed tick changed but did not copy."""
        for drun in run.detectors:
            if not drun.reload:
                continue
            item = self.store.load_state(run.spec.name, drun.spec.name)
            if item is None or item[0] != run.columns or not item[1].get("detector"):
                raise RuntimeError(f"watch {run.spec.name}: the stored state of detector "
                                   f"{drun.spec.name} does not match its series")
            _restore_detector(drun.detector, item[1]["detector"])
            drun.reload = False

    def _save(self, run: _WatchRun, memory: _WatchMemory) -> None:
        """Store what the tick changed: per detector its state, and the watch's own."""
        columns = np.asarray(run.columns, dtype=np.int64)
        for drun, before, lit in zip(run.detectors, memory.detectors, memory.light,
                                     strict=True):
            state = _saved_state(drun)
            previous = None
            if drun.stored and not drun.multivariate:
                detector = before[0]
                if lit:   # not copied: what the live step changed, or all
                    known = drun.hints if memory.columns == run.columns else None
                    detector = _hint_tree(drun.detector.state_, known)
                previous = {"series": np.asarray(memory.columns, dtype=np.int64),
                            "state": _saved_state(drun, detector, *before[1:3])}
            self.store.save_state(run.spec.name, drun.spec.name, columns, state, previous)
        tree = {"series": columns, "seen_at": run.seen_at}
        previous = ({"series": np.asarray(memory.columns, dtype=np.int64),
                     "seen_at": memory.seen_at} if run.stored else None)
        self.store.save_tree(run.spec.name, WATCH_TREE, tree, previous)

    # -------------------------------------------------------- persistence health
    def _persist_failed(self, what: str, error: BaseException) -> None:
        """Count a failed write to the state file; an ERROR line per kind of failure.

        A damaged state file is no failed write (no retry succeeds): :meth:`_state_corrupt`.
        """
        if isinstance(error, StateFileDamaged):
            self._state_corrupt(error)
            return
        kind = f"{type(error).__name__}: {error}"
        h = self.health
        h.persist_errors += 1
        h.persist_ok = False
        h.persist_last_error = f"{what}: {kind}"
        now = time.monotonic()
        if now - self._persist_logged.get(kind, -math.inf) >= PERSIST_LOG_EVERY:
            self._persist_logged[kind] = now
            self._persist_told = True
            log.error("cannot write the state file %s (%s: %s); nothing is lost — the same "
                      "steps are processed again once it can be written (free disk space?)",
                      self.store.path, what, kind)

    def _state_corrupt(self, error: BaseException) -> None:
        """The state file is damaged: say so once, mark the health failed, stop ticking."""
        if self.corrupt is not None:
            return
        self.corrupt = str(error)
        h = self.health
        h.persist_ok = False
        h.persist_last_error = h.state_corrupt = self.corrupt
        log.error("%s; stopping: no retry can read it", self.corrupt)

    def _persisted(self) -> None:
        """A tick's write succeeded."""
        self.health.persist_ok = True
        if self._persist_told:
            self._persist_told = False
            log.warning("the state file %s is written again (%d failed writes so far)",
                        self.store.path, self.health.persist_errors)

    def _steps(self, run: _WatchRun, times: np.ndarray, matrix: np.ndarray, now: float,
               notes: list[tuple[str, tuple[Any, ...]]],
               memory: _WatchMemory | None = None) -> int:
        """Score, decide and learn a block of steps (one live step, or a whole backfill).

        Returns the number of points (observed values) processed.
        """
        if not run.columns:
            return 0
        observed = ~np.isnan(matrix)
        run.seen_at = _latest(np.broadcast_to(times[:, None], matrix.shape), observed,
                              run.seen_at)
        run.last_value = _latest(matrix, observed, run.last_value)
        layout = self.store.layout(run.spec.name, run.columns)
        same = memory is not None and memory.columns == run.columns
        for k, drun in enumerate(run.detectors):
            if drun.detector.cross_sectional:   # peers: groups follow the series' labels
                drun.detector.assign_groups(peer_keys(
                    [run.labels.get(sid, {}) for sid in run.columns], drun.spec.peers_by))
            self._quantile_thresholds(run, drun, float(times[0]))
            extra: dict[int, dict[str, str]] = {}
            # the band needs the state before the block is learned
            bands = None if drun.multivariate else self.remote.bands(drun.detector, matrix,
                                                                     times)
            if drun.multivariate:
                decision, extra = self._entity_steps(run, drun, times, matrix)
            elif (same and times.size == 1 and memory is not None
                  and memory.light[k]):
                decision = self._live_step(drun, matrix, times)
            else:
                decision = drun.stream.process(matrix, times).decision
            name = drun.spec.name
            if self.remote.enabled:
                self.remote.add(run.spec.name, name, [run.labels.get(sid, {}) for sid in
                                                      run.columns], times, observed, decision,
                                None if drun.multivariate else bands, drun.multivariate,
                                matrix, run.columns)
            finite = np.isfinite(decision.level)
            # alert rows change in time order, so a message queued at a change carries the
            # alert as it was then (its score and peak up to that step)
            changes: dict[int, list[Any]] = {}
            for row, change in decision.changes:
                changes.setdefault(row, []).append(change)
            touched: dict[int, list[int]] = {}
            rows, cols = np.nonzero(decision.active & finite)
            for i, j in zip(rows.tolist(), cols.tolist(), strict=True):
                touched.setdefault(i, []).append(j)
            for row in sorted(changes.keys() | touched.keys()):
                for change in changes.get(row, ()):
                    self._alert_change(run, name, change, float(times[row]),
                                       decision.level[row], matrix[row],
                                       decision.threshold[row], now, notes,
                                       extra.get(row) if drun.multivariate else None)
                touches = [(alert_id, decision.level[row, j], matrix[row, j])
                           for j in touched.get(row, ())
                           if (alert_id := run.open_alerts.get((run.columns[j], name)))
                           is not None]
                self.store.touch_alerts(touches)
            drun.last_score = _latest(decision.level, finite, drun.last_score)
            self.store.add_block(run.spec.name, name, layout, times, matrix, decision.level,
                                 decision.threshold)
        return int(observed.sum()) * len(run.detectors)

    def _predict(self, run: _WatchRun, times: np.ndarray, matrix: np.ndarray, now: float,
                 notes: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Warnings ahead (the watch's ``predict:``): predict the block, open and resolve the
        ``warning`` alerts (as of its last step), store the predictor."""
        predict = run.predict
        if predict is None or not run.columns:
            return
        labels = [run.labels.get(sid, {}) for sid in run.columns]
        predict.learn_types(self.sources.get(run.spec.source), labels, now)  # counters' TYPE
        out = predict.update(list(run.columns), labels, times, matrix)
        t, name = float(times[-1]), run.spec.name
        for j in np.flatnonzero(predict.predictor.restarted).tolist():
            key = (name, run.columns[j])
            if now - self._unit_warned.get(key, -math.inf) < 3600.0:
                continue  # a series that keeps jumping: said at most once an hour
            self._unit_warned[key] = now
            with np.errstate(all="ignore"):
                largest = float(np.nanmax(np.abs(matrix[:, j])))
            log.warning("watch %s: series %s now reaches about %.3g, hundreds of orders of "
                        "magnitude from the values its predictions learnt; its predictions "
                        "start anew at the new magnitude (no probability while they learn)",
                        name, labels[j], largest)
        for j in np.flatnonzero(out.warning).tolist():
            sid = run.columns[j]
            alert_id = run.open_alerts.get((sid, PREDICT))
            if alert_id is not None:
                self.store.touch_alert(alert_id, out.probability[j], run.last_value[j])
                continue
            notes_j = predict.annotations(j, name, labels[j])
            alert_id = self.store.open_alert(sid, name, PREDICT, labels[j], t,
                                             out.probability[j], run.last_value[j],
                                             predict.spec.cutoff if np.isfinite(
                                                 predict.predictor.limits[j])
                                             else predict.spec.anomaly_cutoff,
                                             annotations=notes_j)
            run.open_alerts[(sid, PREDICT)] = alert_id
            notes.append(("warning %d firing: %s", (alert_id, notes_j["summary"])))
            for sink in self.notifier.sinks:
                self.store.enqueue(alert_id, sink, "firing", now)
        position = {sid: j for j, sid in enumerate(run.columns)}
        for (sid, detector), alert_id in list(run.open_alerts.items()):
            if detector == PREDICT and sid in position and not out.warning[position[sid]]:
                del run.open_alerts[(sid, detector)]
                self.store.resolve_alert(alert_id, t)
                notes.append(("warning %d resolved", (alert_id,)))
                for sink in self.notifier.sinks:
                    self.store.enqueue(alert_id, sink, "resolved", now)
        predict.save(self.store, name)

    def _live_step(self, drun: _DetectorRun, matrix: np.ndarray,
                   times: np.ndarray) -> BlockDecision:
        """One live step of a univariate detector: the engine's decisions, with one pass.

        :meth:`DetectorStream.process` decides a step at once over all series,
        and when any series must be protected it rolls the whole step back and
        scores, decides and learns it again step-wise (twice the work, and at
        100 000 series some series is nearly always above its cutoff). Series
        are independent, so here the series go in slices of :data:`SLICE` (views
        of the state): a slice is copied, learns the step at once and is
        decided, and only its protected series are rolled back (from the copy)
        and redone by the engine on their own — the same scores, decisions and
        states as ``process`` gives, bit for bit. Comparing each slice with its
        copy also says which chunks of the state changed (``drun.hints``), so no
        copy of the whole state is needed to write only those.
        """
        full = drun.detector.state_
        decider_state, calibrator_state = drun.decider.state_, drun.decider.calibrator.state_
        both = {**decider_state, "calibrator": calibrator_state}
        n = matrix.shape[1]
        edges = list(range(0, n, SLICE))
        if n - edges[-1] < 2:        # a lone last series joins the slice before it
            edges.pop()
        edges.append(n)
        names = ("level", "threshold", "above", "active", "protect", "learning")
        fields = {name: np.zeros((1, n), dtype=float if name in ("level", "threshold")
                                 else bool) for name in names}
        changes: list[tuple[int, Any]] = []
        leaves = list(_array_leaves(full, drun.layout.axes))
        hints: dict[tuple[str, ...], list[np.ndarray]] = {path: [] for path, _, _ in leaves}
        try:
            for start, stop in itertools.pairwise(edges):
                part = drun.layout.view(full, start, stop)
                part_before = copy_state(part)
                decide = drun.decider_layout.view(both, start, stop)
                decide_before = copy_state(decide)
                drun.detector.state_ = part
                drun.decider.calibrator.state_ = decide.pop("calibrator")
                drun.decider.state_ = decide
                scores = np.asarray(drun.detector.update_many(matrix[:, start:stop], times),
                                    dtype=np.float64).reshape(1, stop - start)
                decision = drun.decider.update_many(scores, times)
                drun.layout.put(full, slice(start, stop), drun.detector.state_)
                drun.decider_layout.put(both, slice(start, stop), {
                    **drun.decider.state_, "calibrator": drun.decider.calibrator.state_})
                for name in names:
                    fields[name][:, start:stop] = getattr(decision, name)
                redo = np.flatnonzero(decision.protect[0])
                changes += [(row, type(c)(start + c.series, c.status, c.start))
                            for row, c in decision.changes if not decision.protect[0, c.series]]
                if redo.size:
                    changes += self._redo(drun, part_before, decide_before, full, both,
                                          matrix[:, start:stop], times, redo, start, fields)
                for path, array, axis in leaves:
                    index = [slice(None)] * array.ndim
                    index[axis] = slice(start, stop)
                    hints[path].append(chunks_of(_get(part_before, path),
                                                 array[tuple(index)], array.shape, axis, start))
        finally:
            drun.detector.state_ = full
            drun.decider.state_, drun.decider.calibrator.state_ = (decider_state,
                                                                   calibrator_state)
        drun.hints = {path: np.unique(np.concatenate(parts)) if parts else
                      np.zeros(0, dtype=np.int64) for path, parts in hints.items()}
        # the decider's order: per step, alerts firing then resolving, each by series
        return BlockDecision(**fields, changes=sorted(changes, key=lambda rc: (
            rc[0], rc[1].status != "firing", rc[1].series)))

    def _redo(self, drun: _DetectorRun, part_before: Any, decide_before: Any, full: Any,
              both: Any, matrix: np.ndarray, times: np.ndarray, redo: np.ndarray, start: int,
              fields: dict[str, np.ndarray]) -> list[tuple[int, Any]]:
        """Redo the protected series ``redo`` of a slice with the engine, from the slice's
        state before the step; write their states and decisions back. Returns their alert
        changes (positions of the whole watch)."""
        # numpy sums a one-column array in another order than the columns of a wider
        # one: a lone series is redone twice side by side, so its sums round alike
        picked = redo if redo.size > 1 else np.r_[redo, redo]
        detector = drun.detector.clone()
        detector.state_ = drun.layout.select(part_before, picked)
        decider = drun.spec.decision(self.config.interval, detector)
        state = drun.decider_layout.select(decide_before, picked)
        decider.calibrator.state_ = state.pop("calibrator")
        decider.state_ = state
        again = DetectorStream(detector, decider).process(matrix[:, picked], times).decision
        drun.layout.put(full, start + picked, detector.state_)
        drun.decider_layout.put(both, start + picked, {**decider.state_,
                                                       "calibrator": decider.calibrator.state_})
        for name in fields:
            fields[name][:, start + redo] = getattr(again, name)[:, :redo.size]
        return [(row, type(c)(start + int(redo[c.series]), c.status, c.start))
                for row, c in again.changes if c.series < redo.size]

    def _alert_change(self, run: _WatchRun, name: str, change: Any, t: float,
                      level: np.ndarray, values: np.ndarray, threshold: np.ndarray, now: float,
                      notes: list[tuple[str, tuple[Any, ...]]],
                      entity: dict[str, str] | None = None) -> None:
        """Open or resolve an alert row and queue its messages (one step's change).

        ``entity`` (a multivariate model's alert) holds the annotations; its labels
        are those all the watch's series share, and it lives on the first series.
        """
        j, sid = change.series, run.columns[change.series]
        if change.status == "firing":
            start = change.start if change.start is not None else t
            labels = run.labels.get(sid, {}) if entity is None else _shared_labels(run)
            alert_id = self.store.open_alert(sid, run.spec.name, name, labels,
                                             float(start), level[j], values[j], threshold[j],
                                             annotations=entity)
            run.open_alerts[(sid, name)] = alert_id
            notes.append(("alert %d firing: %s %s %s score=%.3g",
                          (alert_id, run.spec.name, name, run.labels.get(sid), level[j])))
        else:
            alert_id = run.open_alerts.pop((sid, name), None)
            if alert_id is None:
                return
            self.store.resolve_alert(alert_id, t)
            notes.append(("alert %d resolved", (alert_id,)))
        for sink in self.notifier.sinks:
            self.store.enqueue(alert_id, sink, change.status, now)

    def _entity_steps(self, run: _WatchRun, drun: _DetectorRun, times: np.ndarray,
                      matrix: np.ndarray) -> tuple[Any, dict[int, dict[str, str]]]:
        """A trained multivariate model over the watch's series (its inputs, by name).

        Returns the decisions repeated for every series of the watch, and, for
        each step, annotations naming the inputs that drove the score most.
        """
        features = drun.features or []
        inputs = np.full((matrix.shape[0], len(features)), np.nan)
        position = {f: k for k, f in enumerate(features)}
        for j, sid in enumerate(run.columns):
            k = position.get(_feature_of(run.labels.get(sid, {}), drun.spec.feature_label))
            if k is not None and np.isnan(inputs[:, k]).all():
                inputs[:, k] = matrix[:, j]
        before = copy_state(drun.detector.state_)
        out = drun.stream.process(inputs, times).decision
        n = len(run.columns)
        drun.last_score = np.resize(drun.last_score, n)
        repeat = {name: np.repeat(getattr(out, name)[:, :1], n, axis=1) for name in
                  ("level", "threshold", "above", "active", "protect", "learning")}
        changes = [(row, type(c)(0, c.status, c.start)) for row, c in out.changes]
        notes: dict[int, dict[str, str]] = {}
        firing = sorted({row for row, c in changes if c.status == "firing"})
        if firing:  # explain only a tick that pages, from the state the block started with
            probe = drun.detector.clone()
            probe.state_ = before
            explained = probe.explain(inputs[:firing[-1] + 1], times[:firing[-1] + 1])
            if explained.attribution is not None:
                for row in firing:
                    top = explained.top_inputs(row, features, k=3)
                    notes[row] = {"top_inputs": ", ".join(f"{f} {share:.0%}"
                                                          for f, share in top)}
                    notes[row]["top_causes"] = notes[row]["top_inputs"]  # ranked causes
        return BlockDecision(**repeat, changes=changes), notes

    def _quantile_thresholds(self, run: _WatchRun, drun: _DetectorRun, t: float) -> None:
        """Refresh a quantile cutoff from the stored levels of the last ``QUANTILE_STEPS``."""
        cutoff = drun.spec.cutoff
        if cutoff.kind != "quantile":
            return
        age = t - drun.thresholds_at
        if age < 60 and not (age >= 5 * self.config.interval
                             and not np.isfinite(drun.thresholds).all()):
            return
        since = t - QUANTILE_STEPS * self.config.interval
        out = recent_quantiles(self.store, run.columns, drun.spec.name, since, cutoff.value,
                               QUANTILE_MIN_SCORES)
        drun.decider.set_thresholds(out)
        drun.thresholds_at = t

    # ------------------------------------------------------------ series columns
    def _add_columns(self, run: _WatchRun, new: list[int]) -> None:
        for drun in run.detectors:
            if drun.multivariate:  # a trained model's inputs are fixed: nothing to grow
                drun.last_score = np.r_[drun.last_score, np.full(len(new), np.nan)]
                continue
            if drun.detector.state_ is None:
                drun.detector.state_ = drun.layout.fresh(len(run.columns) + len(new))
            else:
                drun.detector.state_ = drun.layout.append(drun.detector.state_, len(new))
            drun.set_decider_state(drun.decider_layout.append(
                drun.decider.state_dict()["state"], len(new)))
            drun.last_score = np.r_[drun.last_score, np.full(len(new), np.nan)]
            drun.thresholds_at = -math.inf
        run.columns.extend(new)
        run.last_value = np.r_[run.last_value, np.full(len(new), np.nan)]
        run.seen_at = np.r_[run.seen_at, np.full(len(new), np.nan)]
        log.info("watch %s: %d new series (now %d)", run.spec.name, len(new), len(run.columns))

    def _age_out(self, run: _WatchRun, t: float, now: float) -> None:
        with np.errstate(invalid="ignore"):
            gone = np.flatnonzero(t - run.seen_at > self.config.series_ttl).tolist()
        if not gone:
            return
        drop = set(gone)
        keep = [j for j in range(len(run.columns)) if j not in drop]
        gone_ids = [run.columns[j] for j in gone]
        for drun in run.detectors:
            for sid in gone_ids:
                alert_id = run.open_alerts.pop((sid, drun.spec.name), None)
                if alert_id is not None:
                    self.store.resolve_alert(alert_id, t)
                    for sink in self.notifier.sinks:
                        self.store.enqueue(alert_id, sink, "resolved", now)
            if not drun.multivariate:
                drun.detector.state_ = drun.layout.select(drun.detector.state_, keep)
                drun.set_decider_state(drun.decider_layout.select(
                    drun.decider.state_dict()["state"], keep))
            drun.last_score = drun.last_score[keep]
            drun.thresholds_at = -math.inf
        for sid in gone_ids:   # their warnings ahead end too
            alert_id = run.open_alerts.pop((sid, PREDICT), None)
            if alert_id is not None:
                self.store.resolve_alert(alert_id, t)
                for sink in self.notifier.sinks:
                    self.store.enqueue(alert_id, sink, "resolved", now)
        run.columns = [run.columns[j] for j in keep]
        run.last_value = run.last_value[keep]
        run.seen_at = run.seen_at[keep]
        self.store.set_inactive(gone_ids)
        self.store.set_last_seen([(sid, t) for sid in gone_ids])
        log.info("watch %s: %d series aged out (unseen for %.0f s)", run.spec.name,
                 len(gone_ids), self.config.series_ttl)

    # ----------------------------------------------------------------- status
    def _publish(self) -> None:
        now = self.clock()
        watches = {}
        for run in self.runs:
            table = _table(run)
            firing = table.firing
            rows = (range(len(table)) if len(table) <= SNAPSHOT_SERIES
                    else np.flatnonzero(firing).tolist())
            watches[run.spec.name] = {
                "source": run.spec.source,
                "query": run.spec.query,
                "last_t": run.last_t,
                "lag": None if run.last_t is None else now - run.last_t,
                "n_series": len(table),
                "n_firing": int(firing.sum()),
                #: every series up to SNAPSHOT_SERIES of them, else only the firing ones
                "series": [table.row(j) for j in rows],
                "series_complete": len(table) <= SNAPSHOT_SERIES,
                "table": table,
                "predictions": None if run.predict is None else run.predict.snapshot(
                    run.columns),
                "forecasts": None if run.predict is None else run.predict.frozen(),
            }
        h = self.health
        self._snapshot = {
            "now": now,
            "metrics_series": self.config.metrics_series,
            "interval": self.config.interval,
            "watches": watches,
            "health": {
                "started": h.started, "ticks": h.ticks, "tick_seconds": h.tick_seconds,
                "points": h.points, "source_up": dict(h.source_up),
                "source_errors": dict(h.source_errors),
                "source_last_error": dict(h.source_last_error),
                "watch_errors": dict(h.watch_errors), "backfilled_steps": h.backfilled_steps,
                "skipped_steps": h.skipped_steps, "infinite_values": dict(h.infinite_values),
                "persist_errors": h.persist_errors, "persist_ok": h.persist_ok,
                "persist_last_error": h.persist_last_error,
                "state_corrupt": h.state_corrupt,
                "tick_buckets": list(TICK_BUCKETS), "tick_counts": list(h.tick_counts),
                "tick_sum": h.tick_sum, "state_bytes": _file_bytes(self.store.path),
                "resident_bytes": _resident_bytes(), "shard": list(self.config.shard),
                "notifications_sent": dict(self.notifier.sent),
                "notifications_failed": dict(self.notifier.failures),
                "remote_write": self.remote.stats(),
            },
        }

    def snapshot(self) -> dict[str, Any]:
        """The status after the last tick (plain data; safe to read from another thread)."""
        return self._snapshot


def _table(run: _WatchRun) -> SeriesTable:
    """The watch's status as columns (copies: the next tick does not change them)."""
    n = len(run.columns)
    detectors = {}
    for d in run.detectors:
        seen = d.decider.state_["seen"]
        detectors[d.spec.name] = DetectorColumns(
            score=d.last_score[:n].copy(), threshold=np.resize(d.thresholds, n).astype(float),
            firing=np.resize(d.active, n).astype(bool),
            seen=np.resize(seen[:1] if d.multivariate else seen, n).astype(np.int64),
            needed=int(d.decider.warmup) + int(getattr(d.decider.calibrator, "n_warmup", 0)))
    return SeriesTable(np.asarray(run.columns, dtype=np.int64),
                       [run.labels.get(sid, {}) for sid in run.columns],
                       np.resize(run.last_value, n).copy(), run.seen_at[:n].copy(), detectors)


def _array_leaves(state: Any, axes: Any, path: tuple[str, ...] = ()
                  ) -> Any:
    """``(path, array, series axis)`` of every array of a state tree."""
    if isinstance(state, dict):
        for key, value in state.items():
            yield from _array_leaves(value, axes.get(key) if isinstance(axes, dict) else None,
                                     (*path, key))
    elif isinstance(state, np.ndarray) and axes is not None:
        yield path, state, axes


def _get(state: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        state = state[key]
    return state


def _hint_tree(state: Any, hints: dict[tuple[str, ...], np.ndarray] | None,
               path: tuple[str, ...] = ()) -> Any:
    """``state`` with each array replaced by a :class:`ChunkHint`: the chunks the live
    step changed (``hints``), or all of them."""
    if isinstance(state, dict):
        return {key: _hint_tree(value, hints, (*path, key)) for key, value in state.items()}
    if isinstance(state, np.ndarray):
        return ChunkHint(tuple(state.shape), state.dtype.str,
                         None if hints is None else hints.get(path))
    return state


def _saved_state(drun: _DetectorRun, detector: Any = None, decider: Any = None,
                 calibrator: Any = None) -> dict[str, Any]:
    """What a tick stores of a detector: its state and its decider's (no copies).

    The states default to the run's current ones; pass others (the copies taken
    before the tick) to get the tree as it was stored before.

    A model from a ``kizashi train`` folder is not stored every tick: only its
    stream state (input window, error normaliser) and the key of the weights it
    belongs to; the weights come from the folder at start.
    """
    if detector is None:
        detector, decider = drun.detector.state_, drun.decider.state_
        calibrator = drun.decider.calibrator.state_
    out: dict[str, Any] = {"decider": {**decider, "calibrator": calibrator}}
    if detector is None:
        out["detector"] = None
    elif drun.spec.model is not None:
        model, stream = drun.detector.split_state_dict()
        out.update(detector_stream=stream, model_key=model.get("weights_key"))
    else:
        out["detector"] = {"format": STATE_FORMAT_VERSION,
                           "detector": type(drun.detector).__name__,
                           "params": to_json_safe(drun.detector.get_params()),
                           "state": detector}
    return out


def _restore_detector(detector: Any, saved: dict[str, Any]) -> None:
    """Put a stored detector state (``_saved_state``'s ``detector``) back, without copying it.

    The checks are :meth:`Detector.load_state_dict`'s: format, class and parameters.
    """
    if saved.get("format") != STATE_FORMAT_VERSION:
        raise ValueError(f"unknown detector state format {saved.get('format')!r}")
    if saved.get("detector") != type(detector).__name__:
        raise ValueError(f"state belongs to {saved.get('detector')!r}, not "
                         f"{type(detector).__name__!r}")
    mine = from_json_safe(to_json_safe(detector.get_params()))
    if from_json_safe(saved["params"]) != mine:
        raise ValueError(f"state was saved with parameters {from_json_safe(saved['params'])}, "
                         f"this detector has {mine}")
    if not isinstance(saved.get("state"), dict) or "n_series" not in saved["state"]:
        raise ValueError("detector state lacks 'n_series'")
    detector.state_ = saved["state"]


def _latest(values: np.ndarray, seen: np.ndarray, previous: np.ndarray) -> np.ndarray:
    """Per column, the value of the last row where ``seen``, else ``previous``.

    >>> _latest(np.array([[1.0, 2.0], [3.0, np.nan]]), np.array([[1, 1], [1, 0]], bool),
    ...         np.array([9.0, 9.0])).tolist()
    [3.0, 2.0]
    """
    if not values.shape[0]:
        return previous
    last = seen.shape[0] - 1 - np.argmax(seen[::-1], axis=0)
    return np.where(seen.any(axis=0), values[last, np.arange(values.shape[1])], previous)


def _feature_of(labels: dict[str, str], label: str | None) -> str | None:
    """A series' input name: its ``label``, else ``__name__``, ``metric`` or ``series``."""
    if label is not None:
        return labels.get(label)
    return labels.get("__name__") or labels.get("metric") or labels.get("series")


def _shared_labels(run: _WatchRun) -> dict[str, str]:
    """The labels every series of a watch has alike (a multivariate alert's identity)."""
    sets = [run.labels.get(sid, {}) for sid in run.columns]
    if not sets:
        return {}
    shared = {k: v for k, v in sets[0].items() if all(s.get(k) == v for s in sets[1:])}
    return shared or {"watch": run.spec.name}


def _file_bytes(path: str) -> int:
    """Bytes of the state file and its WAL (0 for an in-memory store)."""
    total = 0
    for name in (path, path + "-wal"):
        with contextlib.suppress(OSError):
            total += os.path.getsize(name)
    return total


def _resident_bytes() -> int | None:
    """This process' resident memory (Linux), or None."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def _f(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _same_kind(message: str | None) -> str | None:
    """A source error's message, its endpoint's instant and range forms made one."""
    return None if message is None else message.replace("query_range", "query")
