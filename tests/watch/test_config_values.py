"""Every key of the watch config, fed values of the wrong kind: each is refused in one line.

The keys and their kinds come from the config reference (docs/watch.md, the limits table
of :mod:`kizashi.watch.config`); the odd values of each kind are generated here from what
the kind *is* (a duration is not a list, a label name is not a number), never from what
kizashi answers. A refusal is a :class:`ValueError` of one line starting with the file
name and naming the key (its full path, e.g. ``watches[cpu].detectors[0].peers_by``).
Every key also gets a one-letter typo, which must be refused with the key as the hint.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.watch.config import parse_config

WHERE = "c.yaml"
BASE: dict[str, Any] = {
    "interval": "30s",
    "storage": ":memory:",
    "sources": {
        "lab": {"type": "csv", "path": "/tmp/kizashi-no-such.csv"},
        "prom": {"type": "prometheus", "url": "http://127.0.0.1:9090"},
    },
    "watches": [
        {"name": "cpu", "source": "lab",
         "detectors": [{"name": "t", "detector": "threshold", "params": {"window": 60}}]},
        {"name": "p", "source": "lab", "predict": {"horizon": "1h", "limit": 90}},
        {"name": "peer", "source": "lab", "detectors": [{"detector": "peers",
                                                         "peers_by": "rack"}]},
        {"name": "q", "source": "prom", "query": "up"},
    ],
    "alerts": {"alertmanager": {"url": "http://127.0.0.1:9093"},
               "webhook": {"url": "http://127.0.0.1:9000/hook"},
               "labels": {"severity": "warning"}},
    "remote_write": {"url": "http://127.0.0.1:9090/api/v1/write"},
}

CPU, P, PEER, Q = ("watches", 0), ("watches", 1), ("watches", 2), ("watches", 3)
DET = (*CPU, "detectors", 0)
#: key path in BASE → (its kind, how messages spell the path)
KEYS: dict[tuple, tuple[str, str]] = {
    ("interval",): ("duration", "interval"),
    ("storage",): ("text", "storage"),
    ("listen",): ("listen", "listen"),
    ("token",): ("optional_text", "token"),
    ("dashboard_url",): ("url", "dashboard_url"),
    ("initial_backfill",): ("duration_or_0", "initial_backfill"),
    ("max_backfill",): ("duration", "max_backfill"),
    ("series_ttl",): ("duration", "series_ttl"),
    ("retention",): ("duration", "retention"),
    ("metrics_series",): ("count", "metrics_series"),
    ("shard",): ("shard", "shard"),
    ("log_format",): ("choice", "log_format"),
    ("sources",): ("mapping", "sources"),
    ("watches",): ("list", "watches"),
    ("alerts",): ("mapping", "alerts"),
    ("remote_write",): ("mapping", "remote_write"),
    ("sources", "lab", "type"): ("choice", "sources.lab.type"),
    ("sources", "lab", "path"): ("text", "sources.lab.path"),
    ("sources", "lab", "format"): ("choice", "sources.lab.format"),
    ("sources", "lab", "timeout"): ("duration", "sources.lab.timeout"),
    ("sources", "lab", "retries"): ("count", "sources.lab.retries"),
    ("sources", "lab", "backoff"): ("duration_or_0", "sources.lab.backoff"),
    ("sources", "lab", "max_bytes"): ("count", "sources.lab.max_bytes"),
    ("sources", "lab", "timestamp_column"): ("text", "sources.lab.timestamp_column"),
    ("sources", "prom", "url"): ("url", "sources.prom.url"),
    ("sources", "prom", "bearer_token"): ("text", "sources.prom.bearer_token"),
    ("sources", "prom", "headers"): ("mapping", "sources.prom.headers"),
    ("sources", "prom", "basic_auth"): ("mapping", "sources.prom.basic_auth"),
    ("sources", "prom", "tls_config"): ("mapping", "sources.prom.tls_config"),
    (*CPU, "name"): ("text", "watches[0].name"),
    (*CPU, "source"): ("text", "watches[cpu].source"),
    (*Q, "query"): ("text", "watches[q].query"),
    (*CPU, "columns"): ("list", "watches[cpu].columns"),
    (*CPU, "detectors"): ("list_or_empty", "watches[cpu].detectors"),
    (*P, "predict"): ("mapping", "watches[p].predict"),
    (*DET, "name"): ("text", "watches[cpu].detectors[0].name"),
    (*DET, "detector"): ("text", "watches[cpu].detectors[0].detector"),
    (*DET, "params"): ("mapping", "watches[cpu].detectors[0].params"),
    (*DET, "calibration"): ("choice", "watches[cpu].detectors[0].calibration"),
    (*DET, "cutoff"): ("cutoff", "watches[cpu].detectors[0].cutoff"),
    (*DET, "min_duration"): ("duration", "watches[cpu].detectors[0].min_duration"),
    (*DET, "resolve_after"): ("duration", "watches[cpu].detectors[0].resolve_after"),
    (*DET, "protect"): ("bool", "watches[cpu].detectors[0].protect"),
    (*DET, "relearn_after"): ("duration", "watches[cpu].detectors[0].relearn_after"),
    (*DET, "model"): ("text", "watches[cpu].detectors[0].model"),
    (*DET, "feature_label"): ("label", "watches[cpu].detectors[0].feature_label"),
    (*PEER, "detectors", 0, "peers_by"): ("label", "watches[peer].detectors[0].peers_by"),
    (*P, "predict", "horizon"): ("duration", "watches[p].predict.horizon"),
    (*P, "predict", "limit"): ("number", "watches[p].predict.limit"),
    (*P, "predict", "cutoff"): ("probability", "watches[p].predict.cutoff"),
    (*P, "predict", "anomaly_ahead"): ("bool", "watches[p].predict.anomaly_ahead"),
    (*P, "predict", "anomaly_cutoff"): ("probability", "watches[p].predict.anomaly_cutoff"),
    ("alerts", "timeout"): ("duration", "alerts.timeout"),
    ("alerts", "labels"): ("mapping", "alerts.labels"),
    ("alerts", "alertmanager"): ("mapping", "alerts.alertmanager"),
    ("alerts", "webhook"): ("mapping", "alerts.webhook"),
    ("alerts", "alertmanager", "url"): ("url", "alerts.alertmanager.url"),
    ("alerts", "alertmanager", "resend_interval"): ("duration",
                                                    "alerts.alertmanager.resend_interval"),
    ("alerts", "webhook", "url"): ("url", "alerts.webhook.url"),
    ("remote_write", "url"): ("url", "remote_write.url"),
    ("remote_write", "send"): ("list", "remote_write.send"),
    ("remote_write", "labels"): ("mapping", "remote_write.labels"),
    ("remote_write", "queue"): ("text", "remote_write.queue"),
    ("remote_write", "timeout"): ("duration", "remote_write.timeout"),
    ("remote_write", "max_queue_bytes"): ("count", "remote_write.max_queue_bytes"),
    ("remote_write", "max_samples_per_send"): ("count", "remote_write.max_samples_per_send"),
    ("remote_write", "min_backoff"): ("duration", "remote_write.min_backoff"),
    ("remote_write", "max_backoff"): ("duration", "remote_write.max_backoff"),
}

A_LIST, A_MAPPING = ["rack", "node"], {"a": 1}
#: values that are not of the kind, by kind (names: how the case reads in a test id)
NOT_TEXT = {"list": A_LIST, "mapping": A_MAPPING, "true": True, "no": False, "number": 5,
            "float": 1.1}
NOT_DURATION = {"list": A_LIST, "mapping": A_MAPPING, "true": True, "text-true": "true",
                "negative": "-5s", "negative-number": -5, "unit-x": "6x", "nan": math.nan,
                "inf": math.inf, "1e400s": "1e400s", "words": "five minutes"}
NOT_COUNT = {"list": A_LIST, "mapping": A_MAPPING, "true": True, "text": "5", "fraction": 2.5,
             "negative": -1, "nan": math.nan, "inf": math.inf}
NOT_NUMBER = {"list": A_LIST, "mapping": A_MAPPING, "true": True, "text": "90",
              "nan": math.nan, "inf": math.inf}
NOT_CONTAINER = {"true": True, "number": 5, "text": "abc"}
ODD: dict[str, dict[str, Any]] = {
    "text": {**NOT_TEXT, "empty": "", "blank": "  "},
    "optional_text": NOT_TEXT,
    "listen": {k: v for k, v in NOT_TEXT.items() if k != "no"},  # (no, off, false: none)
    "url": {**NOT_TEXT, "ftp": "ftp://x", "no-scheme": "127.0.0.1:9090"},
    "duration": {**NOT_DURATION, "zero": 0, "zero-s": "0s"},
    "duration_or_0": NOT_DURATION,
    "count": NOT_COUNT,
    "shard": {"list": A_LIST, "mapping": A_MAPPING, "true": True, "number": 5,
              "i-not-below-n": "1/1", "letters": "a/b"},
    "choice": {**NOT_TEXT, "nosuch": "nosuch", "empty": ""},
    "mapping": {**NOT_CONTAINER, "list": A_LIST},
    "list": {**NOT_CONTAINER, "mapping": A_MAPPING, "empty": []},
    "list_or_empty": {**NOT_CONTAINER, "mapping": A_MAPPING, "empty-mapping": {}},
    "bool": {"list": A_LIST, "mapping": A_MAPPING, "text-true": "true", "text-yes": "yes",
             "one": 1},
    "label": {**NOT_TEXT, "dash": "rack-name", "digit-first": "1rack", "empty": "",
              "space": "my rack"},
    "number": NOT_NUMBER,
    "probability": {**NOT_NUMBER, "zero": 0, "one": 1, "above-one": 1.5, "negative": -0.1},
    "cutoff": {"list": A_LIST, "mapping": A_MAPPING, "true": True, "empty": "",
               "q-above-one": "q2", "words": "abc", "nan": math.nan},
}
CASES = [(path, case, value) for path, (kind, _) in KEYS.items()
         for case, value in ODD[kind].items()]


def with_value(path: tuple, value: Any) -> dict:
    config = copy.deepcopy(BASE)
    node = config
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return config


def refusal(config: dict) -> str:
    with pytest.raises(ValueError) as caught:
        parse_config(yaml.safe_dump(config, sort_keys=False), WHERE)
    message = str(caught.value)
    assert "\n" not in message, message
    assert message.startswith(f"{WHERE}: "), message
    return message


def test_the_base_config_loads():
    config = parse_config(yaml.safe_dump(BASE, sort_keys=False), WHERE)
    assert [w.name for w in config.watches] == ["cpu", "p", "peer", "q"]
    assert config.watches[2].detectors[0].peers_by == "rack"


@pytest.mark.parametrize(("path", "value"), [(p, v) for p, _, v in CASES],
                         ids=[f"{KEYS[p][1]}={c}" for p, c, _ in CASES])
def test_a_value_of_the_wrong_kind_is_refused_naming_the_key(path, value):
    message = refusal(with_value(path, value))
    key = KEYS[path][1]
    named = key.rsplit(".", 1)[-1] if path[-1] in ("sources", "watches") else key
    assert named in message, message


TYPOS = [(path, spelled) for path in KEYS if isinstance(path[-1], str)
         for spelled in (path[-1] + path[-1][-1], path[-1][:-1])
         if len(path[-1]) > 3]


@pytest.mark.parametrize(("path", "typo"), TYPOS, ids=[t for _, t in TYPOS])
def test_a_misspelt_key_is_refused_with_the_right_one_as_hint(path, typo):
    config = with_value(path, None)
    node = config
    for part in path[:-1]:
        node = node[part]
    value = copy.deepcopy(BASE)
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    del node[path[-1]]
    node[typo] = value if value is not None else "30s"
    message = refusal(config)
    assert typo in message and f"did you mean '{path[-1]}'?" in message, message


DUPLICATED = {  # YAML text with a key given twice → the line of the second one
    "interval: 30s\ninterval: 1m\n": 2,
    "sources:\n  lab: {type: csv, path: a.csv, path: b.csv}\n": 2,
    "watches:\n- name: a\n  query: up\n  query: down\n": 4,
    "watches:\n- detectors:\n  - detector: threshold\n    cutoff: 3\n    cutoff: 4\n": 5,
    "watches:\n- predict: {horizon: 1h, horizon: 2h}\n": 2,
    "alerts:\n  labels: {severity: a, severity: b}\n": 2,
}


@pytest.mark.parametrize("text", list(DUPLICATED), ids=range(len(DUPLICATED)))
def test_a_key_given_twice_is_refused_with_its_line(text):
    with pytest.raises(ValueError) as caught:
        parse_config(text, WHERE)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{WHERE}: not valid YAML: line {DUPLICATED[text]}, "), message
    assert "is given twice" in message


def test_a_merge_key_may_override_what_it_merges():
    text = ("sources:\n  lab: &d {type: csv, path: a.csv}\n  other: {<<: *d, path: b.csv}\n"
            "watches: [{name: a, source: other}]\n")
    config = parse_config(text, WHERE)
    assert config.sources["other"].path == "b.csv"


@pytest.mark.parametrize("text", ["name: no", "name: 010", "name: [a, b]"])
def test_the_yaml_conversions_of_a_watch_name_are_refused(text):
    with pytest.raises(ValueError, match=r"watches\[0\]\.name must be text"):
        parse_config(f"watches:\n- {text}\n  query: up\n", WHERE)


def test_quoted_the_same_names_work():
    config = parse_config("sources: {lab: {type: csv, path: a.csv}}\n"
                          "watches:\n- name: 'no'\n- name: '010'\n", WHERE)
    assert [w.name for w in config.watches] == ["no", "010"]


@pytest.mark.parametrize(("path", "case"), [((*PEER, "detectors", 0, "peers_by"), "list"),
                                            ((*DET, "feature_label"), "mapping"),
                                            (("interval",), "negative"),
                                            (("alerts", "labels"), "list")])
def test_through_the_command_it_is_one_line_before_the_daemon_starts(tmp_path, path, case):
    kind = KEYS[path][0]
    config = with_value(path, ODD[kind][case])
    config["storage"] = str(tmp_path / "state.db")
    source = tmp_path / "c.yaml"
    source.write_text(yaml.safe_dump(config, sort_keys=False))
    result = CliRunner().invoke(cli, ["watch", str(source), "--once", "--listen", "off"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: {source}: ") and KEYS[path][1] in lines[0], lines
    assert not (tmp_path / "state.db").exists()  # refused before the state file was opened
