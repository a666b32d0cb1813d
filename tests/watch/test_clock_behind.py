"""A watch whose last processed step lies ahead of the clock (the clock was set back, or the
state file comes from a machine whose clock ran ahead), against docs/watch.md ("How a
tick works": a tick processes the steps after the last processed one up to now).

Nothing can be processed until the clock passes that step. Before, the daemon waited in
silence — for a state file a month ahead, a month of ticks doing nothing with no word in
the log. Now it says so once (one WARNING naming the watch, how far ahead and what to
do), stays quiet on the following ticks, and processes every step again once the clock
passes the stored one (the warning re-armed). Family: the clock set back by one step up
to ten years, and a stored time past year 9999.
"""

from __future__ import annotations

import logging

import pytest
from watch_configs import sigma_config
from watch_servers import Clock, FunctionSource

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

T0 = 1_700_000_000.0
BACK = {"one step": 1.0, "a minute": 60.0, "a month": 30 * 86400.0,
        "ten years": 3650 * 86400.0, "past year 9999": 1e12}


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno == logging.WARNING and "ahead of this machine's clock" in r.getMessage()]


@pytest.mark.parametrize("case", list(BACK))
def test_a_clock_behind_the_state_is_said_once_and_steps_flow_after_it(caplog, case):
    store = WatchStore(":memory:")
    clock = Clock(T0)
    source = FunctionSource(lambda name, t: 10.0 + (t % 7), ["a", "b"])
    config = parse_config(sigma_config())
    watcher = Watcher(config, store, clock=clock, sources={"prometheus": source})
    for _ in range(3):
        watcher.tick()
        clock.t += 1.0
    last = store.progress("m")
    assert last == T0 + 2.0
    ahead = T0 + 2.0 + BACK[case] if case == "past year 9999" else None
    if ahead is not None:  # a state written by a clock far in the future
        with store.transaction():
            store.set_progress("m", ahead)
        last = ahead
    else:
        clock.t = last - BACK[case]
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        for _ in range(3):
            watcher.tick()
            clock.t += 0.25 if ahead is None and BACK[case] <= 1.0 else 1.0
    said = warnings_of(caplog)
    assert len(said) == 1, said
    assert "watch m:" in said[0] and "move the state file away" in said[0], said[0]
    assert store.progress("m") == last  # nothing processed meanwhile
    if ahead is not None:
        return
    clock.t = last + 1.0  # the clock passes the stored step: steps flow again
    watcher.tick()
    assert store.progress("m") == last + 1.0
    clock.t = last - 5.0  # set back once more: said again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        watcher.tick()
    assert len(warnings_of(caplog)) == 1


def test_a_tick_before_the_next_step_says_nothing(caplog):
    store = WatchStore(":memory:")
    clock = Clock(T0)
    source = FunctionSource(lambda name, t: 10.0, ["a"])
    watcher = Watcher(parse_config(sigma_config()), store, clock=clock,
                      sources={"prometheus": source})
    with caplog.at_level(logging.WARNING, logger="kizashi.watch"):
        for _ in range(8):
            watcher.tick()
            clock.t += 0.25  # four ticks per step: three of them find no new step
    assert warnings_of(caplog) == []
    assert store.progress("m") == T0 + 1.0
