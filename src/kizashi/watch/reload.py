"""Reloading the daemon's config on ``SIGHUP``: what starts, stops, restarts and stays.

:func:`plan_reload` compares the running config with the new one:

* a watch only in the new config **starts** (from its saved state, if the
  state file has one from an earlier run, else fresh);
* a watch only in the old one **stops**: its open alerts resolve (and the
  "resolved" messages go out), its series leave the dashboard; its saved
  state stays in the file, so adding it back resumes it;
* a watch whose query, source, columns or detectors changed **restarts** with
  a warning naming what changed: it is loaded again from the state file, where
  every detector whose parameters are unchanged keeps its learned state and
  every alert run its progress (a detector with new parameters starts afresh);
* every other watch is **kept** as it runs — its in-memory state is untouched.

A changed ``interval`` restarts every watch. Changed sources (URL, auth, TLS),
``alerts`` and ``remote_write`` take effect at once; the durations
(``max_backfill``, ``series_ttl``, ``retention`` …) with the next tick.
``storage``, ``listen``, ``token``, ``log_format`` and ``shard`` need a restart of the
process: a reload keeps their old values and says so.

A new config that does not load (bad YAML, an unknown key, a detector that
cannot run …) changes nothing: the daemon logs the error and keeps running the
config it has.

Examples
--------
>>> from kizashi.watch.config import parse_config
>>> base = '''
... listen: off
... sources: {p: {type: prometheus, url: "http://127.0.0.1:9"}}
... watches:
...   - {name: cpu, query: cpu}
...   - {name: mem, query: mem, detectors: [{detector: threshold, params: {k: 3}}]}
...   - {name: io, query: io}
... '''
>>> old = parse_config(base)
>>> new = parse_config(base.replace("k: 3", "k: 5").replace("name: io, query: io",
...                                                         "name: net, query: net"))
>>> plan = plan_reload(old, new)
>>> plan.keep, plan.restart, plan.start, plan.stop
(('cpu',), ('mem',), ('net',), ('io',))
>>> plan.changes["mem"]
['detector threshold changed (its learned state restarts)']
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from kizashi.watch.config import WatchConfig, WatchSpec
from kizashi.watch.store import StateFileDamaged

__all__ = ["NEEDS_RESTART", "ReloadPlan", "apply_reload", "plan_reload", "reload_watcher"]

log = logging.getLogger("kizashi.watch")

#: keys a reload cannot change in a running process (the old value is kept)
NEEDS_RESTART = ("storage", "listen", "token", "log_format", "shard")


@dataclass(frozen=True)
class ReloadPlan:
    """Watch names by fate, and what else changed.

    >>> ReloadPlan(start=("d",), stop=(), restart=("b",), keep=("a", "c")).summary()
    'started d; restarted b; 2 kept as they were'
    """

    start: tuple[str, ...]
    stop: tuple[str, ...]
    restart: tuple[str, ...]
    keep: tuple[str, ...]
    #: per restarted watch, what changed (for the warning)
    changes: dict[str, list[str]] = field(default_factory=dict)
    #: sources whose settings changed (rebuilt), or that are new
    sources: tuple[str, ...] = ()
    alerts_changed: bool = False
    remote_write_changed: bool = False
    #: keys of :data:`NEEDS_RESTART` that differ (kept at their old values)
    ignored: tuple[str, ...] = ()

    def summary(self) -> str:
        """One line for the log."""
        parts = [f"{label} {', '.join(names)}" for label, names in (
            ("started", self.start), ("stopped", self.stop), ("restarted", self.restart))
            if names]
        parts.append(f"{len(self.keep)} kept as they were")
        return "; ".join(parts)


def plan_reload(old: WatchConfig, new: WatchConfig) -> ReloadPlan:
    """Which watches of ``new`` start, stop, restart or stay, compared with ``old``."""
    before = {w.name: w for w in old.watches}
    after = {w.name: w for w in new.watches}
    start = tuple(name for name in after if name not in before)
    stop = tuple(name for name in before if name not in after)
    restart, keep, changes = [], [], {}
    for name, spec in after.items():
        if name not in before:
            continue
        what = _changes(before[name], spec)
        if old.interval != new.interval:
            what.insert(0, f"interval changed from {old.interval:g} s to {new.interval:g} s")
        if what:
            restart.append(name)
            changes[name] = what
        else:
            keep.append(name)
    sources = tuple(name for name, source in new.sources.items()
                    if old.sources.get(name) != source)
    return ReloadPlan(
        start=start, stop=stop, restart=tuple(restart), keep=tuple(keep), changes=changes,
        sources=sources,
        alerts_changed=(old.alerts, old.link_base) != (new.alerts, new.link_base),
        remote_write_changed=old.remote_write != new.remote_write,
        ignored=tuple(key for key in NEEDS_RESTART if getattr(old, key) != getattr(new, key)),
    )


def _changes(old: WatchSpec, new: WatchSpec) -> list[str]:
    out = []
    for key in ("source", "query", "columns", "predict"):
        if getattr(old, key) != getattr(new, key):
            out.append(f"{key} changed")
    before = {d.name: d for d in old.detectors}
    after = {d.name: d for d in new.detectors}
    for name, spec in after.items():
        if name not in before:
            out.append(f"detector {name} added")
        elif before[name] != spec:
            out.append(f"detector {name} changed (its learned state restarts)"
                       if (before[name].detector, before[name].params, before[name].model)
                       != (spec.detector, spec.params, spec.model)
                       else f"detector {name}'s decision rule changed")
    out.extend(f"detector {name} removed" for name in before if name not in after)
    return out


def apply_reload(watcher: Any, new: WatchConfig, plan: ReloadPlan) -> None:
    """Make a running :class:`~kizashi.watch.watcher.Watcher` follow ``plan`` to ``new``.

    Called between ticks (the tick loop is paused). Keys of
    :data:`NEEDS_RESTART` keep their old values.
    """
    from kizashi.watch.alerts import Notifier
    from kizashi.watch.remote_write import RemoteWriter
    from kizashi.watch.watcher import make_source

    old = watcher.config
    new = replace(new, **{key: getattr(old, key) for key in NEEDS_RESTART})
    for key in plan.ignored:
        log.warning("reload: '%s' changed; it takes effect only when the daemon restarts "
                    "(keeping %r)", key, getattr(old, key))
    health = watcher.health
    saved = (watcher.config, watcher.sources, watcher.notifier, watcher.remote,
             dict(health.source_up), dict(health.source_errors))
    runs = {run.spec.name: run for run in watcher.runs}
    try:  # build everything first; on an error the daemon goes on exactly as it was
        watcher.config = new
        watcher.sources = {name: watcher.sources[name] if name in watcher.sources
                           and name not in plan.sources else make_source(new, name)
                           for name in new.sources}
        health.source_up = {name: health.source_up.get(name, True) for name in new.sources}
        health.source_errors = {name: health.source_errors.get(name, 0)
                                for name in new.sources}
        if plan.alerts_changed:
            notifier = Notifier(new.alerts, new.link_base, watcher.clock,
                                store_error=watcher.notifier.store_error)
            notifier.sent, notifier.failures = watcher.notifier.sent, watcher.notifier.failures
            watcher.notifier = notifier
        if plan.remote_write_changed:
            watcher.remote = RemoteWriter(new.remote_write, new.storage)
            watcher.remote.counts.update(saved[3].counts)
        out = []
        for spec in new.watches:
            if spec.name in plan.keep:
                out.append(runs[spec.name])
                continue
            if spec.name in plan.restart:
                log.warning("reload: watch %s restarts: %s", spec.name,
                            "; ".join(plan.changes.get(spec.name, [])))
            out.append(watcher._load(spec))
    except BaseException:
        (watcher.config, watcher.sources, watcher.notifier, watcher.remote,
         health.source_up, health.source_errors) = saved
        raise
    for name in plan.stop:
        _stop(watcher, runs[name])
    if watcher.remote is not saved[3]:
        saved[3].close()
    for run in out:
        run.spec = next(spec for spec in new.watches if spec.name == run.spec.name)
    watcher.runs = out
    watcher._publish()


def _stop(watcher: Any, run: Any) -> None:
    """A watch leaves: its open alerts resolve now, its series are marked inactive."""
    store, now = watcher.store, watcher.clock()
    ended = run.last_t if run.last_t is not None else now
    try:
        with store.transaction():
            for alert_id in run.open_alerts.values():
                store.resolve_alert(alert_id, ended)
                for sink in watcher.notifier.sinks:
                    store.enqueue(alert_id, sink, "resolved", now)
            store.set_inactive(list(run.columns))
    except StateFileDamaged as error:  # no retry can read it: the daemon stops
        watcher._state_corrupt(error)
    except sqlite3.Error as error:  # resolved at the next start instead (see Watcher._load)
        log.error("reload: resolving the alerts of removed watch %s failed: %s",
                  run.spec.name, error)
    log.info("reload: watch %s stopped (%d open alerts resolved)", run.spec.name,
             len(run.open_alerts))


def reload_watcher(watcher: Any, load: Callable[[], WatchConfig]) -> ReloadPlan | None:
    """Load the config again with ``load`` and apply it; on any error keep the old one.

    Returns the plan applied, or None when the new config was refused.
    """
    try:
        new = load()
    except ValueError as error:
        log.error("reload refused, still running the previous config: %s", error)
        return None
    plan = plan_reload(watcher.config, new)
    try:
        apply_reload(watcher, new, plan)
    except StateFileDamaged as error:  # the state file, not the config: the daemon stops
        watcher._state_corrupt(error)
        return None
    except Exception as error:  # e.g. a model folder that vanished or a queue that won't open
        log.error("reload refused, still running the previous config: %s", error)
        return None
    log.info("reloaded %s: %s", new.path, plan.summary())
    return plan
