"""A state file that is sound SQLite but whose content is damaged, against docs/watch.md
("State and crash safety": a corrupt file is an error, never overwritten).

Each damage of the family edits one part of a file written by a real ``kizashi watch
--once`` (a state tree's skeleton or chunks, a series' or alert's labels, the progress
time, a layout or block blob, the schema version). Then:

* ``kizashi watch`` refuses to start in one line naming the state file and the damaged
  part, and leaves the file's bytes as they were (before: "internal error (JSONDecodeError
  …)", "ValueError: stored array 0 has 3 bytes …" or "invalid literal for int()");
* the dashboard answers 503 with that line where it reads the damaged part, and 200
  elsewhere (before: 500 Internal Server Error and a traceback in the log).
"""

from __future__ import annotations

import hashlib
import sqlite3
import time

import pytest
from click.testing import CliRunner
from ticked_state import ticked_state

from kizashi.cli.main import cli

#: name → SQL damaging one part; which dashboard paths then read the damaged part
DAMAGES = {
    "skeleton not JSON": ("UPDATE state_trees SET skeleton='{not json'", ()),
    "skeleton a list": ("UPDATE state_trees SET skeleton='[1, 2]'", ()),
    "skeleton shape": ("UPDATE state_trees SET skeleton=replace(skeleton, '\"shape\": [2]', "
                       "'\"shape\": [3]')", ()),
    "skeleton object dtype": ("UPDATE state_trees SET skeleton=replace(skeleton, '<f8', '|O')",
                              ()),
    "a chunk missing": ("DELETE FROM state_chunks WHERE rowid=(SELECT min(rowid) FROM "
                        "state_chunks)", ()),
    "chunks cut short": ("UPDATE state_chunks SET data=substr(data, 1, 3)", ()),
    "chunks as text": ("UPDATE state_chunks SET data='abc'", ()),
    "chunks table dropped": ("DROP TABLE state_chunks", ()),
    "labels not JSON": ("UPDATE series SET labels='{bad'", ("/api/series/1", "/series/1")),
    "labels a list": ("UPDATE series SET labels='[1]'", ("/api/series/1", "/series/1")),
    "progress as text": ("UPDATE progress SET last_ts='abc'", ()),
    "schema as text": ("UPDATE meta SET value='abc' WHERE key='schema'", ()),
    "layout cut short": ("UPDATE layouts SET series=substr(series, 1, 3)", ("/api/series/1",)),
    "layout as text": ("UPDATE layouts SET series='abc'", ("/api/series/1",)),
    "block cut short": ("UPDATE blocks SET data=substr(data, 1, 5)", ("/api/series/1",)),
    "alert labels not JSON": (
        "INSERT INTO alerts (series_id, watch, detector, labels, starts_at, status, score, "
        "value, threshold, peak_score, annotations) VALUES (1, 'm', 'sigma', '[', 1, 'firing', "
        "1, 1, 1, 1, '{}')", ("/api/series/1", "/series/1", "/alerts", "/api/alerts")),
}
#: damages the daemon's start reads (the dashboard's blobs are read by the pages only)
AT_START = [name for name in DAMAGES if not name.startswith(("layout", "block"))]
PATHS = ["/api/series/1", "/series/1", "/alerts", "/api/alerts", "/healthz"]


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A state file after one ``--once`` tick over 200 steps of two series, and its config."""
    folder = tmp_path_factory.mktemp("state")
    config = ticked_state(folder, "sigma")
    return folder, config


def damaged_copy(written, name: str, tmp_path):
    folder, config = written
    path = tmp_path / "state.sqlite"
    path.write_bytes((folder / "good.sqlite").read_bytes())
    db = sqlite3.connect(path)
    db.executescript(DAMAGES[name][0])
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path, config


def digest(path) -> str:
    """A hash of every row of the file's tables (opening may recreate a dropped, empty
    table: the rows that were there must stay as they were)."""
    db = sqlite3.connect(path)
    try:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                           "ORDER BY name")]
        text = repr([(t, sorted(map(repr, db.execute(f"SELECT * FROM {t}")))) for t in tables
                     if db.execute(f"SELECT count(*) FROM {t}").fetchone()[0]])
    finally:
        db.close()
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.parametrize("name", AT_START)
def test_the_daemon_refuses_a_damaged_state_in_one_line_and_keeps_it(written, tmp_path, name):
    path, config = damaged_copy(written, name, tmp_path)
    before = digest(path)
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"Error: state file {path} is "), lines[0]
    assert "corrupt" in lines[0] and "internal error" not in lines[0], lines[0]
    assert digest(path) == before  # never overwritten


@pytest.mark.parametrize("name", list(DAMAGES))
def test_the_dashboard_answers_503_where_it_reads_a_damaged_part(written, tmp_path, name):
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    from kizashi.watch.web import create_app

    path, _ = damaged_copy(written, name, tmp_path)
    if name == "schema as text":  # the file does not open at all: every page says so
        expect_503 = set(PATHS) - {"/healthz"}
    else:
        expect_503 = set(DAMAGES[name][1])
    app = create_app(str(path), lambda: {"now": time.time(), "watches": {}}, interval=1.0)
    client = TestClient(app, raise_server_exceptions=False)
    for url in PATHS:
        answer = client.get(url + ("?start=0" if url.startswith("/api/series") else ""))
        if url in expect_503:
            assert answer.status_code == 503, (url, answer.status_code, answer.text[:300])
            assert "corrupt" in answer.json()["detail"], answer.text[:300]
        else:
            assert answer.status_code == 200, (url, answer.status_code, answer.text[:300])


@pytest.mark.parametrize("copy", ["{not json", "[1, 2]", "null", "7", ""])
def test_a_damaged_copy_of_an_alert_in_the_outbox_is_sent_from_its_row(copy):
    """The outbox keeps the alert as it was at the event (JSON); a damaged copy must not
    stop every delivery (a traceback each tick): the message is rendered from the
    alert's row as it is now, as for messages queued before copies were kept."""
    from kizashi.watch.store import WatchStore

    store = WatchStore(":memory:")
    with store.transaction():
        alert = store.open_alert(1, "m", "sigma", {"series": "a"}, 100.0, 9.0, 50.0, 5.0)
        store.enqueue(alert, "webhook", "firing", 100.0)
        other = store.open_alert(2, "m", "sigma", {"series": "b"}, 101.0, 8.0, 40.0, 5.0)
        store.enqueue(other, "webhook", "firing", 101.0)
    store.db.execute("UPDATE outbox SET alert=? WHERE alert_id=?", (copy, alert))
    items = store.unsent()
    assert [i["alert_id"] for i in items] == [alert, other]
    assert items[0]["alert"]["labels"] == {"series": "a"} and items[0]["alert"]["id"] == alert
    assert items[1]["alert"]["labels"] == {"series": "b"}
