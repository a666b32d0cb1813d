"""``kizashi detect --plot`` of values (or scores) near the float limit draws them scaled
by a power of two, with the factor on the axis, instead of failing in matplotlib ("internal
error (ValueError: arange: cannot compute length)": the axis limits around 1.7e308
overflow).

Family: value columns near +/- the float limit, alternating with 0, and huge scores; the
control: ordinary columns are drawn as they are, with no factor.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from kizashi.report.plots import _drawable_with_factor, plot_scores

N = 200
RNG = np.random.default_rng(4)
COLUMNS = {
    "near-max": 1.5e308 + 1e307 * RNG.random(N),
    "near-minus-max": -1.5e308 - 1e307 * RNG.random(N),
    "max-and-zero": np.where(np.arange(N) % 2 == 0, 1.7976931348623157e308, 0.0),
    "huge-with-gaps": np.where(np.arange(N) % 7 == 0, np.nan, 1e305 * (1 + RNG.random(N))),
}


@pytest.mark.parametrize("where", ["values", "scores"])
@pytest.mark.parametrize("name", list(COLUMNS))
def test_a_plot_of_extreme_magnitudes_is_drawn(tmp_path, name, where):
    ordinary = 50 + RNG.normal(0, 1, N)
    odd = COLUMNS[name]
    values = np.c_[odd if where == "values" else ordinary, ordinary]
    scores = np.c_[odd if where == "scores" else np.abs(RNG.normal(0, 1, N)), np.zeros(N)]
    flags = np.zeros((N, 2), dtype=bool)
    flags[50, :] = True
    stamps = np.datetime64("2026-01-01") + np.arange(N) * np.timedelta64(5, "m")
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        path = plot_scores(stamps, values, scores, flags, [3.0, 3.0], ["odd", "plain"],
                           tmp_path / "p.png")
    assert path.stat().st_size > 1000 and path.read_bytes()[:4] == b"\x89PNG"
    drawn, factor = _drawable_with_factor(odd)
    assert factor < 1.0 and np.nanmax(np.abs(drawn)) < 4.0


def test_ordinary_and_tiny_columns_are_drawn_as_they_are():
    for column in (50 + RNG.normal(0, 1, N), 1e-300 * RNG.random(N), np.zeros(N)):
        drawn, factor = _drawable_with_factor(column)
        assert factor == 1.0 and np.array_equal(drawn, column)
