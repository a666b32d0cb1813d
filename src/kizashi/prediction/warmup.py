"""How many rows a series needs before its first prediction (its warm-up).

A series learns until every forecaster of :class:`LimitForecaster` has a record of
realised errors at the horizon: the longest history a forecaster needs (the quadratic
and the long line fit ``2 × window`` rows; the daily rhythm a day plus the window for
its drift), then the horizon until the first forecast can be checked, then
``error_window // 4`` checked forecasts. ``LimitForecaster.min_rows`` (window plus
horizon) is only the point before which nothing can be checked at all; a file between
the two gets every probability empty as well.
"""

from __future__ import annotations

from kizashi.prediction.limit_forecaster import LimitForecaster


def rows_before_first_prediction(forecaster: LimitForecaster) -> int:
    """Rows a series needs (every one observed) for its last row to get a probability.

    With 5-minute rows and a 6 h horizon: the daily rhythm's 288 rows plus the 72-row
    window, the 72-step horizon, then 72 checked forecasts, less the rows these share
    (about 42 hours):

    >>> rows_before_first_prediction(LimitForecaster(horizon_steps=72, window=72,
    ...                                              season_steps=288, error_window=288))
    503
    """
    window = int(forecaster.window)
    history = 2 * window
    if forecaster.season_steps is not None:
        history = max(history, int(forecaster.season_steps) + window)
    errors = forecaster.min_errors or max(int(forecaster.error_window) // 4, 1)
    return history + int(forecaster.horizon_steps) + errors - 1
