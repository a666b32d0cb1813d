"""predict_frame on odd inputs: every family gives learning (empty) or sane predictions."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.data.frame import SeriesFrame
from kizashi.prediction.predictor import predict_frame


def _frame(values, step=300.0, metrics=None):
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    k = values.shape[1]
    return SeriesFrame.from_arrays(np.arange(values.shape[0]) * step, values,
                                   [f"n{j}" for j in range(k)], metrics or ["used_pct"] * k)


def _odd_series(n, rng):
    """A family of odd series: (name, values)."""
    gappy = 50 + rng.normal(0, 1, n)
    gappy[rng.random(n) < 0.3] = np.nan
    late = np.full(n, np.nan)
    late[n // 2:] = 40.0 + rng.normal(0, 1, n - n // 2)
    return [
        ("never observed", np.full(n, np.nan)),
        ("constant", np.full(n, 42.0)),
        ("constant at the limit", np.full(n, 100.0)),
        ("zero", np.zeros(n)),
        ("gappy", gappy),
        ("starts late", late),
        ("huge", 1e12 + rng.normal(0, 1e9, n)),
        ("negative", -50 + rng.normal(0, 1, n)),
    ]


@pytest.mark.parametrize("step", [60.0, 300.0, 3600.0])
def test_odd_series_never_break_the_predictor(step):
    n = int(3 * 86400 / step)
    family = _odd_series(n, np.random.default_rng(int(step)))
    result = predict_frame(_frame(np.column_stack([v for _, v in family]), step), "6h")
    p = result.probability
    assert p.shape == (n, len(family))
    finite = p[np.isfinite(p)]
    assert np.all((finite >= 0) & (finite <= 1))
    names = [name for name, _ in family]
    assert np.isnan(p[:, names.index("never observed")]).all()
    assert not result.warning[:, names.index("never observed")].any()
    for quiet in ("constant", "zero", "negative", "gappy"):
        column = p[:, names.index(quiet)]
        assert np.isfinite(column).any(), quiet  # it learned, within 3 days
        assert np.nanmax(column) < 0.05, quiet
        assert not result.warning[:, names.index(quiet)].any(), quiet
    at_limit = names.index("constant at the limit")
    assert result.warning[-1, at_limit]  # already there: certain, due now
    assert result.probability[-1, at_limit] == 1.0
    assert result.eta[-1, at_limit] == result.timestamps[-1]


def test_a_short_file_is_all_learning():
    result = predict_frame(_frame(np.linspace(10, 99, 200)), "6h")
    assert np.isnan(result.probability).all() and not result.warning.any()
    table = result.to_long()
    assert len(table) == 200 and table.probability.isna().all()


def test_a_horizon_longer_than_a_day_turns_the_daily_rhythm_off():
    t = np.arange(0, 8 * 86400, 300.0)
    rising = 10 + t / 86400 * 10  # +10 a day: 100 at day 9
    result = predict_frame(_frame(rising), "2d")
    row = int(np.argmax(result.warning[:, 0]))
    assert result.warning[:, 0].any()
    assert (t[row] / 86400) == pytest.approx(7.0, abs=0.05)  # 2 days before day 9


@pytest.mark.parametrize("bad", ["0h", "-1h", "soon"])
def test_bad_horizons_are_refused(bad):
    with pytest.raises(ValueError):
        predict_frame(_frame(np.arange(10.0)), bad)


def test_a_cutoff_outside_zero_one_is_refused():
    with pytest.raises(ValueError, match="cutoff"):
        predict_frame(_frame(np.arange(10.0)), "1h", cutoff=1.0)


def test_series_without_a_limit_get_the_anomaly_ahead_kind():
    rng = np.random.default_rng(2)
    values = np.column_stack([50 + rng.normal(0, 1, 900), 50 + rng.normal(0, 1, 900)])
    result = predict_frame(_frame(values, metrics=["load", "disk_pct"]), "1h",
                           limits={"load": 80.0})
    assert result.kinds == ("limit", "limit")
    other = predict_frame(_frame(values, metrics=["load", "disk_pct"]), "1h")
    assert other.kinds == ("envelope", "limit")
    assert np.isfinite(other.probability[-1]).all()
    off = predict_frame(_frame(values, metrics=["load", "disk_pct"]), "1h", anomaly_ahead=False)
    assert np.isnan(off.probability[:, 0]).all() and np.isfinite(off.probability[-1, 1])
