"""The causes model (``kizashi fit``, the ensemble's deviation attribution) on metrics of
extreme magnitude: clone groups and trailing means are those of the same metrics in an
ordinary unit, with no numerical warning. Before, ``kizashi fit`` of a node whose metrics
are 1e300 printed "overflow encountered in square" (the clones' spread) and the trailing
sums of values near the float limit overflowed to ``inf``.

Family: factors ±1e300, 2^1000 and near the float limit, per metric (each metric its own
unit), on clones, a pair and an independent metric.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from click.testing import CliRunner

from kizashi.cli.main import cli
from kizashi.detectors.multivariate.clones import clone_groups
from kizashi.detectors.multivariate.trailing import trailing_means

FACTORS = [1e300, -1e300, 2.0 ** 1000, 1e306]


def _metrics() -> np.ndarray:
    rng = np.random.default_rng(5)
    base = rng.normal(0, 1, 500)
    other = rng.normal(0, 1, 500)
    return np.c_[50 + base, 20 + 2 * base, 80 + other, 10 + rng.normal(0, 1, 500)]


@pytest.mark.parametrize("factor", FACTORS)
def test_clone_groups_do_not_depend_on_the_unit(factor):
    train = _metrics()
    expected = clone_groups(train, 0.95)
    assert expected.tolist() == [0, 0, 2, 3]  # the control: 0 and 1 are clones
    units = np.array([abs(factor), 1.0, factor, 1e-300])  # each metric its own unit (a
    # negative one would anti-correlate the clones: no longer clones)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        assert clone_groups(train * units, 0.95).tolist() == expected.tolist()


@pytest.mark.parametrize("factor", FACTORS)
@pytest.mark.parametrize("window", [1, 12, 600])
def test_trailing_means_do_not_depend_on_the_unit(factor, window):
    signal = _metrics()
    signal[::7, 1] = np.nan
    expected = trailing_means(signal, window)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        got = trailing_means(signal * factor, window)
    np.testing.assert_allclose(got / factor, expected, rtol=1e-12)


@pytest.mark.parametrize("factor", [1e300, 1.5e306])
def test_fit_command_has_no_numerical_warning(tmp_path, factor):
    values = _metrics()[:300]
    rows = [f"{i * 300},{a * factor!r},{b!r},{c * factor!r}"
            for i, (a, b, c, _) in enumerate(values.tolist())]
    source = tmp_path / "node.csv"
    source.write_text("timestamp,cpu,mem,io\n" + "\n".join(rows) + "\n")
    result = CliRunner().invoke(cli, ["fit", str(source), "--out", str(tmp_path / "m"), "-q"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert (tmp_path / "m" / "model.npz").exists()
