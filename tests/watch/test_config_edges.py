"""Config and state-file edges: every bad value of every key is one ``ValueError`` that
names the file and the key, never a traceback later (issue 13, class 8).

The bad values are generated per kind of key (durations, whole numbers, cutoffs,
detector parameters), so a key added later gets the same family by adding one line.
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from kizashi.detectors.param_checks import MAX_PARAM_COUNT
from kizashi.watch.config import (
    MAX_BACKFILL_STEPS,
    apply_overrides,
    load_config,
)
from kizashi.watch.store import WatchStore


def base() -> dict[str, Any]:
    """A valid config as plain data (one watch, one detector)."""
    return {
        "interval": "1s",
        "listen": "off",
        "sources": {"p": {"type": "prometheus", "url": "http://127.0.0.1:9090"}},
        "watches": [{"name": "m", "query": "up", "detectors": [
            {"name": "d", "detector": "threshold",
             "params": {"window": 30, "k": 5.0, "min_periods": 10},
             "min_duration": "2s", "resolve_after": "2s"}]}],
        "alerts": {"alertmanager": {"url": "http://127.0.0.1:9093"}},
    }


def write(tmp_path: Path, data: dict[str, Any] | str, name: str = "bad-config.yaml") -> Path:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def set_key(data: dict[str, Any], key: str, value: Any) -> None:
    """Set a dotted key; ``W.`` is the first watch, ``D.`` its first detector."""
    parts = key.split(".")
    node = data
    for part in parts[:-1]:
        if part == "W":
            node = node["watches"][0]
        elif part == "D":
            node = node["detectors"][0]
        else:
            node = node.setdefault(part, {})
    node[parts[-1]] = value


def refused(tmp_path: Path, key: str, value: Any, detector: str | None = None) -> str:
    """The message of loading the base config with ``key`` set to ``value``."""
    data = base()
    if detector is not None:
        data["watches"][0]["detectors"][0].update(detector=detector, params={},
                                                  cutoff="q0.99")
    set_key(data, key, value)
    path = write(tmp_path, data)
    with pytest.raises(ValueError) as info:
        load_config(path)
    message = str(info.value)
    assert str(path) in message, message
    assert "\n" not in message.strip() or "YAML" in message, message
    return message


# ----------------------------------------------------------------- the families
NONFINITE = [math.nan, math.inf, -math.inf, "1e400", "-1e400", "nan", "inf"]
WRONG_TYPES = [[1], {"a": 1}, True, "soon"]
DURATION_BAD = [*NONFINITE, -1, -0.5, 1e-9, 10**30, 1e300, *WRONG_TYPES]

#: key → (may be zero, bad values beyond the common family)
DURATIONS = {
    "interval": (False, ["2d"]),
    "max_backfill": (False, ["400d"]),
    "initial_backfill": (True, ["400d"]),
    "series_ttl": (False, ["400d"]),
    "retention": (False, ["20000d"]),
    "sources.p.timeout": (False, ["2h"]),
    "sources.p.backoff": (True, ["2h"]),
    "alerts.timeout": (False, ["2h"]),
    "alerts.alertmanager.resend_interval": (False, ["400d"]),
    "W.D.min_duration": (False, ["400d"]),
    "W.D.resolve_after": (False, ["400d"]),
    "W.D.relearn_after": (False, ["400d"]),
}


def duration_cases() -> list[tuple[str, Any]]:
    cases = []
    for key, (zero_ok, extra) in DURATIONS.items():
        values = DURATION_BAD + extra + ([] if zero_ok else [0, "0s"])
        cases += [(key, v) for v in values]
    return cases


@pytest.mark.parametrize(("key", "value"), duration_cases(),
                         ids=lambda v: str(v)[:20] if not isinstance(v, str) else None)
def test_every_bad_duration_is_refused_naming_file_and_key(tmp_path, key, value):
    message = refused(tmp_path, key, value)
    assert key.split(".")[-1] in message, message


#: key → a compound duration as Prometheus writes it, and its seconds by hand
COMPOUND = {
    "interval": ("1m30s", 90.0),
    "max_backfill": ("1h30m", 5400.0),
    "initial_backfill": ("0h0m", 0.0),   # zero, as 0 and 0s are
    "series_ttl": ("2d12h", 216000.0),
    "retention": ("1w3d", 864000.0),
    "sources.p.timeout": ("1s500ms", 1.5),
    "sources.p.backoff": ("0ms", 0.0),
    "alerts.timeout": ("2s500ms", 2.5),
    "alerts.alertmanager.resend_interval": ("1h 30m", 5400.0),
    "W.D.min_duration": ("4m30s", 270.0),
    "W.D.resolve_after": ("1h1m", 3660.0),
    "W.D.relearn_after": ("1d12h", 129600.0),
    "W.predict.horizon": ("1h30m", 5400.0),
    "remote_write.min_backoff": ("1s500ms", 1.5),
    "remote_write.max_backoff": ("1m30s", 90.0),
}


def test_compound_durations_are_read_end_to_end(tmp_path):
    """Every duration key of a config takes Prometheus' compound form (``1m30s``)."""
    data = base()
    data["remote_write"] = {"url": "http://127.0.0.1:9090/api/v1/write"}
    data["watches"][0]["predict"] = {"limit": 90}
    for key, (text, _) in COMPOUND.items():
        set_key(data, key, text)
    config = load_config(write(tmp_path, data, "good.yaml"))
    source, detector = config.sources["p"], config.watches[0].detectors[0]
    got = {"interval": config.interval, "max_backfill": config.max_backfill,
           "initial_backfill": config.initial_backfill, "series_ttl": config.series_ttl,
           "retention": config.retention, "sources.p.timeout": source.timeout,
           "sources.p.backoff": source.backoff, "alerts.timeout": config.alerts.timeout,
           "alerts.alertmanager.resend_interval": config.alerts.resend_interval,
           "W.D.min_duration": detector.min_duration,
           "W.D.resolve_after": detector.resolve_after,
           "W.D.relearn_after": detector.relearn_after,
           "W.predict.horizon": config.watches[0].predict.horizon,
           "remote_write.min_backoff": config.remote_write.min_backoff,
           "remote_write.max_backoff": config.remote_write.max_backoff}
    assert got == {key: seconds for key, (_, seconds) in COMPOUND.items()}
    # min_duration 4m30s at an interval of 1m30s: three steps
    assert detector.min_steps(config.interval) == 3


def test_compound_detector_durations_are_read_end_to_end(tmp_path):
    data = base()
    data["watches"][0]["detectors"][0].update(
        detector="seasonal_threshold", cutoff="q0.99",
        params={"period": "1d", "slot": "1h30m", "season_halflife": "1w3d12h"})
    load_config(write(tmp_path, data, "good.yaml"))
    data["watches"][0]["detectors"][0]["params"]["slot"] = "30m1h"
    with pytest.raises(ValueError, match=r"slot.*largest down"):
        load_config(write(tmp_path, data))


@pytest.mark.parametrize(("key", "text"), [("interval", "30s1m"), ("interval", "1m1m"),
                                           ("series_ttl", "1D"), ("W.D.min_duration", "1h30"),
                                           ("initial_backfill", "0h-1m"),
                                           ("W.predict.horizon", "30m1h")])
def test_what_prometheus_refuses_is_refused_naming_the_key(tmp_path, key, text):
    data = base()
    data["watches"][0]["predict"] = {"limit": 90}
    set_key(data, key, text)
    with pytest.raises(ValueError) as info:
        load_config(write(tmp_path, data))
    message = str(info.value)
    assert key.split(".")[-1] in message and repr(text) in message, message
    assert "\n" not in message, message


INTEGERS = {
    "sources.p.retries": [-1, 101, 10**30, 1.5, math.nan, math.inf, "1e400", *WRONG_TYPES],
    "sources.p.max_bytes": [0, -1, 1000, 2**41, 10**30, 1.5, math.nan, "1e400", *WRONG_TYPES],
}


@pytest.mark.parametrize(("key", "value"),
                         [(k, v) for k, values in INTEGERS.items() for v in values])
def test_every_bad_whole_number_is_refused(tmp_path, key, value):
    message = refused(tmp_path, key, value)
    assert key.split(".")[-1] in message, message


CUTOFFS = [math.nan, math.inf, -math.inf, "1e400", "-1e400", "nan", "inf", "-inf", 1e300,
           -(10**30), "q0", "q1", "q1.5", "qnan", "q1e400", "q-0.5", "soon", True,
           [1], {"a": 1}]


@pytest.mark.parametrize("value", CUTOFFS, ids=str)
def test_every_bad_cutoff_is_refused(tmp_path, value):
    assert "cutoff" in refused(tmp_path, "W.D.cutoff", value)


#: detector → parameter → bad values (the common non-finite family is added to each)
PARAMS: dict[str, dict[str, list[Any]]] = {
    "threshold": {
        "window": [10**12, 1.0e12, "1e12", MAX_PARAM_COUNT + 1, -3, 2.5, "abc", [30]],
        "k": ["abc", True, [1], {"a": 1}, 1e300],
        "min_periods": [-1, 10**30, 0.5],
        "min_std": [1e300, "x"],
        "clip": [1e300, [1]],
    },
    "quantile_threshold": {"window": [10**12, -1], "low": [True], "high": ["high"]},
    "seasonal_threshold": {
        "period": ["1e400", "nan"], "slot": ["1e400"], "level_halflife": ["abc", "inf"],
        "season_halflife": ["-1e400"], "k": ["abc"], "warmup_periods": [1e300],
    },
    "static_threshold": {"low": ["abc", 1e300], "high": [-1e300, [1]]},
    "range_rule": {"tolerance": ["x"], "halflife": [1e300], "min_periods": [-1, 10**12]},
    "changefinder": {"r": [True, "x"], "order": [10**12, -1], "smooth": [10**12],
                     "smooth2": [10**12]},
    "sst": {"window": [10**12, 10**6, 10**4], "lag": [10**6], "n_columns": [10**6],
            "rank": [10**9], "solver": [5, [1]]},
}


def param_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for detector, params in PARAMS.items():
        for name, values in params.items():
            common = [math.nan, math.inf, -math.inf, "1e400", {"a": [math.nan]}]
            cases += [(detector, name, v) for v in common + values]
    return cases


@pytest.mark.parametrize(("detector", "name", "value"), param_cases(),
                         ids=lambda v: str(v)[:20])
def test_every_bad_detector_parameter_is_refused_at_load(tmp_path, detector, name, value):
    message = refused(tmp_path, f"W.D.params.{name}", value, detector=detector)
    assert "watches[m].detectors[d]" in message, message
    assert name in message or "state of one series" in message or "test step" in message, \
        message


@pytest.mark.parametrize("params", [
    {"period": "1w", "slot": "1ms"},     # 6·10^8 slots: building it would exhaust memory
    {"period": "366d", "slot": "1s"},    # 3·10^7 slots: hundreds of MiB per series
])
def test_an_absurd_detector_state_is_refused_by_its_size(tmp_path, params):
    if params["slot"] == "1ms" and threading.active_count() > 1:
        pytest.skip("another thread runs: the address-space cap is off, and this state "
                    "(15 GB) would really be allocated")
    data = base()
    data["watches"][0]["detectors"][0].update(detector="seasonal_threshold", params=params)
    with pytest.raises(ValueError, match=r"detectors\[d\]\.params: the state of one series"):
        load_config(write(tmp_path, data))


EXAMPLE = """
interval: 1s
listen: off
sources: {p: {type: prometheus, url: "http://127.0.0.1:9090"}}
watches:
  - name: m
    query: up
    detectors:
      - {name: d, detector: threshold, params: {window: 30, k: 5.0, min_periods: 10},
         cutoff: default}
"""


@pytest.mark.parametrize(("old", "new", "key"), [
    ("interval: 1s", "interval: 1e400", "interval"),
    ("k: 5.0", "k: .nan", "params.k"),
    ("cutoff: default", "cutoff: -.inf", "cutoff"),
    ("window: 30", "window: 1e12", "params.window"),
    ("window: 30", "window: 1000000000000", "params.window"),
])
def test_the_examples_of_the_issue_as_written(tmp_path, old, new, key):
    assert old in EXAMPLE
    load_config(write(tmp_path, EXAMPLE, "good.yaml"))
    with pytest.raises(ValueError, match=key.replace(".", r"\.")) as info:
        load_config(write(tmp_path, EXAMPLE.replace(old, new)))
    assert "bad-config.yaml" in str(info.value)


def test_backfill_longer_than_the_step_limit_is_refused(tmp_path):
    data = base()
    data["interval"] = "1ms"
    data["max_backfill"] = MAX_BACKFILL_STEPS * 0.001 * 2
    with pytest.raises(ValueError, match=r"max_backfill .* steps"):
        load_config(write(tmp_path, data))


@pytest.mark.parametrize(("key", "value"), [
    ("listen", [1]), ("listen", "nohost"), ("listen", "127.0.0.1:99999"), ("token", [1]),
    ("dashboard_url", "ftp://x"), ("dashboard_url", 5), ("storage", ""), ("storage", [1]),
    ("storage", True), ("sources.p.format", "sideways"), ("sources.p.url", 5),
    ("W.query", ["up"]), ("W.columns", 5), ("W.detectors", 5), ("W.D.detector", "nope"),
    ("W.D.params", [1]), ("W.D.calibration", "magic"), ("W.D.protect", "yes"),
    ("alerts.webhook.url", "not a url"), ("alerts.labels", [1]),
])
def test_wrong_shapes_are_refused_naming_the_key(tmp_path, key, value):
    message = refused(tmp_path, key, value)
    assert key.split(".")[-1] in message, message


# ----------------------------------------------------------------------- files
@pytest.mark.parametrize("raw", [b"\xff\xfe\x00i\x00n", b"interval: 1s\n# caf\xe9\n",
                                 b"interval: \x80\x81\n", "interval: 1s\n".encode("utf-16")])
def test_non_utf8_config_names_the_file_and_the_place(tmp_path, raw):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match="not UTF-8") as info:
        load_config(path)
    assert str(path) in str(info.value) and "line" in str(info.value)


@pytest.mark.parametrize("text", ["a: 2024-13-45\n", "? [1]\n: 2\n", "x: " + "[" * 3000,
                                  "interval: 1s\x00\n", "- 1\n- 2\n", "just text\n",
                                  "watches: {m: 1}\n", "sources: [1]\n"])
def test_malformed_yaml_names_the_file(tmp_path, text):
    path = write(tmp_path, text)
    with pytest.raises(ValueError) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_unreadable_or_oversized_config_names_the_file(tmp_path):
    with pytest.raises(ValueError, match="cannot read watch config .*missing.yaml"):
        load_config(tmp_path / "missing.yaml")
    with pytest.raises(ValueError, match="cannot read watch config"):
        load_config(tmp_path)
    big = tmp_path / "big.yaml"
    big.write_bytes(b"#" * (5 * 1024 * 1024))
    with pytest.raises(ValueError, match="big.yaml is larger than"):
        load_config(big)


@pytest.mark.parametrize("storage", ["/proc/kizashi.sqlite", "/proc/self/state.sqlite",
                                     "/sys/kernel/kizashi.sqlite", "/dev/shm/../kizashi.sqlite",
                                     "/dev/null"])
def test_state_file_on_a_virtual_filesystem_is_refused(tmp_path, storage):
    data = base()
    data["storage"] = storage
    with pytest.raises(ValueError, match=r"storage .* virtual filesystem") as info:
        load_config(write(tmp_path, data))
    assert "bad-config.yaml" in str(info.value)
    good = load_config(write(tmp_path, base(), "good.yaml"))
    with pytest.raises(ValueError, match="virtual filesystem"):
        apply_overrides(good, state=storage)


def test_state_file_that_is_a_directory_is_refused(tmp_path):
    data = base()
    data["storage"] = str(tmp_path)
    with pytest.raises(ValueError, match="is a directory"):
        load_config(write(tmp_path, data))


# --------------------------------------------------------------- the state file
def _without_root_powers() -> list[str] | None:
    """A command prefix that makes file permissions bind (root ignores them)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return None
    caps = "-dac_override,-dac_read_search,-fowner"
    return [setpriv, "--bounding-set", caps, "--inh-caps", caps]


def _open_store_message(path: Path) -> str:
    prefix = _without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot bind")
    code = ("import sys\nfrom kizashi.watch.store import WatchStore\n"
            "try:\n    WatchStore(sys.argv[1]).close()\n    print('OPENED')\n"
            "except ValueError as error:\n    print(error)\n")
    done = subprocess.run([*prefix, sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_read_only_state_file_is_called_read_only_not_corrupt(tmp_path):
    path = tmp_path / "state.sqlite"
    WatchStore(str(path)).close()
    before = path.read_bytes()
    path.chmod(0o444)
    try:
        message = _open_store_message(path)
    finally:
        path.chmod(0o644)
    assert str(path) in message and "read-only" in message, message
    assert "corrupt" not in message and "delete" not in message, message
    assert path.read_bytes() == before


def test_state_file_in_a_read_only_folder_is_called_read_only(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "state.sqlite"
    WatchStore(str(path)).close()
    folder.chmod(0o555)
    try:
        message = _open_store_message(path)
        missing = _open_store_message(folder / "new.sqlite")
    finally:
        folder.chmod(0o755)
    assert "read-only" in message and "corrupt" not in message, message
    assert str(folder / "new.sqlite") in missing and "corrupt" not in missing, missing
    assert "not writable" in missing or "read-only" in missing, missing


def test_a_damaged_state_file_is_still_called_corrupt(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(ValueError, match="not a kizashi watch database or is corrupt"):
        WatchStore(str(path))


def test_state_file_that_cannot_be_created_says_why(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="cannot create the folder of state file"):
        WatchStore(str(blocker / "sub" / "state.sqlite"))


def test_check_reports_a_read_only_state_file(tmp_path):
    """``kizashi watch --check`` says read-only where the daemon would fail to write."""
    prefix = _without_root_powers()
    if prefix is None:
        pytest.skip("running as root without setpriv: file permissions cannot bind")
    path = tmp_path / "state.sqlite"
    WatchStore(str(path)).close()
    path.chmod(0o444)
    data = base()
    data["storage"] = str(path)
    data["sources"]["p"]["url"] = "http://127.0.0.1:9"   # nothing listens: FAIL, fine
    data["sources"]["p"]["retries"] = 0
    config = write(tmp_path, data)
    try:
        done = subprocess.run([*prefix, sys.executable, "-m", "kizashi.cli.main", "watch",
                               "--check", str(config)], capture_output=True, text=True,
                              timeout=120, check=False)
    finally:
        path.chmod(0o644)
    assert f"FAIL state file {path} is readable but read-only" in done.stdout, \
        done.stdout + done.stderr
