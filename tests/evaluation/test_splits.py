"""The documented tuning / holdout splits."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.evaluation import splits


def test_nab_folds_partition_any_names():
    names = [f"cat{k % 5}/file_{k}.csv" for k in range(200)]
    corpus = [type("S", (), {"name": n})() for n in names]
    tune = {s.name for s in splits.select_nab(corpus, "tune")}
    holdout = {s.name for s in splits.select_nab(corpus, "holdout")}
    assert not tune & holdout and tune | holdout == set(names)
    assert 60 < len(tune) < 140  # a hash, not a rule that puts everything on one side
    assert all(splits.nab_fold(n) == splits.nab_fold(n) for n in names)


def test_nab_split_on_the_real_corpus_covers_it():
    from kizashi.data.paths import dataset_dir

    if dataset_dir("nab") is None:
        pytest.skip("no local NAB copy (set KIZASHI_DATA)")
    from kizashi.data.nab import load_nab_corpus

    corpus = load_nab_corpus()
    sizes = [len(splits.select_nab(corpus, s)) for s in ("tune", "holdout")]
    assert sum(sizes) == len(corpus) == 58 and min(sizes) >= 20


def test_unknown_split_is_an_error():
    with pytest.raises(ValueError, match="unknown NAB split"):
        splits.select_nab([], "everything")


@pytest.mark.parametrize(("n", "first", "expected"), [
    (1000, 900, 250),     # capped at a quarter
    (1000, 300, 200),     # 100 rows before the first anomaly
    (1000, 50, 100),      # never under 100 rows
    (1000, None, 250),    # no anomaly at all: the cap
])
def test_tsb_ad_train_rows_by_hand(n, first, expected):
    labels = np.zeros(n, dtype=bool)
    if first is not None:
        labels[first:first + 5] = True
    assert splits.tsb_ad_train_rows(labels) == expected


def test_tune_and_reported_smd_machines_do_not_overlap():
    assert not set(splits.SMD_TUNE_MACHINES) & set(splits.SMD_REPORTED_MACHINES)
    assert not set(splits.CENTRE_TUNE_SEEDS) & set(splits.CENTRE_REPORT_SEEDS)
