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
