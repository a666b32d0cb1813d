"""deploy/prometheus/*.yml: accepted by ``promtool check rules``, every alert covered by the
``promtool test rules`` unit tests in kizashi-rules-test.yml, and written only against metric
names kizashi's exporter really produces."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
RULE_FILES = sorted((ROOT / "deploy" / "prometheus").glob("*.yml"))
UNIT_TESTS = Path(__file__).with_name("kizashi-rules-test.yml")


def exported_metric_names() -> set[str]:
    """Every sample name ``/metrics`` writes, from the real exporter on a full snapshot."""
    pytest.importorskip("prometheus_client", reason="pip install 'kizashi[web]'")
    from prometheus_client.parser import text_string_to_metric_families

    from kizashi.watch.exporter import render_metrics

    snapshot = {"watches": {"cpu": {"lag": 1.0, "series": [
        {"labels": {"instance": "a"}, "value": 0.5, "detectors": {"s": {
            "score": 2.0, "threshold": 4.0, "firing": True,
            "learning": {"needed": 10, "seen": 3}}}}]}},
        "health": {"ticks": 3, "tick_seconds": 0.01, "points": 9, "source_up": {"p": True},
                   "source_errors": {"p": 1}, "persist_errors": 1,
                   "notifications_sent": {"alertmanager": 2},
                   "notifications_failed": {"webhook": 1}}}
    text = render_metrics(lambda: snapshot).decode()
    return {sample.name for family in text_string_to_metric_families(text)
            for sample in family.samples}


def referenced_names(expr: str) -> set[str]:
    return set(re.findall(r"\bkizashi_[a-z_]+\b", expr))


def rules() -> list[dict]:
    return [rule for path in RULE_FILES for group in yaml.safe_load(path.read_text())["groups"]
            for rule in group["rules"]]


def promtool(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    if shutil.which("promtool") is None:
        pytest.skip("needs promtool: apt-get install -y prometheus")
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=120,
                          cwd=cwd)


def test_rules_use_only_exported_metric_names():
    exported = exported_metric_names()
    used = set().union(*(referenced_names(rule["expr"]) for rule in rules()))
    assert used and used <= exported, used - exported


def test_every_alert_has_a_unit_test():
    alerts = {rule["alert"] for rule in rules() if "alert" in rule}
    tested = {case["alertname"] for test in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
              for case in test.get("alert_rule_test", [])}
    assert alerts and alerts <= tested, alerts - tested
    records = {rule["record"] for rule in rules() if "record" in rule}
    assert all(name.startswith("kizashi:") for name in records)  # level:metric:operations


@pytest.mark.integration
def test_promtool_check_rules():
    result = promtool("check", "rules", *map(str, RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("SUCCESS") == len(RULE_FILES)


@pytest.mark.integration
def test_promtool_check_rules_catches_a_broken_copy(tmp_path):
    """The check above can fail: a rule with bad PromQL is refused."""
    broken = tmp_path / "broken.yml"
    broken.write_text(RULE_FILES[0].read_text().replace(
        "expr: kizashi_watch_source_up == 0", "expr: kizashi_watch_source_up == == 0"))
    assert promtool("check", "rules", str(broken)).returncode != 0


@pytest.mark.integration
def test_promtool_unit_tests_of_the_alerts():
    result = promtool("test", "rules", UNIT_TESTS.name, cwd=UNIT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout
