"""The horizon a prediction really looks ahead: a whole number of the data's steps.

The forecaster counts the horizon in steps (``round(horizon / step)``, at least one), so a
horizon shorter than the step, or between two multiples of it, is not the one asked for.
:func:`horizon_note` says so, with the horizon used, for the CLI to print as a warning.
"""

from __future__ import annotations

from kizashi.data.frame import SeriesFrame
from kizashi.durations import duration_text, parse_duration
from kizashi.prediction.predictor import forecaster_for, step_seconds

#: relative difference between the asked and the used horizon that is worth a note
TOLERANCE = 0.01


def horizon_note(frame: SeriesFrame, horizon: str | float) -> str | None:
    """Why the horizon used differs from ``horizon`` at ``frame``'s step, or None.

    >>> import numpy as np
    >>> stamps = (np.arange(10) * 300).astype("datetime64[s]").astype("datetime64[ns]")
    >>> frame = SeriesFrame.from_arrays(stamps, np.ones((10, 1)))
    >>> horizon_note(frame, "1s")
    "the horizon 1 s is shorter than the data's step of 300 s: predicting 1 step (300 s) ahead"
    >>> horizon_note(frame, "7m")
    "the horizon 420 s is not a whole number of the data's steps of 300 s: predicting 1 step (300 s) ahead"
    >>> horizon_note(frame, "1h") is None
    True
    """  # noqa: E501
    if frame.n_times < 2:
        return None
    step = step_seconds(frame)
    asked = parse_duration(horizon)
    steps = forecaster_for(step, asked).horizon_steps
    used = steps * step
    if abs(used - asked) <= TOLERANCE * asked:
        return None
    why = (f"is shorter than the data's step of {duration_text(step)}" if asked < step
           else f"is not a whole number of the data's steps of {duration_text(step)}")
    return (f"the horizon {duration_text(asked)} {why}: predicting {steps} "
            f"step{'s' if steps != 1 else ''} ({duration_text(used)}) ahead")
