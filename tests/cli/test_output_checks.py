"""``kizashi detect``'s outputs taken together, and a training file named otherwise.

* two output options naming one file (however spelled: the same text, ``./``, ``..``,
  a symbolic link) are refused before the work, nothing written;
* a ``--plot`` name without an image suffix matplotlib writes (``.csv``, ``.txt``, none)
  is refused before the work (it failed after the scores were written); any case of a
  real image suffix is accepted;
* ``--train``: a wide training file holds the scored file's one entity whatever its file
  name, and may hold more series than the scored file, in any order: the scores equal
  those with a training file of exactly the scored series under the scored name.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli

START, STEP, N = 1_704_067_200, 300, 400


def _wide(path, metrics, shift=0.0):
    i = np.arange(N)
    table = {"timestamp": START + STEP * i}
    for j, metric in enumerate(metrics):
        table[metric] = np.round(50 + 5 * np.sin(i / 7 + j) + (shift if metric == "cpu" else 0)
                                 * ((i > 300) & (i < 320)), 4)
    pd.DataFrame(table).to_csv(path, index=False)
    return path


def _invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def _one_error_line(result, *needles):
    assert result.exit_code in (1, 2), result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    for needle in needles:
        assert needle in lines[0], lines
    assert "Traceback" not in result.output


PAIRS = [("--out", "--plot"), ("--out", "--incidents"), ("--plot", "--incidents")]
SPELLINGS = ["same", "dot", "dotdot", "symlink"]


@pytest.mark.parametrize("pair", PAIRS, ids=["-".join(p) for p in PAIRS])
@pytest.mark.parametrize("spelling", SPELLINGS)
def test_two_outputs_naming_one_file_are_refused_before_the_work(tmp_path, pair, spelling):
    data = _wide(tmp_path / "node.csv", ["cpu", "mem"])
    (tmp_path / "sub").mkdir()
    name = "both.png"  # an image name, so that --plot alone would accept it
    first = tmp_path / name
    second = {"same": first, "dot": tmp_path / "." / name,
              "dotdot": tmp_path / "sub" / ".." / name,
              "symlink": tmp_path / "link.png"}[spelling]
    if spelling == "symlink":
        os.symlink(first, second)
    result = _invoke("detect", data, "-q", "-d", "threshold", pair[0], first, pair[1], second)
    _one_error_line(result, f"{pair[0]} and {pair[1]} both name it")
    assert not first.exists()


@pytest.mark.parametrize("name", ["plot.csv", "plot.txt", "plot", "plot.png.gz", "plot.",
                                  "plot.parquet"])
def test_a_plot_name_without_an_image_suffix_is_refused_before_the_work(tmp_path, name):
    data = _wide(tmp_path / "node.csv", ["cpu", "mem"])
    scores = tmp_path / "scores.csv"
    result = _invoke("detect", data, "-q", "-d", "threshold", "--out", scores,
                     "--plot", tmp_path / name)
    _one_error_line(result, "--plot", ".png, .svg or .pdf")
    assert not scores.exists() and not (tmp_path / name).exists()
    assert not (tmp_path / f"{name}.png").exists()


@pytest.mark.parametrize("name", ["plot.png", "plot.PNG", "plot.svg", "plot.Pdf"])
def test_a_plot_name_with_an_image_suffix_is_written(tmp_path, name):
    data = _wide(tmp_path / "node.csv", ["cpu", "mem"])
    result = _invoke("detect", data, "-q", "-d", "threshold", "--plot", tmp_path / name)
    assert result.exit_code == 0, result.output
    assert (tmp_path / name).stat().st_size > 0


def _scores(tmp_path, data, train):
    out = tmp_path / f"scores-{train.stem}.csv"
    result = _invoke("detect", data, "-q", "--train", train, "--out", out)
    assert result.exit_code == 0, result.output
    return pd.read_csv(out, keep_default_na=False)


TRAINS = {  # the training file's series and name, each holding at least the scored ones
    "other-name": (["cpu", "mem"], "node-train.csv"),
    "other-order": (["mem", "cpu"], "node-train.csv"),
    "more-series": (["io", "cpu", "net", "mem"], "train.csv"),
}


@pytest.mark.parametrize("family", sorted(TRAINS))
def test_a_wide_training_file_trains_the_scored_series_whatever_its_name(tmp_path, family):
    data = _wide(tmp_path / "node.csv", ["cpu", "mem"], shift=30.0)
    (tmp_path / "exact").mkdir()  # the reference: the same series under the scored name
    exact = _wide(tmp_path / "exact" / "node.csv", ["cpu", "mem"])
    metrics, name = TRAINS[family]
    (tmp_path / "odd").mkdir()
    train = _wide(tmp_path / "odd" / name, metrics)
    # _wide's values depend on the metric's position: rebuild the exact reference's
    # columns from the odd file, so both hold the same numbers per metric
    odd = pd.read_csv(train)
    odd[["timestamp", "cpu", "mem"]].to_csv(exact, index=False)
    want = _scores(tmp_path, data, exact)
    got = _scores(tmp_path, data, train)
    pd.testing.assert_frame_equal(got, want)
    assert (want["is_anomaly"].astype(str) == "True").any()  # the shift is found


def test_a_training_file_lacking_a_scored_series_names_it(tmp_path):
    data = _wide(tmp_path / "node.csv", ["cpu", "mem", "io"])
    train = _wide(tmp_path / "node-train.csv", ["cpu", "mem"])
    result = _invoke("detect", data, "-q", "--train", train)
    _one_error_line(result, "lacks series", "node/io")
