"""The peers detector: a node against its peer group at each step."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.detectors.registry import create


def test_hand_computed_robust_z():
    # median 3, |x − 3| = 2 1 0 1 97 → MAD 1, σ̂ = 1.4826 · 1.206 (5 peers)
    scores = create("peers").score(np.array([[1.0, 2.0, 3.0, 4.0, 100.0]]))
    np.testing.assert_allclose(scores[0], np.array([2, 1, 0, 1, 97]) / (1.4826 * 1.206))


@pytest.mark.parametrize("n", [3, 4, 5, 8, 12, 30])
def test_small_sample_factor_makes_the_mad_unbiased(n):
    from kizashi.detectors.peers.peer_deviation import mad_factor

    x = np.random.default_rng(n).normal(0, 2.0, (100_000, n))
    mad = np.median(np.abs(x - np.median(x, axis=1, keepdims=True)), axis=1)
    assert mad_factor(n) * mad.mean() == pytest.approx(2.0, rel=0.02)


def test_odd_node_flagged_though_its_own_history_is_smooth():
    # 8 nodes share a daily cycle; node 5 stops following it (flat at its mean): its own
    # history is smooth, but against its peers it is far off at the cycle's peaks.
    t = np.arange(2000)
    rng = np.random.default_rng(0)
    cycle = 50 + 30 * np.sin(2 * np.pi * t / 288)
    values = cycle[:, None] + rng.normal(0, 1.0, (t.size, 8))
    values[1000:, 5] = 50 + rng.normal(0, 1.0, 1000)
    scores = create("peers", halflife=100.0).score(values)
    peaks = np.flatnonzero(np.abs(np.sin(2 * np.pi * t / 288)) > 0.8)
    after, before = peaks[peaks >= 1000], peaks[peaks < 1000]
    assert np.median(scores[after, 5]) > 10
    assert np.quantile(np.delete(scores[after], 5, axis=1), 0.99) < 4
    assert np.quantile(scores[before], 0.99) < 4


def test_cluster_wide_change_is_no_peer_anomaly():
    rng = np.random.default_rng(1)
    values = rng.normal(10, 1, (300, 6))
    before = create("peers").score(values)
    values[150:] += 40.0                        # every node at once: nothing changes
    np.testing.assert_allclose(create("peers").score(values), before, rtol=1e-9)


def test_groups_keep_racks_apart():
    rng = np.random.default_rng(2)
    # rack a runs at 10, rack b at 90: together the b nodes would look odd, apart none is
    values = np.hstack([rng.normal(10, 1, (200, 6)), rng.normal(90, 1, (200, 6))])
    racks = ["a"] * 6 + ["b"] * 6
    apart = create("peers", groups=racks).score(values)
    assert np.quantile(apart, 0.99) < 4
    values[100:, 8] += 15.0
    flagged = create("peers", groups=racks).score(values)
    assert np.quantile(flagged[100:, 8], 0.1) > 6
    assert np.quantile(np.delete(flagged[100:], 8, axis=1), 0.99) < 4
    together = create("peers").score(values)     # one group: the racks' gap hides the node
    assert np.median(together[100:, 8]) < 2


@pytest.mark.parametrize("n_observed", [0, 1, 2])
def test_too_few_peers_give_no_verdict(n_observed):
    row = np.full(5, np.nan)
    row[:n_observed] = [1.0, 500.0][:n_observed]
    scores = create("peers").score(row[None, :])
    assert np.isnan(scores[0, n_observed:]).all()
    assert (scores[0, :n_observed] == 0).all()


def test_configuration_errors_name_the_fix():
    with pytest.raises(ValueError, match="one per series"):
        create("peers", groups=["a", "b"]).score(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="at least 3"):
        create("peers", min_peers=2).score(np.zeros((3, 3)))
