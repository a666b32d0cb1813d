"""YAML errors as one line (kizashi.yaml_errors), through both configs that read YAML."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.yaml_errors import yaml_reason

BROKEN = {  # text → (line, column) where the parser stops, counted by hand
    "a: [\n": (2, 1),
    "a: 1\n  b: 2\n": (2, 4),
    "a: 'x\n": (2, 1),
    "\tb: 1\n": (1, 1),
}


@pytest.mark.parametrize("text", list(BROKEN), ids=range(len(BROKEN)))
def test_reason_is_one_line_with_its_place(text):
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load(text)
    reason = yaml_reason(caught.value)
    line, column = BROKEN[text]
    assert reason.startswith(f"line {line}, column {column}: ") and "\n" not in reason


def test_an_error_without_a_place_is_its_text_on_one_line():
    assert yaml_reason(ValueError("bad\n  date")) == "bad date"


@pytest.mark.parametrize("command", [["train"], ["tune", "--trials", "1"]])
def test_training_config_that_is_not_yaml_is_one_line(tmp_path, command):
    path = tmp_path / "run.yaml"
    path.write_text("model: [\n")
    result = CliRunner().invoke(cli, [command[0], str(path), *command[1:]])
    assert result.exit_code in (1, 2)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(f"Error: {path}: not valid YAML: line 2, column 1: ")
