"""The SMD loader against the team's copy, and on small made-up files."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from kizashi.data.smd import load_smd, machines
from kizashi.data.validation import DataError


def test_shared_machine(smd_dir):
    assert "machine-1-6" in machines(smd_dir)
    machine = load_smd("machine-1-6", smd_dir)
    assert machine.train.values.shape == (23688, 38)
    assert machine.test.values.shape == (23689, 38)
    assert machine.test.timestamps[0] == machine.train.timestamps[-1] + np.timedelta64(60, "s")
    # interpretation segments cover labelled rows, with 0-based metric indices
    start, end, dims = machine.segments[0]
    assert machine.test_labels[start:end + 1].all() and min(dims) >= 0
    assert not machine.test_labels[end + 1] and not machine.test_labels[start - 1]


def make_machine(root, train="0.1,0.2\n0.3,0.4\n", test="0.5,0.6\n0.7,0.8\n",
                 label="0\n1\n", interpretation="1-2:1,2\n"):
    for part, text in (("train", train), ("test", test), ("test_label", label),
                       ("interpretation_label", interpretation)):
        (root / part).mkdir(exist_ok=True)
        with gzip.open(root / part / "m-1.txt.gz", "wt") as handle:
            handle.write(text)


def test_small_machine(tmp_path):
    make_machine(tmp_path)
    machine = load_smd("m-1", tmp_path)
    assert machine.test.values.tolist() == [[0.5, 0.6], [0.7, 0.8]]
    assert machine.test_labels.tolist() == [False, True]
    assert machine.segments == [(1, 1, (0, 1))]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"label": "0\n"}, "1 labels for 2 test rows"),
    ({"label": "0\n2\n"}, "labels must be 0 or 1"),
    ({"test": "0.5,0.6\n0.7,x\n"}, r"line 2, column 'column 2': 'x'"),
    ({"interpretation": "5-2:1\n"}, "out of range"),
    ({"interpretation": "garbage\n"}, "expected 'start-end:dim,dim'"),
])
def test_bad_machine_files(tmp_path, kwargs, message):
    make_machine(tmp_path, **kwargs)
    with pytest.raises(DataError, match=message):
        load_smd("m-1", tmp_path)
