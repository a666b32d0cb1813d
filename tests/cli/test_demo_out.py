"""``kizashi demo --out`` that cannot be a folder is refused at once, in one line naming it.

A demo runs for about a minute before writing its report: an output that cannot be made
(empty, an existing file, under a file, on a virtual filesystem) must be refused before
that, with exit status 1 or 2, one ``Error:`` line naming the path and nothing written.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

#: --out (``{tmp}``: a fresh folder holding the file ``afile``) → what the one line must say
BAD_OUT = {
    "": "is empty",
    "  ": "is empty",
    "{tmp}/afile": "is a file",
    "{tmp}/afile/sub": "afile is a file, not a folder",
    "{tmp}/afile/sub/deeper": "afile is a file, not a folder",
    "/dev/null": "is a file",
    "/proc/kizashi-demo": "/proc/kizashi-demo",
}


@pytest.mark.parametrize("out", list(BAD_OUT), ids=range(len(BAD_OUT)))
def test_an_impossible_out_folder_is_refused_before_the_work(tmp_path, monkeypatch, out):
    import kizashi.report.demo

    started = []
    monkeypatch.setattr(kizashi.report.demo, "run_demo", lambda *a, **k: started.append(a))
    (tmp_path / "afile").write_text("keep me\n")
    target = out.replace("{tmp}", str(tmp_path))
    result = CliRunner().invoke(cli, ["demo", "--out", target, "--nodes", "4", "--days", "7",
                                      "-q"])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code in (1, 2), result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert BAD_OUT[out] in lines[0], lines
    assert "--out" in lines[0] or target.strip() in lines[0], lines
    assert not started, "the telemetry was generated before the refusal"
    assert (tmp_path / "afile").read_text() == "keep me\n"
