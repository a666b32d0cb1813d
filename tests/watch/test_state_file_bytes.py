"""The daemon's state file damaged byte by byte (:mod:`kizashi.testing.damage`), against
docs/watch.md ("State and crash safety": a corrupt file is an error, never overwritten).

``tests/watch/test_state_damage.py`` damages the file's rows through SQL; here its bytes
change as a disk or a copy changes them: a bit flipped in every page, 64 random bytes,
cuts, bytes appended, text. SQLite keeps no checksum of its pages and ``quick_check``
reads the structure only, so before the state rows carried their CRC-32 a flipped bit in a
state chunk loaded as another detector state; a file cut inside its last page loaded with
zeros for the missing bytes; a flipped byte in the schema's text raised SQLite's own
``no such column`` (or renamed a table, which the open then created anew, empty); a text
value that is not UTF-8 raised ``Could not decode to UTF-8``; and ``quick_check``'s answer
made a message of several lines.

What is still not covered (docs/watch.md): the rows other than the detector state (a
series' labels, alerts, the outbox, the dashboard's blocks) carry no
checksum of their own; a flipped byte in one of them loads as written there. The
progress time (where a restart resumes) carries its CRC-32 like the state.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from ticked_state import ticked_state

from kizashi.cli.main import cli
from kizashi.testing.damage import check_loader
from kizashi.watch.store import WatchStore

WATCH, DETECTOR = "m", "sigma"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """A state file after one ``--once`` tick over 300 steps of three series, WAL merged."""
    folder = tmp_path_factory.mktemp("state")
    config = ticked_state(folder, DETECTOR, steps=300, third_series=True)
    return folder, config


def load(path: Path) -> str:
    """What a restart reads (a read-write open, as the daemon's): the progress, the
    detector state, the series, the alerts and the outbox (as one comparable text)."""
    store = WatchStore(str(path))
    try:
        content = (store.progress(WATCH), store.load_state(WATCH, DETECTOR),
                   store.all_series(), store.alerts(), store.unsent())
    finally:
        store.close()
        for extra in ("-wal", "-shm"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
    return json.dumps(content, sort_keys=True,
                      default=lambda a: a.tolist() if hasattr(a, "tolist") else repr(a))


def _rows(path: Path) -> tuple[list, list, list]:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return (db.execute("SELECT watch, detector, skeleton FROM state_trees").fetchall(),
                db.execute("SELECT * FROM state_chunks ORDER BY 1, 2, 3, 4").fetchall(),
                db.execute("SELECT watch, last_ts FROM progress ORDER BY 1").fetchall())
    finally:
        db.close()


def outside_the_state(good_path: Path, scratch: Path):
    """Whether a damaged file differs from the good one only in rows without a checksum
    (labels, alerts, outbox; see the module's note): its detector state and progress rows
    are those written, byte for byte."""
    state = _rows(good_path)

    def known(label: str, data: bytes) -> bool:
        scratch.write_bytes(data)
        try:
            return _rows(scratch) == state
        except sqlite3.Error:
            return False
    return known


DENSITY = [pytest.param(1, id="default"), pytest.param(4, id="dense", marks=pytest.mark.slow)]


@pytest.mark.parametrize("density", DENSITY)
def test_a_damaged_state_file_is_refused_or_reads_the_same(written, tmp_path, density):
    folder, _ = written
    good = (folder / "good.sqlite").read_bytes()
    path = tmp_path / "state.sqlite"
    page = 4096
    # every page: a bit near its start (the page header), in its middle, near its end
    # (SQLite fills cells from a page's end)
    also = [p + o for p in range(0, len(good), page) for o in (3, 101, 2048, 4000, 4095)]
    failures = check_loader(path, good, load, lambda a, b: a == b,
                            known=outside_the_state(folder / "good.sqlite",
                                                    tmp_path / "scratch.sqlite"),
                            flip_step=(len(good) // (150 * density)) | 1,
                            overwrite_step=(len(good) // (60 * density)) | 1,
                            cut_step=(len(good) // (40 * density)) | 1, also=also)
    # an empty file is a fresh start (a kill -9 at the very first start leaves one:
    # test_an_empty_file_is_a_fresh_start)
    failures = [f for f in failures if f[0] not in ("cut@0", "zero-length")]
    assert not failures, f"{len(failures)} damaged state files, first: {failures[:5]}"


def test_an_empty_file_is_a_fresh_start(tmp_path):
    path = tmp_path / "state.sqlite"
    path.write_bytes(b"")
    store = WatchStore(str(path))
    assert store.progress(WATCH) is None and store.load_state(WATCH, DETECTOR) is None
    store.close()


@pytest.mark.parametrize("cut", [1, 100, 4095, 4096, 5000])
def test_the_daemon_refuses_a_cut_file_in_one_line_and_keeps_it(written, tmp_path, cut):
    folder, config = written
    good = (folder / "good.sqlite").read_bytes()
    path = tmp_path / "state.sqlite"
    path.write_bytes(good[:-cut])
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: state file {path} is "), lines
    assert path.read_bytes() == good[:-cut]


def test_a_flipped_bit_in_the_detector_state_is_refused_naming_the_chunk(written, tmp_path):
    folder, config = written
    path = tmp_path / "state.sqlite"
    path.write_bytes((folder / "good.sqlite").read_bytes())
    db = sqlite3.connect(path)
    leaf, chunk, data = db.execute("SELECT leaf, chunk, data FROM state_chunks "
                                   "ORDER BY length(data) DESC").fetchone()
    changed = bytearray(data)
    changed[len(changed) // 2] ^= 0x04
    db.execute("UPDATE state_chunks SET data=? WHERE leaf=? AND chunk=?",
               (bytes(changed), leaf, chunk))
    db.commit()
    db.close()
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 1, result.output
    assert f"array {leaf}, chunk {chunk} fails its CRC-32" in result.output, result.output


def test_a_file_of_an_older_kizashi_without_the_checksums_still_loads(written, tmp_path):
    folder, _ = written
    path = tmp_path / "state.sqlite"
    path.write_bytes((folder / "good.sqlite").read_bytes())
    reference = load(path)
    db = sqlite3.connect(path)
    db.executescript("ALTER TABLE state_chunks DROP COLUMN crc;"
                     "ALTER TABLE state_trees DROP COLUMN crc;"
                     "ALTER TABLE progress DROP COLUMN crc;")
    db.close()
    store = WatchStore(str(path), readonly=True)     # read-only (the dashboard): as it is
    assert store.load_state(WATCH, DETECTOR) is not None and store.progress(WATCH)
    store.close()
    assert load(path) == reference                   # read-write: the columns are added
    assert load(path) == reference


def test_a_changed_progress_time_is_refused(written, tmp_path):
    folder, config = written
    path = tmp_path / "state.sqlite"
    path.write_bytes((folder / "good.sqlite").read_bytes())
    db = sqlite3.connect(path)
    db.execute("UPDATE progress SET last_ts=last_ts + 1")
    db.commit()
    db.close()
    result = CliRunner().invoke(cli, ["watch", "--once", str(config), "--state", str(path)])
    assert result.exit_code == 1, result.output
    assert "corrupt (the last processed step of watch 'm' fails its CRC-32" \
        in result.output, result.output
