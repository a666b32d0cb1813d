"""Every ``--seed`` option (demo, bench centre, tune) on seeds numpy or Optuna refuse:
one line naming ``--seed``, exit status 2, before any work (a negative seed was an
internal error after the work began). The bounds: numpy's generators take 0 and up,
its ``RandomState`` (Optuna's samplers) below 2**32."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.cli.seed_option import MAX_SEED, SEED

BAD = ["-1", "-5", str(-(2**40)), str(2**32), str(2**64), "abc", "1.5", ""]


def _commands(tmp_path):
    config = tmp_path / "train.yaml"
    config.write_text("epochs: 1\n")
    return {"demo": ["demo", "-q", "--out", str(tmp_path / "demo")],
            "bench-centre": ["bench", "centre", "--no-progress"],
            "tune": ["tune", str(config), "--trials", "1",
                     "--storage", f"sqlite:///{tmp_path / 'study.db'}"]}


@pytest.mark.parametrize("command", ["demo", "bench-centre", "tune"])
@pytest.mark.parametrize("seed", BAD)
def test_a_seed_out_of_range_is_one_line_before_the_work(tmp_path, command, seed):
    args = _commands(tmp_path)[command]
    result = CliRunner().invoke(cli, [*args, "--seed", seed])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert "--seed" in lines[0]
    assert not (tmp_path / "demo").exists() and not (tmp_path / "study.db").exists()


@pytest.mark.parametrize("seed", [0, 1, 12345, MAX_SEED])
def test_every_seed_in_range_is_one_the_generators_take(seed):
    value = SEED.convert(str(seed), None, None)
    np.random.default_rng(value)
    np.random.RandomState(value)  # Optuna's samplers


@pytest.mark.parametrize("seed", [-1, MAX_SEED + 1])
def test_the_bounds_are_where_the_generators_refuse(seed):
    with pytest.raises(ValueError):
        np.random.RandomState(seed)
