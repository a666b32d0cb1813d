"""Step counts beyond what the decider's compiled kernels count in (int64) are refused with
a message naming the count: ``kizashi detect --resolve-steps 99999999999999999999`` ended
in "internal error (TypingError: Failed in nopython mode pipeline ...)".

Family: each count of the decider (min_steps, resolve_steps, warmup, relearn_after) at
MAX_STEPS (taken), one above it and far above int64 (refused), through the decider and
the ``detect`` options.
"""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.detect_options import STEPS
from kizashi.cli.main import cli
from kizashi.engine.decider import MAX_STEPS, Decider

KEYS = ["min_steps", "resolve_steps", "warmup", "relearn_after"]


@pytest.mark.parametrize("value", [MAX_STEPS + 1, 2 ** 63, 10 ** 20])
@pytest.mark.parametrize("key", KEYS)
def test_a_count_beyond_the_kernels_is_refused_naming_it(key, value):
    with pytest.raises(ValueError, match=rf"{key} must be at most 1,000,000,000,000 steps"):
        Decider(cutoff=3.0, **{key: value}).reset(1)


@pytest.mark.parametrize("key", KEYS)
def test_the_largest_count_decides(key):
    decider = Decider(cutoff=3.0, **{key: MAX_STEPS}).reset(2)
    block = decider.update_many(np.array([[1.0, 5.0], [1.0, 5.0]]), timestamps=np.arange(2.0))
    assert block.active.shape == (2, 2)
    # a count that delays firing is far from reached; the others let series 1 (5 > 3) fire
    fires = key in ("resolve_steps", "relearn_after")
    assert block.active[:, 1].tolist() == [fires, fires] and not block.active[:, 0].any()


@pytest.mark.parametrize("value", [str(MAX_STEPS + 1), "99999999999999999999"])
@pytest.mark.parametrize("option", ["--min-steps", "--resolve-steps"])
def test_detect_refuses_it_as_a_usage_error(tmp_path, option, value):
    source = tmp_path / "in.csv"
    source.write_text("timestamp,cpu\n0,abc\n")  # refused if it were read
    result = CliRunner().invoke(cli, ["detect", str(source), option, value])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1, result.output
    assert f"Invalid value for '{option}'" in lines[0] and "1<=x<=1000000000000" in lines[0]


def test_the_option_range_is_the_deciders():
    assert STEPS.min == 1 and STEPS.max == MAX_STEPS
