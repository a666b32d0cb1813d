"""``kizashi bench`` with ``KIZASHI_DATA`` at an empty, partial or broken dataset folder.

Each layout is generated here; what it lacks is known from how it was made, and the one
``Error:`` line (exit status 1, no traceback) must name that: the missing folder, file
or count. The network is cut (a download attempt fails at once), so an empty folder
cannot turn into a download, and ``KIZASHI_CACHE`` is a fresh folder.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

MACHINE = "machine-1-1"
NAB_FILES = ("cat/a.csv", "cat/b.csv")


def nab_labels(root: Path, text: str | None = None) -> None:
    (root / "nab" / "labels").mkdir(parents=True, exist_ok=True)
    (root / "nab" / "labels" / "combined_windows.json").write_text(
        text if text is not None else json.dumps({name: [] for name in NAB_FILES}))


def nab_data(root: Path, names=NAB_FILES) -> None:
    for name in names:
        path = root / "nab" / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("timestamp,value\n" + "".join(
            f"2024-01-01 00:{i:02d}:00,{i % 5}\n" for i in range(50)))


def smd_parts(root: Path, parts: tuple[str, ...]) -> None:
    rows = {"train": "1,2\n3,4\n5,6\n", "test": "1,2\n3,4\n5,6\n", "test_label": "0\n0\n1\n",
            "interpretation_label": "2-2:1,2\n"}
    (root / "smd").mkdir(parents=True, exist_ok=True)
    for part in parts:
        (root / "smd" / part).mkdir(parents=True, exist_ok=True)
        (root / "smd" / part / f"{MACHINE}.txt").write_text(rows[part])


Layout = Callable[[Path], None]
#: (name, layout, bench arguments, regex of the one line; {root}: the KIZASHI_DATA folder)
CASES: list[tuple[str, Layout, list[str], str]] = [
    ("empty-nab", lambda r: None, ["nab", "--no-progress"],
     r"KIZASHI_DATA={root} has no nab/ folder"),
    ("empty-smd", lambda r: None, ["smd"], r"KIZASHI_DATA={root} has no smd/ folder"),
    ("empty-smd-machine", lambda r: None, ["smd", "--machine", MACHINE],
     r"KIZASHI_DATA={root} has no smd/ folder"),
    ("nab-without-labels", lambda r: nab_data(r), ["nab", "--no-progress"],
     r"{root}/nab/labels/combined_windows\.json: NAB windows file not found"),
    ("nab-without-data", lambda r: nab_labels(r), ["nab", "--no-progress"],
     r"{root}/nab/data: 2 of the 2 NAB files .* missing \(the first: cat/a\.csv\)"),
    ("nab-missing-one-file", lambda r: (nab_labels(r), nab_data(r, NAB_FILES[:1])),
     ["nab", "--no-progress"], r"1 of the 2 NAB files .* missing \(the first: cat/b\.csv\)"),
    ("nab-labels-not-json", lambda r: (nab_labels(r, "{"), nab_data(r)),
     ["nab", "--no-progress"], r"combined_windows\.json: not valid JSON"),
    ("nab-labels-a-list", lambda r: (nab_labels(r, "[]"), nab_data(r)),
     ["nab", "--no-progress"], r"combined_windows\.json: .* got a list"),
    ("smd-folder-empty", lambda r: smd_parts(r, ()), ["smd"],
     r"{root}/smd/train holds no machine files"),
    ("smd-without-test", lambda r: smd_parts(r, ("train",)), ["smd"],
     rf"{{root}}/smd/test: no file for {MACHINE}"),
    ("smd-without-labels", lambda r: smd_parts(r, ("train", "test")), ["smd"],
     rf"{{root}}/smd/test_label: no file for {MACHINE}"),
    ("smd-other-machine", lambda r: smd_parts(r, ("train", "test")),
     ["smd", "--machine", "machine-9-9"], r"{root}/smd/train: no file for machine-9-9"),
]


@pytest.fixture
def offline(monkeypatch, tmp_path):
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network cut by the test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("KIZASHI_CACHE", str(tmp_path / "cache"))


def one_error_line(result) -> str:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    return lines[0]


@pytest.mark.parametrize(("layout", "args", "what"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_a_missing_part_of_the_datasets_is_named(tmp_path, monkeypatch, offline, layout, args,
                                                 what):
    root = tmp_path / "datasets"
    root.mkdir()
    layout(root)
    monkeypatch.setenv("KIZASHI_DATA", str(root))
    line = one_error_line(CliRunner().invoke(cli, ["bench", *args]))
    assert re.search(what.replace("{root}", re.escape(str(root))), line), line
    assert not [p for p in (tmp_path / "cache").rglob("*") if p.is_file()]  # nothing fetched


@pytest.mark.parametrize("kind", ["a-file", "missing"])
@pytest.mark.parametrize("bench", [["nab", "--no-progress"], ["smd"]])
def test_kizashi_data_that_is_not_a_folder_is_named(tmp_path, monkeypatch, offline, kind, bench):
    root = tmp_path / "datasets"
    if kind == "a-file":
        root.write_text("not a folder\n")
    monkeypatch.setenv("KIZASHI_DATA", str(root))
    line = one_error_line(CliRunner().invoke(cli, ["bench", *bench]))
    assert f"KIZASHI_DATA='{root}' is not a directory" in line, line
