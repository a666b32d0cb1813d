"""A config that is not valid YAML is refused in one line naming the file, line and column."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.watch.config import load_config

BROKEN = {  # text → (line, column) of the parser's complaint, counted by hand
    "watches: [\n": (2, 1),
    "interval: 15s\nsources: {p: {type: prometheus\n": (3, 1),
    "a: 1\n  b: 2\n": (2, 4),
    "watches:\n- name: 'x\n": (3, 1),
    "\tinterval: 1s\n": (1, 1),
}


@pytest.mark.parametrize("text", list(BROKEN), ids=range(len(BROKEN)))
def test_broken_yaml_is_one_line_with_its_place(tmp_path, text):
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    line, column = BROKEN[text]
    with pytest.raises(ValueError) as caught:
        load_config(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}: not valid YAML: line {line}, column {column}: ")
    result = CliRunner().invoke(cli, ["watch", str(path), "--once"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == [f"Error: {message}"]


SOURCE = "sources: {p: {type: prometheus, url: 'http://127.0.0.1:9090'}}\n"
BAD_CONFIGS = {  # text → what the one line must say (the key at fault)
    SOURCE + "watches: [{name: m, query: up, detectors: [{name: d, detector: nosuch}]}]\n":
        "unknown detector 'nosuch'",
    "sources: {p: {type: prometheus, url: 'ftp://x'}}\n"
    "watches: [{name: m, query: up, detectors: [{name: d, detector: threshold}]}]\n":
        "sources.p.url: 'ftp://x' is not an http(s) URL",
    "- 1\n- 2\n": "the config must be a mapping",
    "": "'watches' is empty",
    SOURCE + "watches: [{name: m, detectors: [{name: d, detector: threshold}]}]\n": "query",
    "\xff\xfe": "not UTF-8",
}


@pytest.mark.parametrize("text", list(BAD_CONFIGS), ids=range(len(BAD_CONFIGS)))
def test_bad_config_through_the_command_is_one_line(tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_bytes(text.encode("latin-1") if text.startswith("\xff") else text.encode())
    result = CliRunner().invoke(cli, ["watch", str(path), "--once", "--listen", "off",
                                      "--state", str(tmp_path / "state.db")])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"Error: {path}"), lines
    assert BAD_CONFIGS[text] in lines[0], lines
