"""``kizashi watch``'s overrides, fed odd values: a usage error naming the option, first.

Generated per kind of option (a path, a URL, ``HOST:PORT``, ``I/N``) from what the kind
is; each bad value must end the command with exit status 2 and one line ``Error:
Invalid value for '--OPTION'`` before the config is read or the state file opened.
An empty value is refused too: it used to mean "not given", silently.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

EMPTY = ["", "  "]
BAD = {
    "--state": EMPTY,
    "--prometheus": [*EMPTY, "ftp://x", "127.0.0.1:9090", "http//x"],
    "--alertmanager": [*EMPTY, "localhost:9093", "mailto:ops@example.org"],
    "--listen": [*EMPTY, "nohost", "1.2.3.4:99999", "1.2.3.4:", ":abc", "on"],
    "--shard": [*EMPTY, "x", "1", "2/2", "-1/2", "0/0", "1/2/3", "a/b", "0/100001"],
}
CASES = [(option, value) for option, values in BAD.items() for value in values]


@pytest.mark.parametrize(("option", "value"), CASES, ids=[f"{o} {v!r}" for o, v in CASES])
def test_an_odd_override_is_a_usage_error_before_the_config_is_read(tmp_path, option, value):
    state = tmp_path / "state.db"
    config = tmp_path / "w.yaml"
    config.write_text(f"storage: {state}\nlisten: 'off'\n"
                      f"sources: {{lab: {{type: csv, path: {tmp_path / 'w.csv'}}}}}\n"
                      "watches: [{name: a}]\n")
    result = CliRunner().invoke(cli, ["watch", str(config), "--once", option, value])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith(f"Error: Invalid value for '{option}': "), \
        lines
    assert not state.exists()


@pytest.mark.parametrize(("option", "value"), [("--listen", "off"), ("--shard", "1/2"),
                                               ("--listen", "127.0.0.1:0"),
                                               ("--prometheus", "http://127.0.0.1:9")])
def test_good_overrides_pass(tmp_path, option, value):
    config = tmp_path / "w.yaml"
    (tmp_path / "w.csv").write_text("timestamp,cpu\n1704067200,1\n1704067260,2\n")
    config.write_text(f"storage: {tmp_path / 'state.db'}\nlisten: 'off'\n"
                      f"sources: {{lab: {{type: csv, path: {tmp_path / 'w.csv'}}}}}\n"
                      "watches: [{name: a}]\n")
    result = CliRunner().invoke(cli, ["watch", str(config), "--once", option, value])
    assert result.exit_code == 0, result.output
