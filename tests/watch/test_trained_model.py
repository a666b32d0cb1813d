"""A model from `kizashi train` served live: a multivariate autoencoder over a node's metrics
in `kizashi watch`, whose alert names the metrics that drove it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from watch_servers import FakeHttp

from kizashi.watch.config import parse_config
from kizashi.watch.store import WatchStore
from kizashi.watch.watcher import Watcher

pytest.importorskip("torch")

METRICS = ["cpu", "mem", "io"]
T0 = 1_760_000_000.0
STEP = 60.0


def node(n: int, seed: int) -> np.ndarray:
    """Three metrics that move together: memory and I/O follow the CPU load."""
    rng = np.random.default_rng(seed)
    cpu = 50 + 20 * np.sin(np.arange(n) * 2 * np.pi / 120) + rng.normal(0, 1, n)
    return np.column_stack([cpu, 30 + 0.5 * cpu + rng.normal(0, 0.5, n),
                            5 + 0.2 * cpu + rng.normal(0, 0.3, n)])


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    from kizashi.dl.config import RunConfig
    from kizashi.dl.experiment import train_from_config

    folder = tmp_path_factory.mktemp("model")
    data = folder / "train.csv"
    values = node(1500, seed=1)
    data.write_text("t," + ",".join(METRICS) + "\n" + "".join(
        f"{i}," + ",".join(f"{v:.4f}" for v in row) + "\n" for i, row in enumerate(values)))
    config = RunConfig.from_dict({
        "epochs": 8, "batch_size": 64, "device": "cpu", "progress": False,
        "checkpoint_every": 0, "seed": 0,
        "data": {"source": "csv", "path": str(data), "columns": METRICS},
        "model": {"name": "autoencoder", "window": 8, "hidden": 16, "latent": 2}})
    out = folder / "run"
    train_from_config(config, out)
    assert json.loads((out / "config.json").read_text())["features"] == METRICS
    return out


def test_a_trained_autoencoder_pages_on_the_anomaly_and_names_the_metric_behind_it(
        tmp_path, model, caplog):
    live = node(1000, seed=2)
    live[800:830, 2] += 12.0  # the I/O leaves its relation to the CPU for half an hour
    hook = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    path = tmp_path / "node.csv"
    path.write_text("timestamp,io,cpu,mem\n")  # another column order than in training
    config = parse_config(yaml.safe_dump({
        "interval": "60s", "listen": "off", "storage": str(tmp_path / "state.sqlite"),
        "sources": {"node": {"type": "csv", "path": str(path)}},
        "watches": [{"name": "node1", "source": "node", "detectors": [
            {"name": "ae", "model": str(model), "min_duration": "3m", "resolve_after": "5m"}]}],
        "alerts": {"webhook": {"url": hook.url + "/hook"}},
    }))
    assert config.watches[0].detectors[0].detector == "autoencoder"  # from the model folder
    clock = [T0]
    watcher = Watcher(config, WatchStore(config.storage), clock=lambda: clock[0])
    with path.open("a") as handle:
        for i, (cpu, mem, io) in enumerate(live):
            t = T0 + i * STEP
            handle.write(f"{t:.0f},{io:.4f},{cpu:.4f},{mem:.4f}\n")
            handle.flush()
            if i % 25 == 24 or i == len(live) - 1:
                clock[0] = t
                watcher.tick()
            if i == 524:  # a restart: the model's stream state comes back from the store
                watcher.store.close()
                watcher = Watcher(config, WatchStore(config.storage), clock=lambda: clock[0])
    messages = hook.posts("/hook")
    firing = [m for m in messages if m["status"] == "firing"]
    # pages only around the anomaly: from its start until the model's window has let go
    # of it (8 steps) and the alert has resolved (5 steps), and every page resolves
    assert firing, "no page"
    assert all(_iso(T0 + 800 * STEP) <= m["starts_at"] <= _iso(T0 + 845 * STEP)
               for m in firing), [m["starts_at"] for m in firing]
    assert sorted(m["id"] for m in messages if m["status"] == "resolved") == sorted(
        m["id"] for m in firing)
    first = firing[0]
    assert first["starts_at"] <= _iso(T0 + 805 * STEP)
    assert first["annotations"]["top_inputs"].startswith("io ")
    assert first["annotations"]["top_causes"] == first["annotations"]["top_inputs"]
    assert first["labels"]["watch"] == "node1"
    assert "afresh" not in caplog.text and "not usable" not in caplog.text
    # the weights stay in the model folder: each tick stores only the stream state
    _, saved = watcher.store.load_state("node1", "ae")
    assert "weights" not in saved["detector_stream"]["state"] and saved["model_key"]
    # every series of the watch shows the model's level on the dashboard
    status = watcher.snapshot()["watches"]["node1"]["series"]
    assert {s["labels"]["series"] for s in status} == set(METRICS)
    assert len({s["detectors"]["ae"]["score"] for s in status}) == 1


def _iso(t: float) -> str:
    from kizashi.watch.alerts import iso

    return iso(t)


def _config(model: object, **detector: object) -> str:
    body = {"name": "ae", "model": str(model), **detector}
    return yaml.safe_dump({
        "interval": "60s", "listen": "off",
        "sources": {"node": {"type": "csv", "path": "/tmp/node.csv"}},
        "watches": [{"name": "node1", "source": "node", "detectors": [body]}]})


def test_a_bad_model_folder_is_refused_naming_the_key(tmp_path, model):
    # not a folder of kizashi train, or nothing there
    with pytest.raises(ValueError, match=r"watches\[node1\]\.detectors\[0\]\.model"):
        parse_config(_config(tmp_path / "nowhere"), "w.yaml")
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "config.json").write_text("{not json")
    with pytest.raises(ValueError, match="model"):
        parse_config(_config(tmp_path / "junk"), "w.yaml")
    # a model for another detector
    with pytest.raises(ValueError, match="'autoencoder' network"):
        parse_config(_config(model, detector="lstm"), "w.yaml")
    # a quantile cutoff has no stored levels per input to take it from
    with pytest.raises(ValueError, match="quantile"):
        parse_config(_config(model, cutoff="q0.99"), "w.yaml")
    # a record without input names (trained before kizashi kept them)
    old = tmp_path / "old"
    old.mkdir()
    record = json.loads((model / "config.json").read_text())
    del record["features"]
    (old / "config.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="does not name its features"):
        parse_config(_config(old), "w.yaml")
    # damaged weights, of every kind: each refused naming the weights file
    weights = (model / "model.pt").read_bytes()
    for k, damage in enumerate([b"", b"\x00" * 64, weights[:len(weights) // 2], b"text\n",
                                weights[:-40] + b"\xff" * 40]):
        broken = tmp_path / f"broken{k}"
        broken.mkdir()
        (broken / "config.json").write_text((model / "config.json").read_text())
        (broken / "model.pt").write_bytes(damage)
        with pytest.raises(ValueError, match=r"cannot load .*model\.pt"):
            parse_config(_config(broken), "w.yaml")
