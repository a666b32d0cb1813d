"""deploy/grafana/*.json: well-formed dashboards whose every query runs on a real Prometheus.

The integration test starts ``kizashi watch`` (a scripted source with one series in an
incident, a fake Alertmanager) and a real Prometheus that scrapes its ``/metrics`` with the
token and ``honor_labels`` as docs/deploy.md says, and loads deploy/prometheus's rules. It
resolves each dashboard's template variables through Prometheus' label API, substitutes them,
and evaluates every panel target: each must parse and return data."""

from __future__ import annotations

import json
import re
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "watch"))  # the watch tests' process helpers
from test_prometheus_rules import exported_metric_names, referenced_names  # noqa: E402
from watch_servers import (  # noqa: E402
    FakeHttp,
    Proc,
    free_port,
    kizashi_watch,
    need,
    prometheus_handler,
    wait_for,
    wait_http,
)

DASHBOARDS = sorted((ROOT / "deploy" / "grafana").glob("*.json"))
RULES = sorted((ROOT / "deploy" / "prometheus").glob("*.yml"))
TOKEN = "dashboard-test-token"


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def targets(board: dict) -> list[tuple[str, dict]]:
    return [(panel["title"], target) for panel in board["panels"]
            for target in panel.get("targets", [])]


def test_the_two_dashboards_exist_with_unique_uids():
    boards = {path.name: load(path) for path in DASHBOARDS}
    assert {"kizashi-overview.json", "kizashi-series.json"} <= set(boards)
    uids = [b["uid"] for b in boards.values()]
    assert len(set(uids)) == len(uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboard_structure(path):
    board = load(path)
    names = {v["name"] for v in board["templating"]["list"]}
    assert "datasource" in names
    ids = [p["id"] for p in board["panels"]]
    assert len(set(ids)) == len(ids)
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}" and panel["targets"]
        refs = [t["refId"] for t in panel["targets"]]
        assert len(set(refs)) == len(refs)
    # every $variable a query uses is defined (or one of Grafana's own)
    for _, target in targets(board):
        used = set(re.findall(r"\$(\w+)", target["expr"]))
        assert used <= names | {"__rate_interval", "__interval", "__range"}, used - names


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_dashboards_use_only_exported_metric_names(path):
    board = load(path)
    used = set().union(*(referenced_names(t["expr"]) for _, t in targets(board)))
    for variable in load(path)["templating"]["list"]:
        if variable["type"] == "query":
            used |= referenced_names(variable["definition"])
    exported = exported_metric_names()
    assert used and used <= exported, used - exported


def test_overview_covers_what_an_operator_asks_for():
    overview = load(ROOT / "deploy/grafana/kizashi-overview.json")
    exprs = " ".join(t["expr"] for _, t in targets(overview))
    assert re.search(r"topk\(\d+, kizashi_watch_score", exprs)
    for name in ("kizashi_watch_alert_firing", "kizashi_watch_ticks_total",
                 "kizashi_watch_tick_duration_seconds", "kizashi_watch_lag_seconds",
                 "kizashi_watch_source_up", "kizashi_watch_notifications_total",
                 "kizashi_watch_persist_errors_total", "kizashi_watch_series"):
        assert name in exprs, name
    drill_down = load(ROOT / "deploy/grafana/kizashi-series.json")
    series = " ".join(t["expr"] for _, t in targets(drill_down))
    for name in ("kizashi_watch_value", "kizashi_watch_score", "kizashi_watch_threshold"):
        assert name in series, name


# ---------------------------------------------------------------- against a real Prometheus

STEP = 0.5
NAMES = ["a", "b", "c"]


def scripted(start: float):
    """Three noisy flat series; 'b' jumps by 50 from 5 s before the daemon starts, for good."""

    def value(name: str, t: float) -> float:
        k = round(t / STEP)
        noise = ((k * 7919 + ord(name) * 104729) % 1000) / 1000.0
        return 10.0 + noise + (50.0 if name == "b" and t >= start - 5.0 else 0.0)

    return value


CONFIG = """
interval: 500ms
storage: {state}
listen: 127.0.0.1:{port}
token: {token}
initial_backfill: 30s
sources:
  prometheus: {{type: prometheus, url: "{source}", timeout: 1s, retries: 1, backoff: 100ms}}
watches:
  - name: nodes
    query: node_load1
    detectors:
      - {{name: sigma, detector: threshold, params: {{window: 40, k: 3.5, min_periods: 10}},
          min_duration: 1s, resolve_after: 1s}}
alerts:
  alertmanager: {{url: "{sink}", resend_interval: 1h}}
"""


def api(base: str, path: str, **params: Any) -> Any:
    query = urllib.parse.urlencode(params, doseq=True)
    with urllib.request.urlopen(f"{base}{path}?{query}", timeout=10) as response:
        body = json.loads(response.read())
    assert body["status"] == "success", body
    return body["data"]


def api_error(base: str, path: str, **params: Any) -> str | None:
    """The error Prometheus gives for a query, or None when it succeeds."""
    try:
        api(base, path, **params)
    except urllib.error.HTTPError as error:
        return json.loads(error.read()).get("error", str(error))
    return None


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """kizashi watch scraped by a real Prometheus with kizashi's rules loaded."""
    need("prometheus")
    tmp = tmp_path_factory.mktemp("grafana")
    source = FakeHttp(prometheus_handler(scripted(time.time()), NAMES))
    sink = FakeHttp(lambda method, path, query, body: (200, b"{}"))
    watch_port, prom_port = free_port(), free_port()
    config = tmp / "watch.yaml"
    config.write_text(CONFIG.format(state=tmp / "state.sqlite", port=watch_port, token=TOKEN,
                                    source=source.url, sink=sink.url))
    daemon = kizashi_watch([str(config)], tmp / "watch.log")
    prometheus_yml = tmp / "prometheus.yml"
    prometheus_yml.write_text(json.dumps({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(p) for p in RULES],
        "scrape_configs": [{"job_name": "kizashi-watch", "honor_labels": True,
                            "authorization": {"credentials": TOKEN},
                            "static_configs": [{"targets": [f"127.0.0.1:{watch_port}"]}]}]}))
    prometheus = Proc(["prometheus", f"--config.file={prometheus_yml}",
                       f"--storage.tsdb.path={tmp / 'tsdb'}",
                       f"--web.listen-address=127.0.0.1:{prom_port}"], tmp / "prometheus.log")
    base = f"http://127.0.0.1:{prom_port}"
    try:
        wait_http(f"{base}/-/ready", timeout=30)

        def ready() -> bool:
            firing = api(base, "/api/v1/query", query="kizashi_watch_alert_firing == 1")
            sent = api(base, "/api/v1/query", query="kizashi_watch_notifications_total")
            ticks = api(base, "/api/v1/query",
                        query="count_over_time(kizashi_watch_ticks_total[1m]) >= 3")
            return bool(firing["result"] and sent["result"] and ticks["result"])

        try:
            wait_for(ready, 60, "Prometheus to scrape kizashi's incident", every=0.5)
        except AssertionError:
            raise AssertionError(daemon.output()[-3000:] + prometheus.output()[-3000:]) from None
        yield base
    finally:
        prometheus.stop()
        daemon.stop()
        source.close()
        sink.close()


def resolve_variables(base: str, board: dict) -> dict[str, str]:
    """Each template variable's value as Grafana would substitute it: the label values
    Prometheus knows, through its label API (multi/all: the all-value regex)."""
    values: dict[str, str] = {}
    for variable in board["templating"]["list"]:
        if variable["type"] != "query":
            continue
        definition = substitute(variable["definition"], values)
        metric, label = re.fullmatch(r"label_values\((.+), (\w+)\)", definition).groups()
        found = api(base, f"/api/v1/label/{label}/values", **{"match[]": metric})
        assert found, f"variable {variable['name']}: {definition} has no values"
        values[variable["name"]] = (variable["allValue"] if variable.get("includeAll")
                                    else sorted(found)[0])
    return values


def substitute(expr: str, values: dict[str, str]) -> str:
    expr = expr.replace("$__rate_interval", "5s").replace("$__interval", "1s")
    for name, value in sorted(values.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(f"${name}", value)
    assert "$" not in expr, expr
    return expr


@pytest.mark.integration
@pytest.mark.slow
@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_query_returns_data_from_a_real_prometheus(stack, path):
    board = load(path)
    values = resolve_variables(stack, board)
    now = time.time()
    failures = []
    for title, target in targets(board):
        expr = substitute(target["expr"], values)
        if target.get("instant"):
            error = api_error(stack, "/api/v1/query", query=expr)
            data = None if error else api(stack, "/api/v1/query", query=expr)
        else:
            params = {"query": expr, "start": now - 30, "end": now, "step": 1}
            error = api_error(stack, "/api/v1/query_range", **params)
            data = None if error else api(stack, "/api/v1/query_range", **params)
        if error or not data["result"]:
            failures.append(f"{title}: {expr} → {error or 'no data'}")
    assert not failures, "\n".join(failures)


@pytest.mark.integration
@pytest.mark.slow
def test_the_drill_down_shows_the_incident_series(stack):
    """With the series in its incident selected, the drill-down's alerting line has data,
    and only for that series."""
    board = load(ROOT / "deploy/grafana/kizashi-series.json")
    values = {**resolve_variables(stack, board), "instance": "b"}
    value_panel = next(p for p in board["panels"] if p["title"] == "Value")
    alerting = substitute(value_panel["targets"][1]["expr"], values)
    assert {r["metric"]["instance"] for r in api(stack, "/api/v1/query", query=alerting)[
        "result"]} == {"b"}
    values["instance"] = ".*"
    everyone = api(stack, "/api/v1/query", query=substitute(value_panel["targets"][1]["expr"],
                                                             values))["result"]
    assert {r["metric"]["instance"] for r in everyone} == {"b"}  # a and c are quiet


@pytest.mark.integration
@pytest.mark.slow
def test_rules_evaluate_on_the_real_metrics(stack):
    groups = api(stack, "/api/v1/rules")["groups"]
    loaded = [rule for group in groups for rule in group["rules"]]
    assert loaded and all(rule["health"] == "ok" for rule in loaded), [
        (r["name"], r.get("lastError")) for r in loaded if r["health"] != "ok"]
    ratio = api(stack, "/api/v1/query", query="kizashi:watch_score_over_threshold:ratio")
    assert {r["metric"]["instance"] for r in ratio["result"]} == set(NAMES)
    anomaly = next(r for r in loaded if r["name"] == "KizashiAnomaly")
    assert {a["labels"]["instance"] for a in anomaly["alerts"]} == {"b"}
    assert {a["state"] for a in anomaly["alerts"]} <= {"pending", "firing"}
    down = next(r for r in loaded if r["name"] == "KizashiWatchDown")
    assert down["alerts"] == []  # scraped with the token: up == 1
