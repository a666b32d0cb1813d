"""The watch's CSV source and a pandas row index in the file: no series of it.

``df.to_csv()`` writes the row index as an unnamed first column; read back and written
again it is ``Unnamed: 0``. As a series it climbs one per row forever, and its detector
pages on it. Whatever ``since`` asks for, the same series come back: the counter is
judged on all the file's rows. A column so named that does not count rows is a series.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from kizashi.watch.sources import CsvSource

T0 = 1_700_000_000
ROWS = 12


def _table() -> pd.DataFrame:
    return pd.DataFrame({"timestamp": T0 + 60 * np.arange(ROWS),
                         "cpu": 50 + np.sin(np.arange(ROWS))})


WRITERS = {
    "to_csv index": lambda t, p: t.to_csv(p),
    "R row names": lambda t, p: t.set_axis(np.arange(1, ROWS + 1)).to_csv(p),
    "Unnamed: 0": lambda t, p: t.reset_index().rename(columns={"index": "Unnamed: 0"})
                                .to_csv(p, index=False),
    "Unnamed: 0 last": lambda t, p: t.assign(**{"Unnamed: 0": np.arange(ROWS)})
                                     .to_csv(p, index=False),
}


@pytest.mark.parametrize("since", [None, T0 + 60 * 5 + 0.5, T0 + 60 * ROWS])
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_row_index_is_no_series_whatever_since_asks(tmp_path, writer, since):
    path = tmp_path / "m.csv"
    WRITERS[writer](_table(), path)
    got = CsvSource(str(path)).read(since)
    assert got.labels == [{"series": "cpu"}]
    expected = _table()
    if since is not None:
        expected = expected[expected.timestamp > since]
    np.testing.assert_allclose(got.values[:, 0], expected.cpu.to_numpy())


def test_a_column_named_like_an_index_that_does_not_count_rows_is_a_series(tmp_path):
    path = tmp_path / "m.csv"
    _table().assign(**{"Unnamed: 0": np.arange(ROWS) * 2.0}).to_csv(path, index=False)
    got = CsvSource(str(path)).read(None)
    assert got.labels == [{"series": "cpu"}, {"series": "Unnamed: 0"}]
    np.testing.assert_array_equal(got.values[:, 1], np.arange(ROWS) * 2.0)
