"""``kizashi bench smd --aggregate``: how a univariate detector's per-metric scores combine."""

from __future__ import annotations

import numpy as np
import pytest


@pytest.mark.slow
def test_l2_lies_between_the_mean_and_the_max_on_every_row():
    from kizashi.cli.bench_smd import published_vus_pr, score_machine
    from kizashi.data.smd import machines

    if "machine-2-7" not in machines():
        pytest.skip("no local SMD copy with machine-2-7 (set KIZASHI_DATA)")
    published = published_vus_pr()["machine-2-7"]
    rows = {how: score_machine("machine-2-7", "threshold", {}, "tsb-ad", how, published)[0]
            for how in ("mean", "l2", "max")}
    # root mean square of the positive parts ≥ their mean ≥ the plain mean; ≤ max(max, 0)
    assert (rows["mean"] <= rows["l2"] + 1e-9).all()
    assert (rows["l2"] <= np.maximum(rows["max"], 0.0) + 1e-9).all()
    assert (rows["l2"] > rows["mean"] + 1e-6).any() and (rows["l2"] < rows["max"] - 1e-6).any()
