"""``alerts.labels`` naming a label kizashi sets on every alert is refused in one line
naming it; before, the configured value was replaced in silence (``alertname``,
``watch``, ``detector`` by the alert's own, ``incident_id`` by the alert's id).
Other names are taken, and every alert carries them (docs/watch.md, "Alerts")."""

from __future__ import annotations

import pytest

from kizashi.watch.alerts import alertmanager_alert, webhook_payload
from kizashi.watch.config import parse_config

BASE = """
interval: 1s
listen: off
sources: {p: {type: prometheus, url: "http://127.0.0.1:9"}}
watches: [{name: m, query: up}]
alerts:
  alertmanager: {url: "http://127.0.0.1:9093"}
  labels: {LABELS}
"""
ALERT = {"id": 3, "series_id": 1, "watch": "m", "detector": "sigma",
         "labels": {"instance": "a"}, "starts_at": 0.0, "ends_at": None, "status": "firing",
         "score": 7.0, "value": 1.0, "threshold": 4.0, "peak_score": 7.0, "annotations": {}}


@pytest.mark.parametrize("name", ["alertname", "watch", "detector", "incident_id"])
def test_a_label_kizashi_sets_is_refused_naming_it(name):
    with pytest.raises(ValueError) as error:
        parse_config(BASE.replace("LABELS", f"{name}: mine, team: db"))
    text = str(error.value)
    assert "\n" not in text and f"alerts.labels.{name}" in text and "kizashi" in text


@pytest.mark.parametrize("name", ["severity", "team", "instance_group", "_x", "__x",
                                  "alert_name", "Watch"])
def test_other_names_are_on_every_alert(name):
    config = parse_config(BASE.replace("LABELS", f"{name}: mine"))
    assert config.alerts.labels == {name: "mine"}
    am = alertmanager_alert(ALERT, "", config.alerts.labels, 0.0, 60.0, "incident_id")
    hook = webhook_payload(ALERT, "firing", "", config.alerts.labels)
    assert am["labels"][name] == "mine" and hook["labels"][name] == "mine"


OWN = {"alertname": "KizashiAnomaly", "watch": "m", "detector": "sigma"}


@pytest.mark.parametrize("name", ["alertname", "watch", "detector", "incident_id", "team"])
@pytest.mark.parametrize("sink", ["alertmanager", "webhook"])
def test_a_series_label_named_like_kizashis_own_keeps_its_value_as_exported(name, sink):
    """A series label ``name`` (``team`` is configured) is ``exported_<name>`` on the alert,
    beside kizashi's own value; the other series labels are as they are."""
    alert = dict(ALERT, labels={"instance": "a", name: "the series'"})
    extra = {"team": "db"}
    if sink == "alertmanager":
        labels = alertmanager_alert(alert, "", extra, 0.0, 60.0, "incident_id")["labels"]
    else:
        labels = webhook_payload(alert, "firing", "", extra)["labels"]
    assert labels["exported_" + name] == "the series'"
    assert labels["instance"] == "a" and labels["team"] == "db"
    assert {k: labels[k] for k in OWN} == OWN
    if sink == "alertmanager":
        assert labels["incident_id"] == "3"


def test_a_warning_ahead_keeps_a_series_severity_as_exported():
    alert = dict(ALERT, labels={"instance": "a", "severity": "page"},
                 annotations={"kind": "warning"})
    labels = alertmanager_alert(alert, "", {}, 0.0, 60.0, "incident_id")["labels"]
    assert labels["severity"] == "warning" and labels["exported_severity"] == "page"
    assert labels["alertname"] == "KizashiWarning"
