"""The web dashboard and ``/metrics``: a FastAPI app over the store and the watcher's status.

Pages: ``/`` an overview of every watched series with its status, ``/series/{id}``
an interactive plot (value, score, threshold, alerts; range buttons,
from/to, drag to zoom, hover read-out), ``/alerts`` the alert list. JSON:
``/api/status``, ``/api/series/{id}?start=&end=``, ``/api/series/{id}/forecast``
(a watch with ``predict:``), ``/api/alerts``. Plus
``/metrics`` and ``/healthz``.

The plot is a small canvas renderer written for this page
(``templates/series.html``), not a plotting library: the dashboard must work
offline (no CDN), ship as package data the project already includes
(``*.html``), and draw a few thousand points per series — which ~200 lines of
canvas code do without a 3-4 MB dependency such as plotly.js.

When a token is configured every path but ``/healthz`` needs it: as
``Authorization: Bearer TOKEN``, or once as ``?token=TOKEN`` (which sets a cookie).

Parameters are checked before any use: a series id is a whole number from 0 to
2^63 - 1, ``start``/``end`` finite epoch seconds within ±1e11 (``start`` before
``end``), ``limit`` 1 … 10 000, ``status`` ``firing`` or ``resolved``, ``range``
1 s … 10 years. Anything else is answered 400 with a message, never 500. Text
from the config or the data (watch, detector and source names, labels) is
HTML-escaped on the server and set with ``textContent`` in the page's script.

fastapi is imported here and only here, so ``import kizashi`` stays light.
"""

from __future__ import annotations

import hmac
import html
import itertools
import json
import logging
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import numpy as np

from kizashi.watch.exporter import render_metrics
from kizashi.watch.status import SeriesTable
from kizashi.watch.store import StateFileDamaged, WatchStore

log = logging.getLogger("kizashi.watch")

__all__ = ["create_app", "downsample"]

MAX_POINTS = 2000
SPARK_SECONDS = 900.0
COOKIE = "kizashi_watch_token"
#: largest SQLite integer: series ids beyond it cannot exist
MAX_ID = 2**63 - 1
#: largest magnitude of a ``start``/``end`` time (epoch seconds, about the year 5000)
MAX_TIME = 1e11
MAX_LIMIT = 10_000
MAX_RANGE = 10 * 366 * 86400
#: Series per page of the overview (``?per=``, at most ``MAX_PER_PAGE``).
PER_PAGE = 50
MAX_PER_PAGE = 1000
#: Entities (rows) of the overview's heatmap: the most anomalous ones.
HEATMAP_ROWS = 60


def downsample(part: dict[str, np.ndarray], max_points: int = MAX_POINTS) -> dict[str, np.ndarray]:
    """At most ``max_points`` points: in each time bucket the one with the highest score.

    Keeping the top-scoring point of each bucket means a short anomaly stays
    visible however long the range.

    >>> t = np.arange(10.0)
    >>> part = {"t": t, "value": t, "score": np.r_[np.zeros(7), 5.0, 0, 0], "threshold": t * 0}
    >>> downsample(part, 5)["t"].tolist()
    [0.0, 2.0, 4.0, 7.0, 8.0]
    """
    n = part["t"].size
    if n <= max_points:
        return part
    edges = np.linspace(0, n, max_points + 1).astype(int)
    score = np.where(np.isnan(part["score"]), -np.inf, part["score"])
    pick = [a + int(np.argmax(score[a:b])) for a, b in itertools.pairwise(edges)
            if b > a]
    return {k: v[pick] for k, v in part.items()}


def create_app(store_path: str, snapshot: Callable[[], dict[str, Any]], token: str | None = None,
               interval: float = 15.0) -> Any:
    """The FastAPI application (``snapshot`` returns the watcher's status)."""
    from fastapi import FastAPI, HTTPException, Request, responses
    from fastapi.responses import RedirectResponse, Response

    class JSONResponse(responses.JSONResponse):
        """JSON in ASCII: a label holding a lone surrogate (not UTF-8 at all) is sent as its
        ``\\ud800`` escape, which a JSON reader reads back exactly (before: a 500)."""

        def render(self, content: Any) -> bytes:
            return json.dumps(content, ensure_ascii=True, allow_nan=False,
                              separators=(",", ":")).encode("ascii")

    class HTMLResponse(responses.HTMLResponse):
        """A page in UTF-8, a lone surrogate in its text written as its escape ``\\ud800``."""

        def render(self, content: Any) -> bytes:
            if isinstance(content, str):
                return content.encode("utf-8", "backslashreplace")
            return bytes(super().render(content))

    app = FastAPI(title="kizashi watch", docs_url=None, redoc_url=None, openapi_url=None,
                  default_response_class=JSONResponse)

    @app.middleware("http")
    async def require_token(request: Request, call_next: Any) -> Any:
        if not token or request.url.path == "/healthz":
            return await call_next(request)
        given = request.query_params.get("token")
        header = request.headers.get("authorization", "")
        candidates = [given, request.cookies.get(COOKIE),
                      header[7:] if header.lower().startswith("bearer ") else None]
        if not any(c and hmac.compare_digest(c.encode(), token.encode()) for c in candidates):
            return JSONResponse({"error": "a token is required: send 'Authorization: Bearer "
                                          "TOKEN' or open the page once with ?token=TOKEN"},
                                status_code=401)
        if given:  # set the cookie and drop the token from the address bar
            response = RedirectResponse(request.url.remove_query_params("token"), 303)
            response.set_cookie(COOKIE, token, httponly=True, samesite="strict")
            return response
        return await call_next(request)

    @app.exception_handler(StateFileDamaged)
    async def damaged(request: Request, error: StateFileDamaged) -> JSONResponse:
        """A damaged part of the state file: 503 with the line the daemon logs, not a 500."""
        log.error("%s: %s", request.url.path, error)
        return JSONResponse({"detail": str(error)}, status_code=503)

    def bad(message: str) -> HTTPException:
        return HTTPException(400, message)

    def check_id(series_id: int) -> None:
        if not 0 <= series_id <= MAX_ID:
            raise bad(f"series id must be a whole number from 0 to {MAX_ID}, got {series_id}")

    def check_time(name: str, value: float | None) -> None:
        if value is not None and not (math.isfinite(value) and abs(value) <= MAX_TIME):
            raise bad(f"{name} must be finite epoch seconds within ±{MAX_TIME:g}, got {value}")

    def open_store() -> WatchStore:
        try:
            return WatchStore(store_path, readonly=True)
        except ValueError as error:
            raise HTTPException(503, str(error)) from None

    @app.get("/healthz")
    def healthz() -> Any:
        health = snapshot().get("health", {})
        if health.get("state_corrupt"):   # the daemon stops: no tick can succeed
            return JSONResponse({"status": "failed", "error": health["state_corrupt"],
                                 "ticks": health.get("ticks", 0)}, status_code=503)
        return {"status": "ok", "ticks": health.get("ticks", 0)}

    @app.get("/metrics")
    def metrics() -> Response:
        return Response(render_metrics(snapshot),
                        media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/api/status")
    def api_status() -> JSONResponse:
        snap = snapshot()
        return JSONResponse({**snap, "watches": {
            name: {k: v for k, v in watch.items() if k not in ("table", "forecasts")}
            for name, watch in snap.get("watches", {}).items()}})

    @app.get("/api/alerts")
    def api_alerts(status: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
        if status not in (None, "", "firing", "resolved"):
            raise bad(f"status must be firing or resolved, got {status[:100]!r}")
        if not 1 <= limit <= MAX_LIMIT:
            raise bad(f"limit must be from 1 to {MAX_LIMIT}, got {limit}")
        store = open_store()
        try:
            return store.alerts(status=status, limit=limit)
        finally:
            store.close()

    @app.get("/api/series/{series_id}")
    def api_series(series_id: int, start: float | None = None,
                   end: float | None = None) -> JSONResponse:
        check_id(series_id)
        check_time("start", start)
        check_time("end", end)
        if start is not None and end is not None and start > end:
            raise bad(f"start ({start}) must not be after end ({end})")
        end = time.time() if end is None else end
        start = end - 3600.0 if start is None else start
        store = open_store()
        try:
            series = store.series(series_id)
            if series is None:
                raise HTTPException(404, f"no series {series_id}")
            parts = store.points(series_id, start, end)
            alerts = [a for a in store.alerts(series_id=series_id, limit=1000)
                      if (a["ends_at"] is None or a["ends_at"] >= start) and a["starts_at"] <= end]
        finally:
            store.close()
        detectors, downsampled = {}, False
        for name, part in parts.items():
            small = downsample(part)
            downsampled |= small["t"].size < part["t"].size
            detectors[name] = {k: [None if not math.isfinite(x) else x for x in v.tolist()]
                               for k, v in small.items()}
        detector_names = _detector_names(snapshot(), series["watch"])
        for name in detector_names:
            detectors.setdefault(name, {"t": [], "value": [], "score": [], "threshold": []})
        return JSONResponse({"series": series, "start": start, "end": end, "step": interval,
                             "detectors": detectors, "alerts": alerts,
                             "downsampled": downsampled})

    @app.get("/api/series/{series_id}/forecast")
    def api_forecast(series_id: int) -> JSONResponse:
        """The series' newest forecast over the horizon (a watch with ``predict:``)."""
        check_id(series_id)
        for watch in snapshot().get("watches", {}).values():
            forecasts = watch.get("forecasts")
            band = None if forecasts is None else forecasts.band(series_id)
            if band is not None:
                return JSONResponse(band)
        raise HTTPException(404, f"no forecast for series {series_id} (its watch has no "
                                 "predict:, or the series is not in it)")

    @app.get("/", response_class=HTMLResponse)
    def overview(q: str = "", page: int = 1, per: int = PER_PAGE) -> str:
        if not 1 <= page <= MAX_ID:
            raise bad(f"page must be a whole number from 1, got {page}")
        if not 1 <= per <= MAX_PER_PAGE:
            raise bad(f"per must be from 1 to {MAX_PER_PAGE}, got {per}")
        snap = snapshot()
        now = snap.get("now", time.time())
        views = {name: _view(watch, q[:500], page, per)
                 for name, watch in snap.get("watches", {}).items()}
        store = open_store()
        try:
            sparks: dict[int, str] = {}
            for name, view in views.items():
                ids = [int(view.table.ids[j]) for j in view.rows]
                for sid, (t, v) in store.recent_values(name, ids, now - SPARK_SECONDS,
                                                       now).items():
                    sparks[sid] = _sparkline(t, v, now - SPARK_SECONDS, now)
            counts = store.alert_counts(now - 86400)
        finally:
            store.close()
        return _page("Overview", _overview_body(snap, sparks, counts, views, q[:500]), snap,
                     nav="overview")

    @app.get("/alerts", response_class=HTMLResponse)
    def alerts_page() -> str:
        store = open_store()
        try:
            alerts = store.alerts(limit=500)
        finally:
            store.close()
        firing = sum(a["status"] == "firing" for a in alerts)
        body = (f"<h1>Alerts</h1><p class='muted'>{firing} firing, {len(alerts) - firing} "
                f"resolved (newest first, at most 500)</p>" + _alerts_table(alerts, True))
        return _page("Alerts", body, snapshot(), nav="alerts")

    @app.get("/series/{series_id}", response_class=HTMLResponse)
    def series_page(series_id: int, range: int = 3600) -> str:
        check_id(series_id)
        if not 1 <= range <= MAX_RANGE:
            raise bad(f"range must be from 1 to {MAX_RANGE} seconds, got {range}")
        store = open_store()
        try:
            series = store.series(series_id)
            if series is None:
                raise HTTPException(404, f"no series {series_id}")
            alerts = store.alerts(series_id=series_id, limit=100)
        finally:
            store.close()
        body = _template("series.html", {
            "heading": html.escape(f"{series['watch']} · series {series_id}"),
            "labels": _labels(series["labels"]),
            "series_id": str(series_id),
            "root_json": json.dumps(""),
            "interval_ms": str(int(interval * 1000)),
            "span": str(max(60, int(range))),
            "alerts": _alerts_table(alerts, False),
        })
        return _page(f"series {series_id}", body, snapshot(), nav="")

    return app


# ------------------------------------------------------------------------ html
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")


def _template(name: str, values: dict[str, str]) -> str:
    """The template with its ``{{key}}`` placeholders filled in one pass.

    One pass: text that was filled in (escaped names and labels) is never searched
    for placeholders again, so a name such as ``{{body}}`` stays text.
    """
    text = resources.files("kizashi.watch").joinpath("templates", name).read_text("utf-8")
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def _page(title: str, body: str, snap: dict[str, Any], nav: str) -> str:
    health = snap.get("health", {})
    down = [s for s, ok in health.get("source_up", {}).items() if not ok]
    status = (f"{health.get('ticks', 0)} ticks · every {snap.get('interval', 0):g} s · "
              + ("sources down: " + ", ".join(down) if down else "all sources up")
              + ("" if health.get("persist_ok", True) else " · state file not writable"))
    return _template("layout.html", {
        "title": html.escape(title), "root": "", "body": body, "health": html.escape(status),
        "nav_overview": "active" if nav == "overview" else "",
        "nav_alerts": "active" if nav == "alerts" else "",
    })


def _sparkline(t: np.ndarray, v: np.ndarray, start: float, end: float,
               width: int = 160, height: int = 28) -> str:
    """A small inline SVG line of ``v`` over ``[start, end]``."""
    keep = np.isfinite(v)
    t, v = t[keep], v[keep]
    if t.size < 2:
        return ""
    if t.size > width:
        idx = np.linspace(0, t.size - 1, width).astype(int)
        t, v = t[idx], v[idx]
    lo, hi = float(v.min()), float(v.max())
    span = hi - lo or 1.0
    x = (t - start) / (end - start) * width
    y = height - 2 - (v - lo) / span * (height - 4)
    points = " ".join(f"{a:.1f},{b:.1f}" for a, b in zip(x, y, strict=True))
    return (f"<svg class='spark' width='{width}' height='{height}' viewBox='0 0 {width} "
            f"{height}'><polyline fill='none' stroke='#2f6fdb' stroke-width='1.3' "
            f"points='{points}'/></svg>")


@dataclass
class _View:
    """What the overview shows of one watch: the matching series, most anomalous first,
    and the positions of the current page's rows."""

    table: SeriesTable
    matching: np.ndarray
    rows: list[int]
    page: int
    pages: int


def _view(watch: dict[str, Any], query: str, page: int, per: int) -> _View:
    table = watch.get("table")
    if table is None:   # a status without columns (built by hand): from its series list
        table = _table_of(watch.get("series", []))
    matching = table.memo(("ranking", query), lambda: table.ranking(table.matching(query)))
    pages = max(1, -(-matching.size // per))
    page = min(page, pages)
    return _View(table, matching, matching[(page - 1) * per:page * per].tolist(), page, pages)


def _table_of(series: list[dict[str, Any]]) -> SeriesTable:
    from kizashi.watch.status import DetectorColumns

    names = list(series[0]["detectors"]) if series else []

    def column(name: str, key: str) -> np.ndarray:
        return np.array([np.nan if s["detectors"][name].get(key) is None else
                         s["detectors"][name][key] for s in series], dtype=np.float64)

    detectors = {name: DetectorColumns(
        score=column(name, "score"), threshold=column(name, "threshold"),
        firing=np.array([bool(s["detectors"][name].get("firing")) for s in series], bool),
        seen=np.array([(s["detectors"][name].get("learning") or {}).get("seen", 1 << 30)
                       for s in series], dtype=np.int64),
        needed=max([(s["detectors"][name].get("learning") or {}).get("needed", 0)
                    for s in series] or [0])) for name in names}
    return SeriesTable(np.array([s["id"] for s in series], dtype=np.int64),
                       [s["labels"] for s in series],
                       np.array([np.nan if s.get("value") is None else s["value"]
                                 for s in series], dtype=np.float64),
                       np.array([np.nan if s.get("last_seen") is None else s["last_seen"]
                                 for s in series], dtype=np.float64), detectors)


def _overview_body(snap: dict[str, Any], sparks: dict[int, str] | None = None,
                   counts: dict[int, int] | None = None,
                   views: dict[str, _View] | None = None, query: str = "") -> str:
    sparks, counts = sparks or {}, counts or {}
    health = snap.get("health", {})
    watches = snap.get("watches", {})
    views = views or {name: _view(w, query, 1, PER_PAGE) for name, w in watches.items()}
    n_series = sum(len(v.table) for v in views.values())
    n_firing = sum(int(v.table.firing.sum()) for v in views.values())
    ups = health.get("source_up", {})
    lags = [w["lag"] for w in watches.values() if w.get("lag") is not None]
    cards = [(len(watches), "watches"), (n_series, "series"), (n_firing, "firing"),
             (f"{sum(ups.values())}/{len(ups)}", "sources up"), (health.get("ticks", 0), "ticks"),
             (f"{max(lags):.0f} s" if lags else "–", "max lag")]
    out = ["<h1>Overview</h1><div class='cards'>"
           + "".join(f"<div><b>{v}</b><span>{k}</span></div>" for v, k in cards) + "</div>"]
    for source, ok in health.get("source_up", {}).items():
        if not ok:
            error = health.get("source_last_error", {}).get(source, "")
            out.append(f"<div class='banner'><b>source {html.escape(source)} is down</b> — no "
                       f"new points are scored until it answers again; the gap will be "
                       f"backfilled. {html.escape(error)}</div>")
    if not health.get("persist_ok", True):
        out.append(f"<div class='banner'><b>the state file cannot be written</b> — nothing is "
                   f"stored or alerted until it can; the steps will be processed then "
                   f"({health.get('persist_errors', 0)} failed writes). "
                   f"{html.escape(health.get('persist_last_error', ''))}</div>")
    out.append("<form class='controls' method='get' action='/'><input name='q' size='40' "
               f"placeholder='search labels: key=value, key!=value or a word' "
               f"value='{html.escape(query, quote=True)}'><button>search</button>"
               f"{'<a href=/>clear</a>' if query else ''}</form>")
    now, interval = snap.get("now", time.time()), snap.get("interval", 15.0)
    for name, watch in watches.items():
        view = views[name]
        table = view.table
        up = health.get("source_up", {}).get(watch["source"], True)
        lag = "–" if watch["lag"] is None else f"{watch['lag']:.0f} s"
        shown = (f"{view.matching.size} matching · " if query else "")
        out.append(
            f"<h2>{html.escape(name)} <span class='pill {'ok' if up else 'down'}'>"
            f"source {html.escape(watch['source'])} {'up' if up else 'down'}</span></h2>"
            f"<p class='muted'><code>{html.escape(watch['query'] or '(csv columns)')}</code> · "
            f"{len(table)} series · {int(table.firing.sum())} firing · {shown}lag {lag}</p>")
        if len(table) > 1:
            out.append(table.memo(("heatmap", query), lambda t=table, v=view: _heatmap(
                t, v.matching)))
        detectors = list(table.detectors)
        head = "".join(f"<th>{html.escape(d)} score / threshold</th>" for d in detectors)
        rows = []
        for j in view.rows:
            series = table.row(j)
            firing = any(d["firing"] for d in series["detectors"].values())
            stale = series["last_seen"] is None or now - series["last_seen"] > 3 * interval + 5
            learning = all(d.get("learning") for d in series["detectors"].values())
            status = "firing" if firing else ("stale" if stale else (
                "learning" if learning else "ok"))
            cells = "".join(
                f"<td>{_learning(d['learning'])}</td>" if d.get("learning") else
                f"<td>{_num(d['score'])} / {_num(d['threshold'])}</td>"
                for d in series["detectors"].values())
            rows.append(
                f"<tr class='series-row'><td><span class='pill {status}'>{status}</span></td>"
                f"<td class='labels'><a href='/series/{series['id']}'>"
                f"{_labels(series['labels']) or series['id']}</a></td>"
                f"<td>{sparks.get(series['id'], '')}</td>"
                f"<td>{_num(series['value'])}</td>{cells}"
                f"<td>{counts.get(series['id'], 0)}</td><td>{_ago(series['last_seen'], now)}</td>"
                "</tr>")
        out.append(f"<table><tr><th>status</th><th>series</th><th>last 15 min</th><th>value</th>"
                   f"{head}<th>alerts 24 h</th><th>last point</th></tr>"
                   f"{''.join(rows) or _empty(6 + len(detectors))}</table>")
        if view.pages > 1:
            out.append(_pager(view, query))
    return "\n".join(out)


def _pager(view: _View, query: str) -> str:
    """Links to the previous and next page of the overview."""
    def link(page: int, text: str) -> str:
        params = {"q": query, "page": str(page)} if query else {"page": str(page)}
        return f"<a class='page' href='/?{html.escape(urlencode(params))}'>{text}</a>"

    parts = [link(view.page - 1, "« previous") if view.page > 1 else "",
             f"page {view.page} of {view.pages} (most anomalous first)",
             link(view.page + 1, "next »") if view.page < view.pages else ""]
    return f"<p class='pager'>{' · '.join(p for p in parts if p)}</p>"


def _heatmap(table: SeriesTable, rows: np.ndarray) -> str:
    """Entities × metrics, coloured by score over threshold (the most anomalous entities)."""
    entities, metrics, cells, ids = table.heatmap(rows)
    if not entities or not metrics or (len(entities) < 2 and len(metrics) < 2):
        return ""
    worst = np.fmax.reduce(np.where(np.isnan(cells), -1.0, cells), axis=1)
    keep = np.argsort(-worst, kind="stable")[:HEATMAP_ROWS]
    head = "".join(f"<th title='{html.escape(m, quote=True)}'>{html.escape(m[-14:])}</th>"
                   for m in metrics)
    body = []
    for i in keep.tolist():
        tds = []
        for k, cell in enumerate(cells[i].tolist()):
            if math.isnan(cell):
                tds.append("<td></td>" if not ids[i, k] else
                           f"<td><a href='/series/{ids[i, k]}'>·</a></td>")
                continue
            tds.append(f"<td style='background:{_heat(cell)}'><a href='/series/{ids[i, k]}' "
                       f"title='{cell:.3g}'>&nbsp;</a></td>")
        body.append(f"<tr><th>{html.escape(entities[i])}</th>{''.join(tds)}</tr>")
    more = (f" ({HEATMAP_ROWS} most anomalous of {len(entities)})"
            if len(entities) > HEATMAP_ROWS else "")
    return (f"<details class='heatmap' open><summary>heatmap: score / threshold{more}"
            f"</summary><table class='heat'><tr><th></th>{head}</tr>{''.join(body)}</table>"
            "</details>")


def _heat(ratio: float) -> str:
    """Green (≪ threshold) through yellow to red (at or above it)."""
    x = max(0.0, min(1.0, float(ratio)))
    hue = 120 * (1 - x)
    return f"hsl({hue:.0f},70%,{55 if ratio < 1 else 45}%)"


def _alerts_table(alerts: list[dict[str, Any]], with_series: bool) -> str:
    rows = []
    for a in alerts:
        series = (f"<td class='labels'><a href='/series/{a['series_id']}'>"
                  f"{_labels(a['labels'])}</a></td>" if with_series else "")
        rows.append(
            f"<tr class='alert-row'><td><span class='pill {html.escape(str(a['status']))}'>"
            f"{html.escape(str(a['status']))}</span></td>"
            f"<td>{html.escape(a['watch'])}</td><td>{html.escape(a['detector'])}</td>{series}"
            f"<td>{_when(a['starts_at'])}</td><td>{_when(a['ends_at'])}</td>"
            f"<td>{_num(a['peak_score'])}</td><td>{_num(a['threshold'])}</td>"
            f"<td>{html.escape(_causes(a))}</td></tr>")
    head = ("<tr><th>status</th><th>watch</th><th>detector</th>"
            + ("<th>series</th>" if with_series else "")
            + "<th>started (UTC)</th><th>ended (UTC)</th><th>peak score</th>"
            "<th>threshold</th><th>top causes</th></tr>")
    return f"<table>{head}{''.join(rows) or _empty(9 if with_series else 8)}</table>"


def _causes(alert: dict[str, Any]) -> str:
    """An alert's ranked causes (annotation ``top_causes``: "mem 71%, io 12%"), or –."""
    return str((alert.get("annotations") or {}).get("top_causes") or "–")


def _labels(labels: dict[str, str]) -> str:
    return " ".join(f"<code>{html.escape(k)}={html.escape(str(v))}</code>"
                    for k, v in sorted(labels.items()) if k != "__name__")


def _learning(state: dict[str, int]) -> str:
    """"learning (n of m steps)" for a series still warming up."""
    return f"learning ({int(state['seen'])} of {int(state['needed'])} steps)"


def _num(value: Any) -> str:
    if value is None or not math.isfinite(float(value)):
        return "–"
    return f"{float(value):.4g}"


def _when(t: float | None) -> str:
    if t is None:
        return "–"
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ago(t: float | None, now: float) -> str:
    return "never" if t is None else f"{max(0.0, now - t):.0f} s ago"


def _empty(columns: int) -> str:
    return f"<tr><td colspan='{columns}' class='muted'>nothing yet</td></tr>"


def _detector_names(snap: dict[str, Any], watch: str) -> list[str]:
    body = snap.get("watches", {}).get(watch, {})
    if body.get("table") is not None:
        return list(body["table"].detectors)
    series = body.get("series", [])
    return list(series[0]["detectors"]) if series else []
