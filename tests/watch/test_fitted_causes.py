"""The default detector fitted once (`kizashi fit`) and served by `kizashi watch` from a fake
Prometheus: an alert names the metric that departed first, and the model reference survives
a restart (the same model continues exactly; a refitted one starts from its own fit)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner
from watch_servers import Clock, FakeHttp, prometheus_handler

from kizashi.cli.main import cli
from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

METRICS = ["cpu", "mem", "io", "net"]
T0 = 1_760_000_040.0  # a multiple of STEP: the ticks land on the samples
STEP = 60.0
N_TRAIN = 2000
#: the live stretch: steps after the training rows, and where one metric departs
LIVE, DEPART, LENGTH = 400, 250, 40


def node(n: int, seed: int) -> np.ndarray:
    """Four metrics that move with a daily-ish load: the others follow the CPU."""
    rng = np.random.default_rng(seed)
    cpu = 50 + 20 * np.sin(np.arange(n) * 2 * np.pi / 240) + rng.normal(0, 1, n)
    return np.column_stack([cpu, 30 + 0.5 * cpu + rng.normal(0, 0.5, n),
                            5 + 0.2 * cpu + rng.normal(0, 0.3, n),
                            10 + 0.3 * cpu + rng.normal(0, 0.4, n)])


def fit_model(tmp_path, rows: np.ndarray, name: str) -> str:
    """`kizashi fit` on ``rows`` as a long CSV of one entity; returns the model folder."""
    train = tmp_path / f"{name}.csv"
    lines = ["timestamp,entity,metric,value"]
    for i, row in enumerate(rows):
        t = T0 - (len(rows) - i) * STEP
        lines += [f"{t:.0f},node1,{m},{v:.4f}" for m, v in zip(METRICS, row, strict=True)]
    train.write_text("\n".join(lines) + "\n")
    out = tmp_path / name
    result = CliRunner().invoke(cli, ["fit", str(train), "--out", str(out), "-q"])
    assert result.exit_code == 0, result.output
    return str(out)


@pytest.fixture(scope="module")
def live() -> np.ndarray:
    values = node(N_TRAIN + LIVE, seed=1)[N_TRAIN:]
    # a memory leak's jump: mem leaves its relation to the CPU (about 16 of its sigmas)
    values[DEPART:DEPART + LENGTH, 1] += 8.0
    return values


def prometheus(values: np.ndarray) -> FakeHttp:
    def value(name: str, t: float) -> float | None:
        i = round((t - T0) / STEP)
        return float(values[i, METRICS.index(name)]) if 0 <= i < len(values) else None

    return FakeHttp(prometheus_handler(value, METRICS))


def config(tmp_path, url: str, model: str, hook: str):
    return parse_config(f"""
interval: 60s
listen: off
storage: {tmp_path / "state.sqlite"}
max_backfill: 2h
sources: {{prom: {{type: prometheus, url: "{url}"}}}}
alerts: {{webhook: {{url: "{hook}/hook"}}}}
watches:
  - name: node1
    source: prom
    query: node1_metrics
    detectors:
      - {{name: ensemble, model: "{model}", feature_label: instance,
          min_duration: 3m, resolve_after: 5m}}
""")


def run(tmp_path, values, model: str, restart_at: int | None = None, refit: str | None = None,
        every: int = 30):
    """Tick a watcher over ``values`` every ``every`` steps; optionally kill it (drop it
    without closing anything) at step ``restart_at`` and start another, on ``refit``'s model
    when given. Returns the receiver's messages, the store and the alert rows."""
    tmp_path.mkdir(exist_ok=True)
    source, hook = prometheus(values), FakeHttp(lambda *a: (200, b"{}"))
    try:
        conf = config(tmp_path, source.url, model, hook.url)
        clock = Clock(T0)
        watcher = Watcher(conf, WatchStore(conf.storage), clock=clock)
        for i in range(0, len(values), every):
            clock.t = T0 + min(i + every - 1, len(values) - 1) * STEP
            watcher.tick()
            if restart_at is not None and i <= restart_at < i + every:
                if refit is not None:
                    conf = config(tmp_path, source.url, refit, hook.url)
                watcher = Watcher(conf, WatchStore(conf.storage), clock=clock)
        return hook.posts("/hook"), watcher
    finally:
        source.close()
        hook.close()


def stored_levels(watcher) -> dict[str, np.ndarray]:
    """The levels the watch stored for its series ``mem`` (the entity's, repeated)."""
    sid = watcher.store.series_ids("node1", [{"instance": "mem"}], T0)[0]
    return {k: np.asarray(v) for k, v in watcher.store.points(sid)["ensemble"].items()}


def test_fit_writes_no_pickle_and_refuses_a_damaged_model(tmp_path):
    model = fit_model(tmp_path, node(N_TRAIN, seed=0), "model")
    record = json.loads((tmp_path / "model" / "config.json").read_text())
    assert record["network"] == "ensemble" and record["features"] == METRICS
    assert record["entity"] == "node1" and record["rows"] == N_TRAIN
    with np.load(tmp_path / "model" / "model.npz", allow_pickle=False) as arrays:
        assert all(arrays[name].dtype != object for name in arrays.files)
    # a changed array is refused, naming the file (no silently different model)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((tmp_path / "model" / "config.json").read_text())
    with np.load(tmp_path / "model" / "model.npz", allow_pickle=False) as arrays:
        changed = {name: arrays[name].copy() for name in arrays.files}
    name = next(n for n in changed if changed[n].dtype == np.float64 and changed[n].size
                and np.isfinite(changed[n].flat[0]))
    changed[name].flat[0] += 1.0
    np.savez(broken / "model.npz", **changed)
    with pytest.raises(ValueError, match=r"model\.npz.*model_key"):
        config(tmp_path, "http://127.0.0.1:1", str(broken), "http://127.0.0.1:1")
    # damaged files of every kind: each refused naming the file
    whole = (tmp_path / "model" / "model.npz").read_bytes()
    for damage in [b"", b"\x00" * 64, whole[:len(whole) // 2], b"PK\x03\x04 not a zip\n",
                   whole[:-40] + b"\xff" * 40, whole[:100] + b"\x00" * 50 + whole[150:]]:
        (broken / "model.npz").write_bytes(damage)
        with pytest.raises(ValueError, match=r"cannot load .*model\.npz"):
            config(tmp_path, "http://127.0.0.1:1", str(broken), "http://127.0.0.1:1")
    (broken / "model.npz").unlink()
    with pytest.raises(ValueError, match=r"cannot load .*model\.npz"):
        config(tmp_path, "http://127.0.0.1:1", str(broken), "http://127.0.0.1:1")
    # parameters other than the fitted ones are refused, naming the parameter
    text = f"""
interval: 60s
listen: off
sources: {{prom: {{type: prometheus, url: "http://127.0.0.1:1"}}}}
watches:
  - name: node1
    source: prom
    query: q
    detectors: [{{name: e, model: "{model}", params: {{reference_window: 3}}}}]
"""
    with pytest.raises(ValueError, match="reference_window"):
        parse_config(text)


@pytest.mark.slow
def test_the_alert_names_the_metric_that_departed_first(tmp_path, live):
    model = fit_model(tmp_path, node(N_TRAIN, seed=0), "model")
    messages, watcher = run(tmp_path, live, model)
    firing = [m for m in messages if m["status"] == "firing"]
    assert firing, "no page for the departure"
    start = firing[0]["starts_at"]
    from kizashi.watch.alerts import iso

    # one page, around the departure, and it resolves
    assert iso(T0 + DEPART * STEP) <= start <= iso(T0 + (DEPART + 5) * STEP)
    assert all(m["starts_at"] <= iso(T0 + (DEPART + LENGTH + 10) * STEP) for m in firing)
    assert {m["id"] for m in messages if m["status"] == "resolved"} == {
        m["id"] for m in firing}
    causes = firing[0]["annotations"]["top_causes"]
    assert causes.split(",")[0].split()[0] == "mem", causes
    # each cause with its share, largest first
    shares = [float(part.split()[1].rstrip("%")) for part in causes.split(", ")]
    assert shares == sorted(shares, reverse=True) and 0 < sum(shares) <= 100.5
    # the dashboard's alert list shows them
    from kizashi.watch.web import _alerts_table

    assert "mem " in _alerts_table(watcher.store.alerts(), True)
    # the fitted part is not stored each tick: only the stream and the model's key
    _, saved = watcher.store.load_state("node1", "ensemble")
    assert "reference" not in saved["detector_stream"]["state"]
    record = json.loads((tmp_path / "model" / "config.json").read_text())
    assert saved["model_key"] == record["model_key"]


@pytest.mark.slow
def test_a_restart_continues_the_same_model_and_a_refit_starts_from_its_own(tmp_path, live,
                                                                             caplog):
    model = fit_model(tmp_path, node(N_TRAIN, seed=0), "model")
    unbroken, first = run(tmp_path / "a", live, model)
    restarted, second = run(tmp_path / "b", live, model, restart_at=DEPART - 20)
    assert "afresh" not in caplog.text
    # the same model, its stream state restored: the same pages, the same causes
    strip = [{k: m[k] for k in ("status", "starts_at", "annotations")} for m in unbroken]
    assert strip == [{k: m[k] for k in ("status", "starts_at", "annotations")}
                     for m in restarted]
    # the same levels stored for every step
    a, b = stored_levels(first), stored_levels(second)
    # (from the first tick's step on: no initial backfill)
    assert np.array_equal(a["t"], T0 + STEP * np.arange(29, len(live)))
    assert np.array_equal(a["t"], b["t"])
    assert np.array_equal(a["score"], b["score"], equal_nan=True)
    # a refitted model (other training rows): its key differs, so the saved stream is
    # dropped (it belonged to the old reference) and the watch goes on from the new fit
    other = fit_model(tmp_path, node(N_TRAIN, seed=5), "other")
    refitted, third = run(tmp_path / "c", live, model, restart_at=DEPART - 20, refit=other)
    assert "the model in" in caplog.text and "changed" in caplog.text
    record = json.loads((tmp_path / "other" / "config.json").read_text())
    _, saved = third.store.load_state("node1", "ensemble")
    assert saved["model_key"] == record["model_key"]
    firing = [m for m in refitted if m["status"] == "firing"]
    assert firing and firing[0]["annotations"]["top_causes"].startswith("mem ")
