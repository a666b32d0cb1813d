"""The default detector flags the same rows whatever the unit of a series: bytes or
exabytes, seconds or attoseconds.

A noisy level (50 ± 1) with a spike and a level shift is multiplied by ``2**k`` and
``10**k`` for ``k`` from -300 to 300. Before, at units below about 1e-9 the ensemble
flagged nothing: its absolute floors (σ ≥ 1e-9 in the data's units) exceeded the
series' whole spread. Now a series whose largest magnitude lies below 2⁻²⁰ (or above
2⁴⁰⁰) is scored at an ordinary one, multiplied by an exact power of two
(:data:`~kizashi.streaming.magnitudes.DETECT_SMALLEST`); every other series keeps a
factor of 1 and is scored exactly as before — the series of NAB and SMD among them, so
their reported figures stand (checked on the local copies where they are present).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.data.frame import SeriesFrame
from kizashi.detectors.registry import DEFAULT_DETECTOR
from kizashi.engine.batch import score_frame
from kizashi.streaming.magnitudes import DETECT_SMALLEST, magnitude_factors

N = 1500
T = np.arange(N) * 300.0
EXPONENTS = list(range(-300, 301, 25))


def _series() -> np.ndarray:
    rng = np.random.default_rng(5)
    values = 50.0 + rng.normal(0.0, 1.0, N)
    values[1000] += 15.0
    values[1200:] += 8.0
    return values


def _flags(values: np.ndarray) -> np.ndarray:
    frame = SeriesFrame.from_arrays(T, values.reshape(N, -1), ["n1"] * values.reshape(N, -1)
                                    .shape[1], [f"m{j}" for j in range(values.reshape(N, -1)
                                                                         .shape[1])])
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # no overflow nor underflow warning
        return score_frame(frame, DEFAULT_DETECTOR, {}).flags


@pytest.fixture(scope="module")
def at_unit_one() -> np.ndarray:
    flags = _flags(_series())
    assert flags[1200:1210].any() and not flags[:1000].any()  # the shift, nothing before
    return flags


@pytest.mark.parametrize("base", [2.0, 10.0])
@pytest.mark.parametrize("k", EXPONENTS)
def test_the_same_rows_are_flagged_at_every_unit(at_unit_one, base, k):
    unit = base ** k
    np.testing.assert_array_equal(_flags(_series() * unit), at_unit_one)


@pytest.mark.parametrize("unit", [-1.0, -1e-300, -1e300, -(2.0 ** -1000)])
def test_negative_units_flag_the_same_rows(at_unit_one, unit):
    """A negative unit mirrors the series: its shift down is flagged as the shift up was."""
    np.testing.assert_array_equal(_flags(_series() * unit), at_unit_one)


def test_an_ordinary_series_beside_an_extreme_one_is_scored_bit_for_bit():
    values = _series()
    rng = np.random.default_rng(9)
    other = 20.0 + rng.normal(0.0, 0.5, N)
    frame = SeriesFrame.from_arrays(T, np.column_stack([values * 1e-300, other]),
                                    ["n1", "n1"], ["tiny", "cpu"])
    both = score_frame(frame, "threshold", {})
    alone = score_frame(SeriesFrame.from_arrays(T, other[:, None], ["n1"], ["cpu"]),
                        "threshold", {})
    np.testing.assert_array_equal(both.scores[:, 1], alone.scores[:, 0])
    np.testing.assert_array_equal(both.values, frame.values)   # reported in their unit
    scaled = score_frame(SeriesFrame.from_arrays(T, values[:, None], ["n1"], ["tiny"]),
                         "threshold", {})
    np.testing.assert_array_equal(both.flags[:, 0], scaled.flags[:, 0])


def test_bands_are_given_in_the_series_own_unit():
    tiny = score_frame(SeriesFrame.from_arrays(T, _series()[:, None] * 2.0 ** -1000),
                       "threshold", {}, bands=True)
    plain = score_frame(SeriesFrame.from_arrays(T, _series()[:, None] * 2.0 ** -5),
                        "threshold", {}, bands=True)
    # 2^-1000 is scored as at 2^-5 (its largest value brought to [1, 2)): the same band,
    # moved back by the exact factor
    np.testing.assert_array_equal(tiny.upper * 2.0 ** 995, plain.upper)
    np.testing.assert_array_equal(tiny.lower * 2.0 ** 995, plain.lower)


@pytest.mark.parametrize("unit", [1e-300, 1e300, 2.0 ** -1000])
def test_kizashi_detect_flags_the_same_rows(tmp_path, unit):
    values = _series()
    out = {}
    for name, scale in (("one", 1.0), ("odd", unit)):
        path = tmp_path / f"{name}.csv"
        path.write_text("timestamp,cpu\n" + "".join(
            f"{int(t)},{float(v * scale)!r}\n" for t, v in zip(T, values, strict=True)))
        result = CliRunner().invoke(cli, ["detect", str(path), "-q", "--out",
                                          str(tmp_path / f"{name}.out.csv")])
        assert result.exit_code == 0, result.output
        import pandas as pd

        out[name] = pd.read_csv(tmp_path / f"{name}.out.csv")["is_anomaly"].to_numpy()
    assert out["one"].any()
    np.testing.assert_array_equal(out["odd"], out["one"])


def _local(name: str) -> Path | None:
    root = os.environ.get("KIZASHI_DATA")
    path = Path(root) / name if root else None
    return path if path is not None and path.exists() else None


def test_nab_and_smd_series_keep_a_factor_of_one():
    """Their reported figures stand: every series is scored in its own unit."""
    nab, smd = _local("nab"), _local("smd")
    if nab is None and smd is None:
        pytest.skip("no local NAB or SMD copy (KIZASHI_DATA)")
    import pandas as pd

    largest = []
    for csv in sorted(nab.glob("data/*/*.csv")) if nab else []:
        largest.append(np.nanmax(np.abs(pd.read_csv(csv)["value"].to_numpy(float))))
    for txt in sorted(smd.glob("*/*.txt.gz")) if smd else []:
        largest.extend(np.nanmax(np.abs(np.loadtxt(txt, delimiter=",")), axis=0))
    largest_arr = np.array(largest)[None, :]
    assert largest_arr.size > 50
    assert (magnitude_factors(largest_arr, smallest=DETECT_SMALLEST) == 1.0).all()


@pytest.mark.parametrize("glitch", [1e130, 1e300, np.finfo(float).max, -1e300])
@pytest.mark.parametrize("row", [100, 1450])
@pytest.mark.parametrize("detector", ["threshold", DEFAULT_DETECTOR])
def test_one_glitch_of_extreme_size_does_not_hide_the_rest(glitch, row, detector):
    """A broken exporter's sentinel (1e300, DBL_MAX) among values of 50: the series is still
    an ordinary one, scored in its unit. Before, its factor came from that one value and
    shrank the rest under the detectors' floors: of the spike and the 300-row shift, one
    row was flagged. Expected from the series: the shift's first rows (1200–1209) flagged,
    and by ``threshold`` the 15σ spike (row 1000) too, as without the glitch."""
    values = _series()
    values[row] = glitch
    frame = SeriesFrame.from_arrays(T, values[:, None], ["n1"], ["cpu"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the glitch's own squares
        flags = score_frame(frame, detector, {}).flags[:, 0]
    assert flags[1200:1210].any()
    assert flags[1000 - 2:1000 + 3].any() or detector != "threshold"


@pytest.mark.parametrize("unit", [1e-7, 1e-12, 1e-300, 2.0 ** -1000])
@pytest.mark.parametrize("bound", ["high", "low"])
def test_a_bound_given_in_the_series_unit_is_applied_in_that_unit(unit, bound):
    """``static_threshold`` with ``high=`` (or ``low=``) in the data's unit, on a series too
    small for the detectors' floors: the bound means what it says (the series is not
    rescaled under it). Expected by hand: exactly the rows beyond the bound are flagged."""
    rng = np.random.default_rng(3)
    values = (2.0 + rng.uniform(-0.1, 0.1, 300)) * unit
    beyond = [50, 200]
    values[beyond] = (8.0 if bound == "high" else -4.0) * unit
    params = {bound: (5.0 if bound == "high" else -1.0) * unit}
    frame = SeriesFrame.from_arrays(T[:300], values[:, None], ["n1"], ["cpu"])
    flags = score_frame(frame, "static_threshold", params).flags[:, 0]
    assert np.flatnonzero(flags).tolist() == beyond
