"""A shard's default port is the config's ``listen`` port plus the shard (docs/watch.md,
"Sharding"): at every port and shard it is a port, or one line naming the config, the
listen address and the shard.

Before, ``listen: 127.0.0.1:65535`` with ``--shard 1/2`` gave port 65536, which the daemon
refused later as an "internal error … report it" blaming the config's (valid) listen;
and ``listen: …:0`` (any free port) became port ``i``, a fixed port below 1024.
Expectation: port 0 stays 0 for every shard; ``p + i`` when at most 65535; else a
one-line error (``--check`` and the daemon alike) — unless ``--listen`` gives this
shard its own address, which is then used as it is.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

PORTS = [0, 1, 9464, 65534, 65535]
SHARDS = [(0, 2), (1, 2), (2, 3), (99_999, 100_000)]


def config(tmp_path, port: int) -> str:
    (tmp_path / "m.csv").write_text("timestamp,a\n1700000000,1\n")
    path = tmp_path / "w.yaml"
    path.write_text(f"""
interval: 1s
listen: 127.0.0.1:{port}
storage: "{tmp_path / 'state.sqlite'}"
sources: {{lab: {{type: csv, path: "{tmp_path / 'm.csv'}"}}}}
watches:
  - name: cpu
    detectors: [{{detector: threshold}}]
""")
    return str(path)


@pytest.mark.parametrize("shard", SHARDS, ids=lambda s: f"{s[0]}of{s[1]}")
@pytest.mark.parametrize("port", PORTS)
def test_a_shards_port_is_a_port_or_one_line_naming_it(tmp_path, monkeypatch, port, shard):
    import kizashi.cli.watch as cli_watch

    seen = {}
    monkeypatch.setattr(cli_watch, "run_check", lambda c: seen.setdefault("c", c) and True)
    path = config(tmp_path, port)
    i, n = shard
    result = CliRunner().invoke(cli, ["watch", "--check", path, "--shard", f"{i}/{n}"])
    want = 0 if port == 0 else port + i
    if want <= 65535:
        assert result.exit_code == 0, result.output
        assert seen["c"].listen == f"127.0.0.1:{want}"
        assert seen["c"].shard == (i, n)
    else:
        assert result.exit_code != 0 and "c" not in seen
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and "internal error" not in lines[0], result.output
        assert path in lines[0] and f"127.0.0.1:{port}" in lines[0] and f"shard {i}" in lines[0]
    # --listen gives the shard its own address, whatever the config's port
    seen.clear()
    result = CliRunner().invoke(cli, ["watch", "--check", path, "--shard", f"{i}/{n}",
                                      "--listen", "127.0.0.1:8000"])
    assert result.exit_code == 0, result.output
    assert seen["c"].listen == "127.0.0.1:8000"
