"""``kizashi detect`` options click cannot check alone, fed odd values: refused before reading.

Generated per kind: a Dask address (``local:N`` within 4 x this machine's cores, or
``[scheme://]host:port``), texts that must not be empty, and options that mean nothing
without another. Each must be a usage error (exit status 2) in one line naming the
option, before the input is read (the input here would itself be refused).
"""

from __future__ import annotations

import os
import re

import pytest
from click.testing import CliRunner

from kizashi.cli.detect_options import check_dask_address
from kizashi.cli.main import cli

UNREAD = b"timestamp,cpu\n0,abc\n"
CORES = os.cpu_count() or 1
BAD_DASK = ["", " ", "local:", "local:0", "local:-1", "local:abc", "local:1.5",
            f"local:{4 * CORES + 1}", "local:100000", "scheduler", "tcp://", "tcp://host",
            "host:port", "http://host:8786", "tcp://host:123456", ":8786x"]
GOOD_DASK = ["local:1", f"local:{4 * CORES}", "tcp://10.0.0.5:8786", "host-1.cluster:8786",
             "tls://sched.example.org:8786", "[::1]:8786"]
#: (options, regex of the one line)
BAD = [
    *[(["--dask", v], r"Invalid value for '--dask'") for v in BAD_DASK],
    (["--cutoff", ""], r"Invalid value for '--cutoff': is empty"),
    (["--cutoff", "  "], r"Invalid value for '--cutoff': is empty"),
    (["--group-by", "", "--entity-labels", "{in}"], r"'--group-by': is empty"),
    (["-d", "peers", "--peers-by", " "], r"'--peers-by': is empty"),
    (["--group-by", "rack"], r"--group-by needs --entity-labels"),
    (["--peers-by", "rack"], r"--peers-by goes with --detector peers, not 'ensemble'"),
    (["-d", "threshold", "--peers-by", "rack"], r"not 'threshold'"),
    (["--partitions", "4"], r"--partitions goes with --dask"),
]


@pytest.mark.parametrize(("options", "what"), BAD, ids=[" ".join(o) for o, _ in BAD])
def test_an_odd_option_is_a_usage_error_before_reading(tmp_path, options, what):
    source = tmp_path / "in.csv"
    source.write_bytes(UNREAD)
    args = [a.replace("{in}", str(source)) for a in options]
    result = CliRunner().invoke(cli, ["detect", str(source), "-q", *args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.output
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert re.search(what, lines[0]), lines
    assert "'abc' is not a finite number" not in lines[0]


@pytest.mark.parametrize("address", GOOD_DASK)
def test_good_dask_addresses_are_taken(address):
    assert check_dask_address(address) == address


@pytest.mark.parametrize("address", [v.strip() for v in BAD_DASK])
def test_bad_dask_addresses_are_refused(address):
    with pytest.raises(ValueError, match=re.escape(repr(address))):
        check_dask_address(address)
