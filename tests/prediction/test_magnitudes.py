"""A prediction does not depend on the unit of a series: the same series multiplied by
1e300 (a broken exporter's values, or a unit of 1e-300) gets the same probabilities,
warnings and ETAs, with no numerical warning, in ``kizashi predict`` (batch), in its warm-up
trend line and in the watch's live predictor. Before, squares of errors overflowed and such
a series got no probability at all (NaN) with an "overflow encountered" warning.

Family: factors near the float limit, both signs, and tiny ones, on a series without a
limit (anomaly ahead: a noisy level with a jump) and one with a limit (a fill to 100).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.frame import SeriesFrame
from kizashi.prediction.live import LivePredictor
from kizashi.prediction.predictor import predict_frame
from kizashi.prediction.warmup_trend import trend_crossings
from kizashi.streaming.magnitudes import magnitude_factors

STEP = 300.0
N = 700
FACTORS = [1e300, 1e306, 2.0 ** 1000, 1e-300, 3e-310]  # values up to 100: all finite


def _series() -> tuple[np.ndarray, np.ndarray]:
    """Seconds and ``(N, 2)`` values: a noisy level that jumps, and a fill rising to 100."""
    rng = np.random.default_rng(7)
    seconds = np.arange(N) * STEP
    level = 50.0 + rng.normal(0.0, 1.0, N)
    level[500:] += 8.0
    fill = np.linspace(10.0, 99.0, N) + rng.normal(0.0, 0.2, N)
    return seconds, np.column_stack([level, fill])


def _predict(values: np.ndarray, limit: float):
    seconds, _ = _series()
    frame = SeriesFrame.from_arrays(seconds, values, ["n1", "n1"], ["level", "fill"])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow, no invalid value
        return predict_frame(frame, horizon="6h", limits={"fill": limit})


@pytest.mark.parametrize("sign", [1.0, -1.0])
@pytest.mark.parametrize("factor", FACTORS)
def test_predictions_do_not_depend_on_the_unit(factor, sign):
    _, values = _series()
    ordinary = _predict(values, 100.0)
    scaled = _predict(values * factor * sign, 100.0 * factor * sign)
    learnt = np.isfinite(ordinary.probability)
    assert learnt[:, 0].sum() > 100 and learnt[:, 1].sum() > 100  # the control predicts
    if sign > 0:  # a limit below the values (sign < 0) is another question: compare its shape
        np.testing.assert_allclose(scaled.probability, ordinary.probability, atol=1e-6)
        np.testing.assert_array_equal(scaled.warning, ordinary.warning)
        np.testing.assert_array_equal(scaled.eta, ordinary.eta)
    else:  # anomaly ahead is symmetric: the level series leaves its band either way
        assert np.array_equal(np.isfinite(scaled.probability[:, 0]), learnt[:, 0])
    assert np.isfinite(scaled.probability[learnt[:, 0], 0]).all()


@pytest.mark.parametrize("factor", FACTORS)
def test_warmup_trend_line_does_not_depend_on_the_unit(factor):
    seconds = np.arange(0, 8 * 3600, STEP)
    disk = (20 + 12 * seconds / 3600)[:, None]  # +12 %/h: full at 6 h 40 min
    expected = trend_crossings(seconds, disk, np.array([100.0]), 6 * 3600.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = trend_crossings(seconds, disk * factor, np.array([100.0 * factor]), 6 * 3600.0)
    assert expected[0].any()
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_allclose(got[1], expected[1], atol=1.0)  # seconds


@pytest.mark.parametrize("factor", [1e300, 1e-300])
def test_predict_command_gives_every_series_its_probabilities(tmp_path, factor):
    seconds, values = _series()
    rows = [f"{int(t)},{float(a * factor)!r},{float(b)!r}"
            for t, (a, b) in zip(seconds, values, strict=True)]
    source = tmp_path / "in.csv"
    source.write_text("timestamp,level,disk_pct\n" + "\n".join(rows) + "\n")
    out = tmp_path / "p.csv"
    result = CliRunner().invoke(cli, ["predict", str(source), "-q", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.stderr, result.stderr
    import pandas as pd

    table = pd.read_csv(out)
    level = table[table.metric == "level"].probability
    assert level.notna().sum() > 100 and np.isfinite(level.dropna()).all()


def test_factors_are_exact_powers_of_two_and_one_for_ordinary_series():
    values = np.array([[50.0, 1e300, -1e-300, 0.0, np.nan, 1e120]])
    factor = magnitude_factors(values)
    mantissa, _ = np.frexp(factor)
    assert (mantissa == 0.5).all()  # powers of two: the scaling loses no bit
    assert factor[0] == 1.0 and factor[3] == 1.0 and factor[4] == 1.0 and factor[5] == 1.0
    assert 1.0 <= abs(values[0, 1] * factor[1]) < 2.0
    assert 1.0 <= abs(values[0, 2] * factor[2]) < 2.0


@pytest.mark.parametrize("factor", FACTORS)
def test_live_predictions_do_not_depend_on_the_unit(factor):
    """The watch's predictor, block by block: same probabilities, ETAs, normal band and
    forecast (in the series' own unit), and a state that round-trips."""
    seconds, values = _series()

    def run(scale: float) -> tuple[LivePredictor, list[np.ndarray]]:
        live = LivePredictor(STEP, np.array([np.nan, 100.0 * scale]), horizon="6h")
        seen = []
        with warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)
            for start in range(0, N, 150):
                out = live.update(seconds[start:start + 150], values[start:start + 150] * scale)
                seen.append(np.r_[out.probability, out.eta_seconds])
        return live, seen

    ordinary, expected = run(1.0)
    scaled, got = run(factor)
    assert np.isfinite(expected[-1][:2]).all()  # the control predicts both series
    np.testing.assert_allclose(np.array(got), np.array(expected), atol=1e-6)
    np.testing.assert_allclose(scaled.band()["forecast"] / factor,
                               ordinary.band()["forecast"], rtol=1e-9)
    np.testing.assert_allclose(scaled.state["upper"] / factor, ordinary.state["upper"],
                               rtol=1e-9)
    again = LivePredictor(STEP, np.array([np.nan, 100.0 * factor]), horizon="6h")
    again.load_state_dict(scaled.state_dict())
    np.testing.assert_array_equal(again.state["factor"], scaled.state["factor"])


def test_live_state_saved_before_the_factors_goes_on_in_its_unit():
    seconds, values = _series()
    live = LivePredictor(STEP, np.array([np.nan, 100.0]), horizon="6h")
    live.update(seconds[:300], values[:300])
    old = {k: v for k, v in live.state_dict().items() if k != "factor"}
    again = LivePredictor(STEP, np.array([np.nan, 100.0]), horizon="6h")
    again.load_state_dict(old)
    assert again.state["factor"].tolist() == [1.0, 1.0]
    np.testing.assert_array_equal(again.update(seconds[300:], values[300:]).probability,
                                  live.update(seconds[300:], values[300:]).probability)
