"""Every output option of every command, fed paths that cannot be written: refused first.

A command that writes a file or folder at the end of its work (a benchmark runs for an
hour, ``demo`` for a minute) must refuse an output it cannot write *before* that work,
in one ``Error:`` line naming the path or the option (exit status 1 or 2, no traceback).
The odd paths are generated per kind of output (a file or a folder) from what makes a
path unwritable; the inputs are chosen so that doing the work first would fail with a
different message (an unreadable input, an empty dataset folder, an unknown detector).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

UNREAD = b"timestamp,cpu\n0,abc\n"  # an input the readers refuse
#: (command line before the option, option, "file" or "folder"); {in}: the unreadable input
OUTPUTS = [
    (["detect", "{in}"], "--out", "file"),
    (["detect", "{in}"], "--plot", "file"),
    (["detect", "{in}"], "--incidents", "file"),
    (["predict", "{in}"], "--out", "file"),
    (["fit", "{in}"], "--out", "folder"),
    (["demo", "--nodes", "4", "--days", "7", "-q"], "--out", "folder"),
    (["bench", "nab", "--no-progress"], "--json", "file"),
    (["bench", "nab", "--no-progress"], "--out", "folder"),
    (["bench", "smd"], "--json", "file"),
    (["bench", "centre", "--no-progress", "--detector", "nosuch"], "--json", "file"),
]
#: odd path ({tmp}: a folder holding the file "afile") → (kinds it applies to, regex)
ODD_PATHS = {
    "": (("file", "folder"), r"'--\w+': is empty"),
    "  ": (("file", "folder"), r"'--\w+': is empty"),
    "{tmp}": (("file",), r"is a directory|is a folder"),
    "{tmp}/afile": (("folder",), r"is a file"),
    "{tmp}/afile/x.csv": (("file", "folder"), r"afile is a file, not a folder"),
    "{tmp}/no/such/x.csv": (("file",), r"folder .*/no/such does not exist"),
    "/proc/kizashi-out": (("file", "folder"), r"/proc is a virtual filesystem"),
    "/sys/kizashi-out": (("file", "folder"), r"/sys is a virtual filesystem"),
}
CASES = [(before, option, path) for before, option, kind in OUTPUTS
         for path, (kinds, _) in ODD_PATHS.items() if kind in kinds]


@pytest.fixture
def no_work(monkeypatch, tmp_path):
    """No dataset, no network, and a demo that records being started."""
    import kizashi.report.demo

    (tmp_path / "datasets").mkdir()
    monkeypatch.setenv("KIZASHI_DATA", str(tmp_path / "datasets"))
    monkeypatch.setenv("KIZASHI_CACHE", str(tmp_path / "cache"))

    def refuse(*args, **kwargs):
        raise urllib.error.URLError("network cut by the test")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    started: list = []
    monkeypatch.setattr(kizashi.report.demo, "run_demo", lambda *a, **k: started.append(a))
    return started


@pytest.mark.parametrize(("before", "option", "path"), CASES,
                         ids=[f"{' '.join(b[:2])} {o} {p!r}" for b, o, p in CASES])
def test_an_unwritable_output_is_refused_before_the_work(tmp_path, no_work, before, option,
                                                         path):
    source = tmp_path / "in.csv"
    source.write_bytes(UNREAD)
    (tmp_path / "afile").write_text("keep me\n")
    target = path.replace("{tmp}", str(tmp_path))
    args = [a.replace("{in}", str(source)) for a in before]
    result = CliRunner().invoke(cli, [*args, option, target])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2), result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert re.search(ODD_PATHS[path][1], lines[0]), lines
    assert not no_work, "the demo ran before the refusal"
    assert (tmp_path / "afile").read_text() == "keep me\n"
    assert source.read_bytes() == UNREAD
