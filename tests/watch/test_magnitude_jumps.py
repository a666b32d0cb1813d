"""A watched series whose values jump by hundreds of orders of magnitude: no overflow.

A series at about 1 for its first steps jumps to about 1e300 (a broken exporter, or a
unit changed from exabytes to bytes), or down to about 1e-300, or to the negative of
either. The watch (its default ``threshold`` detector and its predictions) must keep
finite scores, alert the jump, log once that the series' predictions start anew, keep a
predictor state without ±inf, and go on after a restart from its state file exactly as
an unbroken run. Before, the predictor kept the factor it had chosen at the series'
first values (:mod:`kizashi.streaming.magnitudes`): its sums of squared errors overflowed
to inf ("overflow encountered in square") and the series had no probability ever after.

Family: jumps of 10^150 (just past the ordinary range, 2^400 ≈ 2.6e120), 10^200, 10^300,
2^1000, 10^-300 and 2^-1000, each up and negative.
"""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
from watch_servers import Clock, FunctionSource

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

STEP = 300.0
T0 = 1_800_000_000.0
N = 200            # steps watched
AT = 120           # the step of the jump: after the detector's warm-up of 30 steps
RESTART = 150      # a second daemon takes over from the state file here
JUMPS = [1e150, 1e200, 1e300, 2.0 ** 1000, 1e-300, 2.0 ** -1000]
CASES = [(jump, sign) for jump in JUMPS for sign in (1.0, -1.0)]


def config(storage: str) -> str:
    return f"""
interval: 5m
listen: off
storage: "{storage}"
initial_backfill: 0s
sources: {{p: {{type: prometheus, url: "http://127.0.0.1:9"}}}}
watches:
  - name: m
    query: up
    source: p
    detectors: [{{name: sigma, detector: threshold}}]
    predict: {{horizon: 1h}}
"""


def value_of(jump: float, sign: float):
    noise = np.random.default_rng(3).normal(0.0, 0.05, N + 5)

    def value(name: str, t: float) -> float:
        i = round((t - T0) / STEP)
        base = 1.0 + noise[i]
        return base if i < AT else sign * base * jump
    return value


def watcher(storage: str, clock: Clock, jump: float, sign: float) -> Watcher:
    parsed = parse_config(config(storage))
    return Watcher(parsed, WatchStore(parsed.storage), clock=clock,
                   sources={"p": FunctionSource(value_of(jump, sign), ["a"])})


def run(tmp_path, jump: float, sign: float, restart_at: int | None, name: str):
    storage = str(tmp_path / f"{name}.sqlite")
    clock = Clock(T0)
    daemon = watcher(storage, clock, jump, sign)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(N):
            if i == restart_at:   # a new process, from the state file only
                daemon.store.close()
                daemon = watcher(storage, clock, jump, sign)
            clock.t = T0 + i * STEP
            daemon.tick()
    numeric = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    return daemon, numeric


def leaves(tree, path=""):
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from leaves(value, f"{path}/{key}")
    else:
        yield path, tree


@pytest.mark.parametrize(("jump", "sign"), CASES, ids=[f"{s:+.0f}x{j:g}" for j, s in CASES])
def test_a_jump_of_hundreds_of_orders_of_magnitude_is_alerted_without_overflow(
        tmp_path, caplog, jump, sign):
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        unbroken, numeric = run(tmp_path, jump, sign, None, "unbroken")
    assert numeric == [], numeric                      # no overflow, no invalid value
    store = unbroken.store
    (sid,) = [s["id"] for s in store.all_series()]
    points = store.points(sid)["sigma"]
    assert points["t"].size == N
    assert np.isfinite(points["score"][30:]).all()     # after the warm-up of 30 steps
    assert np.isfinite(points["value"]).all()
    alerts = [a for a in store.alerts() if a["detector"] == "sigma"]
    assert alerts and alerts[0]["starts_at"] == T0 + AT * STEP, alerts   # the jump, at once
    restarts = [r.getMessage() for r in caplog.records if "start anew" in r.getMessage()]
    assert len(restarts) == 1 and "watch m:" in restarts[0], restarts
    tree = store.load_tree("m", "predict")
    infinite = [p for p, v in leaves(tree) if isinstance(v, np.ndarray) and v.dtype.kind == "f"
                and np.isinf(v).any()]
    assert infinite == [], infinite
    # stopped after the jump and started again from the state file: the same run
    again, numeric = run(tmp_path, jump, sign, RESTART, "restarted")
    assert numeric == []
    other = again.store.points(sid)["sigma"]
    for key in ("t", "value", "score", "threshold"):
        np.testing.assert_array_equal(other[key], points[key])
    assert [(a["status"], a["starts_at"]) for a in again.store.alerts()] == \
        [(a["status"], a["starts_at"]) for a in store.alerts()]
    np.testing.assert_array_equal(again.store.load_tree("m", "predict")["predictor"]
                                  ["probability"], tree["predictor"]["probability"])


def test_an_ordinary_series_never_starts_anew(tmp_path, caplog):
    """The control: a jump of 10^100 stays within the ordinary range (2^400): the
    predictions go on in their unit, no restart is said."""
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        daemon, numeric = run(tmp_path, 1e100, 1.0, None, "ordinary")
    assert numeric == []
    assert not [r for r in caplog.records if "start anew" in r.getMessage()]
    first = next(a for a in daemon.store.alerts() if a["detector"] == "sigma")
    assert first["starts_at"] == T0 + AT * STEP


@pytest.mark.parametrize("every", [1, 3, 10])
def test_a_series_that_keeps_jumping_is_told_at_most_once_an_hour(tmp_path, caplog, every):
    """Values that swap between about 1 and about 1e300 every ``every`` steps (5 min each)
    restart the predictions at each swap; the WARNING saying so comes at most once an
    hour of the watch's clock (16.6 h here: at most 17), not at every tick."""
    noise = np.random.default_rng(4).normal(0.0, 0.05, N + 5)

    def value(name: str, t: float) -> float:
        i = round((t - T0) / STEP)
        return (1.0 + noise[i]) * (1e300 if (i // every) % 2 else 1.0)

    parsed = parse_config(config(str(tmp_path / "s.sqlite")))
    clock = Clock(T0)
    daemon = Watcher(parsed, WatchStore(parsed.storage), clock=clock,
                     sources={"p": FunctionSource(value, ["a"])})
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for i in range(N):
            clock.t = T0 + i * STEP
            daemon.tick()
    told = [r for r in caplog.records if "start anew" in r.getMessage()]
    hours = (N - 1) * STEP / 3600
    assert 2 <= len(told) <= int(hours) + 1, len(told)
