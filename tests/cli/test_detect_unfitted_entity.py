"""A node whose model cannot be fitted: its scores empty and a warning, the other nodes scored.

A multivariate detector that needs training (``reference``) fits one model per entity on
its first 30 % of rows (or on ``--train``). The family: files of a few nodes where one
node cannot be fitted, for each reason a node can lack training rows:

* it starts reporting after the training rows (a node added later);
* it reports nothing at all (every value missing);
* it reports only one training row (a value at the first step, then a gap);
* ``--train`` holds no value for it.

What must happen, from how the files were generated: exit status 0; the other nodes get
scores after their training rows exactly as when scored alone; the unfitted node's
scores are all empty; one ``warning:`` line names the file and that node, and says why;
the "still learning" note does not claim it. A file whose every node is unfitted is an
error (exit status 1, one line naming the file), as it was.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

START = 1_704_067_200
N = 200
FIT = math.floor(0.3 * N)  # the engine's training rows without --train (FIT_FRACTION)
METRICS = ("cpu", "mem")


def _value(i: int, j: int, k: int) -> float:
    return 50.0 + ((i * (j + 3) + 5 * k) % 17)


def _rows(entity: str, k: int, steps) -> list[str]:
    return [f"{START + i * 300},{entity},{m},{_value(i, j, k)}"
            for i in steps for j, m in enumerate(METRICS)]


def _file(path, odd: str, odd_steps) -> None:
    lines = ["timestamp,entity,metric,value"]
    lines += _rows("n1", 0, range(N)) + _rows("n3", 2, range(N))
    if odd_steps is None:  # every value missing, over the whole range
        lines += [f"{START + i * 300},{odd},{m}," for i in range(N) for m in METRICS]
    else:
        lines += _rows(odd, 1, odd_steps)
    path.write_text("\n".join(lines) + "\n")


FAMILIES = [
    pytest.param(range(FIT + 10, N), None, id="starts-after-training"),
    pytest.param(None, None, id="all-missing"),
    pytest.param([0, *range(FIT + 5, N)], None, id="one-training-row"),
    pytest.param(range(N), range(0), id="not-in-train-file"),
]


def _scores(path, extra=()) -> tuple:
    out = path.parent / f"{path.stem}-scores.csv"
    # (calibration none: levels from the first scored step, no likelihood to learn)
    result = CliRunner().invoke(cli, ["detect", str(path), "-q", "-d", "reference",
                                      "--calibration", "none", "--cutoff", "5",
                                      "--out", str(out), *extra])
    table = pd.read_csv(out) if result.exit_code == 0 else None
    return result, table


@pytest.mark.parametrize(("odd_steps", "train_steps"), FAMILIES)
def test_unfitted_node_is_empty_and_named_the_others_scored(tmp_path, odd_steps, train_steps):
    source = tmp_path / "in.csv"
    _file(source, "n2", odd_steps)
    extra: list[str] = []
    if train_steps is not None:  # a training file with n1, n3 and an empty n2
        train = tmp_path / "train.csv"
        lines = ["timestamp,entity,metric,value", *_rows("n1", 0, range(N)),
                 *_rows("n3", 2, range(N)),
                 *[f"{START + i * 300},n2,{m}," for i in range(N) for m in METRICS]]
        train.write_text("\n".join(lines) + "\n")
        extra = ["--train", str(train)]
    result, table = _scores(source, extra)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert all(line.startswith("warning: ") for line in lines), lines
    named = [line for line in lines if "'n2'" in line and str(source) in line]
    assert len(named) == 1 and "not scored" in named[0], lines
    assert not any("still learning" in line for line in lines), lines
    per_node = table.groupby("entity")["score"]
    assert per_node.count()["n2"] == 0
    # the others exactly as when scored without the odd node
    alone = tmp_path / "alone.csv"
    alone.write_text("\n".join(["timestamp,entity,metric,value", *_rows("n1", 0, range(N)),
                                *_rows("n3", 2, range(N))]) + "\n")
    alone_extra = [] if train_steps is None else ["--train", str(alone)]
    _, expected = _scores(alone, alone_extra)
    for node in ("n1", "n3"):
        got = table[table.entity == node]["score"].to_numpy()
        want = expected[expected.entity == node]["score"].to_numpy()
        assert len(got) == N and pd.isna(got).sum() == pd.isna(want).sum()
        assert (pd.isna(got[:FIT]).all() or train_steps is not None)
        assert pd.Series(got).equals(pd.Series(want)), node


def test_every_node_unfitted_is_one_error_naming_the_file(tmp_path):
    source = tmp_path / "in.csv"
    lines = ["timestamp,entity,metric,value"]
    for node in ("n1", "n2"):  # one training row each, then empty cells
        lines += _rows(node, 0, [0, *range(FIT + 3, N)])
        lines += [f"{START + i * 300},{node},{m}," for i in range(1, FIT + 3) for m in METRICS]
    source.write_text("\n".join(lines) + "\n")
    result, _ = _scores(source)
    lines = result.stderr.strip().splitlines()  # the reading's warnings (empty cells) first
    errors = [line for line in lines if not line.startswith("warning: ")]
    assert result.exit_code == 1 and errors == lines[-1:], lines
    assert errors[0].startswith("Error: ") and str(source) in errors[0], errors
    assert "'n1'" in errors[0] and "fitted" in errors[0], errors


@pytest.mark.slow  # starts a local Dask cluster
def test_unfitted_node_on_dask_is_as_in_one_process(tmp_path):
    pytest.importorskip("distributed")
    source = tmp_path / "in.csv"
    _file(source, "n2", range(FIT + 10, N))
    here, table = _scores(source)
    there, remote = _scores(source, ["--dask", "local:2"])
    assert here.exit_code == there.exit_code == 0, there.stderr
    assert remote.equals(table)
    assert here.stdout.replace("scores written", "") == there.stdout.replace(
        "scores written", "")
    assert [line for line in there.stderr.splitlines() if "'n2'" in line] == \
        [line for line in here.stderr.splitlines() if "'n2'" in line] != []


TRAINING = {  # a --train file no model can be fitted on, by kind
    "one-row": "timestamp,cpu,mem\n1704067200,1,2\n",
    "all-missing": "timestamp,cpu,mem\n" + "".join(f"{START + i * 300},,\n" for i in range(50)),
    "one-valued-row": "timestamp,cpu,mem\n" + "".join(
        f"{START + i * 300},{'1,2' if i == 7 else ','}\n" for i in range(50)),
}


@pytest.mark.parametrize("detector", ["reference", "ensemble"])
@pytest.mark.parametrize("kind", list(TRAINING))
def test_a_training_file_that_fits_nothing_is_named_in_the_error(tmp_path, kind, detector):
    """The fault is the --train file's, so its name leads the one error line (the scored
    file, itself fine, was named instead)."""
    source = tmp_path / "node.csv"
    source.write_text("timestamp,cpu,mem\n" + "".join(
        f"{START + i * 300},{_value(i, 0, 0)},{_value(i, 1, 0)}\n" for i in range(N)))
    train = tmp_path / "node-train.csv"
    train.write_text(TRAINING[kind])
    result = CliRunner().invoke(cli, ["detect", str(source), "-q", "-d", detector,
                                      "--train", str(train)])
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if not line.startswith("warning: ")]
    assert result.exit_code == 1 and errors == lines[-1:], lines
    assert errors[0].startswith(f"Error: {train}: "), errors
