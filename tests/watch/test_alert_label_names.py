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
