"""check_whole_file: the open check the state file and the remote_write queue share."""

from __future__ import annotations

import sqlite3

import pytest

from kizashi.watch.sqlite_files import check_whole_file


@pytest.fixture
def written(tmp_path):
    path = tmp_path / "f.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x BLOB)")
        db.executemany("INSERT INTO t VALUES (?)", [(bytes(300),)] * 50)
    return path


def test_a_whole_file_and_a_file_not_there_yet_pass(written, tmp_path):
    check_whole_file(sqlite3.connect(written), str(written))
    check_whole_file(sqlite3.connect(":memory:"), str(tmp_path / "not-yet.sqlite"))


@pytest.mark.parametrize("change", [-1, -100, -4095, 1, 17, 4095])
def test_a_file_not_whole_pages_is_refused_saying_it_was_cut(written, change):
    data = written.read_bytes()
    page = int(sqlite3.connect(written).execute("PRAGMA page_size").fetchone()[0])
    assert len(data) % page == 0
    written.write_bytes(data[:change] if change < 0 else data + bytes(change))
    with pytest.raises(sqlite3.DatabaseError, match=f"is not a whole number of {page}-byte"):
        check_whole_file(sqlite3.connect(written), str(written))


def test_a_damaged_page_fails_the_quick_check(written):
    data = bytearray(written.read_bytes())
    page = int(sqlite3.connect(written).execute("PRAGMA page_size").fetchone()[0])
    data[page + 8:page + 40] = b"\xff" * 32   # the second page's header and cell pointers
    written.write_bytes(bytes(data))
    with pytest.raises(sqlite3.DatabaseError, match="integrity check failed|malformed"):
        check_whole_file(sqlite3.connect(written), str(written))


@pytest.mark.parametrize(("data", "key"), [(b"", ("m",)), (b"body", (12,)),
                                           (b"\x00" * 100, ("m", "sigma", "a/b", 3)),
                                           (bytes(range(256)), ("caf\u00e9", 0))])
def test_row_crc_is_the_crc32_of_the_key_joined_by_nul_then_the_bytes(data, key):
    import zlib

    from kizashi.watch.sqlite_files import row_crc
    prefix = "\0".join(str(k) for k in key).encode("utf-8")
    assert row_crc(data, *key) == zlib.crc32(prefix + data)
