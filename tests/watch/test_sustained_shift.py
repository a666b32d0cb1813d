"""A sustained shift pages once and stays firing until it ends; a repeat pages again.

The CPU detector settings are read from the shipped ``examples/watch-node-exporter.yaml``
(``cpu_sigma``: rolling mean ± 4σ over 2 h, 5 min to fire and to resolve), the series
comes through a growing CSV file, and alerts go to a real HTTP webhook receiver.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
import yaml
from watch_servers import FakeHttp

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "watch-node-exporter.yaml"
INTERVAL = 30.0
T0 = 1_750_000_000.0 - 1_750_000_000.0 % INTERVAL
SIGMA = 0.002  # an idle node's CPU busy fraction wobbles by about 0.2 %
BASE = 0.01
LEARN = 240  # 2 h of normal steps first
SHIFT = 120  # 1 h shifted by +20 σ
GAP = 120  # 1 h back to normal between the two shifts


def example_cpu_detector() -> dict:
    raw = yaml.safe_load(EXAMPLE.read_text())
    (watch,) = [w for w in raw["watches"] if w["name"] == "cpu_utilisation"]
    (spec,) = watch["detectors"]
    return spec


def series(shape: str, seed: int = 0) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Noise, a +20σ shift for an hour, normal again, then the same shift once more."""
    rng = np.random.default_rng(seed)
    n = LEARN + SHIFT + GAP + SHIFT + GAP
    level = np.zeros(n)
    shifts = [(LEARN, LEARN + SHIFT), (LEARN + SHIFT + GAP, LEARN + 2 * SHIFT + GAP)]
    for start, end in shifts:
        if shape == "step":
            level[start:end] = 20 * SIGMA
        else:  # what rate(...[5m]) draws of a step: a 10-step ramp up and down
            ramp = np.minimum(np.arange(end - start) + 1, 10) / 10
            level[start:end] = 20 * SIGMA * ramp
            level[end:end + 10] = 20 * SIGMA * (1 - (np.arange(10) + 1) / 10)
    return BASE + level + rng.normal(0, SIGMA, n), shifts


@pytest.mark.parametrize("shape", ["step", "ramp"])
def test_sustained_shift_pages_once_and_stays_firing_until_it_ends(tmp_path, shape):
    values, shifts = series(shape)
    spec = example_cpu_detector()
    hook = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    csv_path = tmp_path / "cpu.csv"
    csv_path.write_text("timestamp,node1\n")
    config = parse_config(yaml.safe_dump({
        "interval": "30s", "listen": "off", "storage": str(tmp_path / "state.sqlite"),
        "sources": {"file": {"type": "csv", "path": str(csv_path)}},
        "watches": [{"name": "cpu_utilisation", "source": "file", "detectors": [spec]}],
        "alerts": {"webhook": {"url": hook.url + "/hook"}},
    }))
    clock = [T0]
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: clock[0])
    with csv_path.open("a") as handle:
        for i, value in enumerate(values):  # one row per step, as a live exporter writes
            t = T0 + i * INTERVAL
            handle.write(f"{t:.0f},{float(value)!r}\n")
            handle.flush()
            if i % 7 == 6 or i == len(values) - 1:  # ticks catch up several steps at a time
                clock[0] = t
                watcher.tick()
    messages = [(m["id"], m["status"], m["starts_at"], m["ends_at"]) for m in hook.posts("/hook")]
    assert [(m[0], m[1]) for m in messages] == [
        (1, "firing"), (1, "resolved"), (2, "firing"), (2, "resolved")], messages
    for (start, end), (firing, resolved) in zip(shifts, [messages[:2], messages[2:]],
                                                 strict=True):
        started = _epoch(firing[2])
        ended = _epoch(resolved[3])
        shift_start, shift_end = T0 + start * INTERVAL, T0 + end * INTERVAL
        # the alert's start lies in the shift's first 5 minutes ...
        assert shift_start <= started <= shift_start + 10 * INTERVAL
        # ... and it held for the whole shift: resolved only once the series was back
        assert shift_end <= ended <= shift_end + 30 * INTERVAL


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).timestamp()
