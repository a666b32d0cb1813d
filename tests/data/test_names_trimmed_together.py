"""Long-form names that differ only in surrounding spaces: read as one, and said so.

Spaces around an entity or metric name are not part of it (``" n1 "`` is ``n1``), so two
spellings of one node's name become one series. The merge was silent: where the two
spellings share timestamps the only word was "duplicate timestamps", which does not say
why. The family: an entity or a metric written bare on some lines and with spaces,
tabs or a no-break space around it on others, sharing timestamps or not, read in the
quick path (names repeated) and cell by cell (most names distinct). Each must be read as
one series, with one warning naming the file and both spellings; names that differ
inside (``n 1`` and ``n1``) stay two series, with no such warning.
"""

from __future__ import annotations

import warnings

import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataWarning

START = 1_704_067_200
SPELLINGS = [" n1", "n1 ", " n1 ", "\tn1", "n1\t", "\u00a0n1"]


def _write(path, column: str, odd: str, shared: bool, many: bool) -> None:
    rows = ["timestamp,entity,metric,value"]
    for i in range(40):
        name = odd if i % 2 else "n1"
        t = START + (i // 2 if shared else i) * 300
        entity, metric = (name, "cpu") if column == "entity" else ("n1", name)
        rows.append(f'{t},"{entity}","{metric}",{i % 7}')
    if many:  # distinct names on most lines: the names are cleaned cell by cell
        rows += [f"{START + i * 300},x{i},m{i},1" for i in range(200)]
    path.write_text("\n".join(rows) + "\n")


@pytest.mark.parametrize("many", [False, True], ids=["repeated", "distinct"])
@pytest.mark.parametrize("shared", [False, True], ids=["own-times", "shared-times"])
@pytest.mark.parametrize("column", ["entity", "metric"])
@pytest.mark.parametrize("odd", SPELLINGS, ids=[repr(s) for s in SPELLINGS])
def test_spellings_with_spaces_are_one_series_and_a_warning(tmp_path, odd, column, shared,
                                                            many):
    path = tmp_path / "long.csv"
    _write(path, column, odd, shared, many)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_series(path, "long")
    keys = [k for k in frame.keys if k[0] == "n1"]
    assert keys == [("n1", "cpu")] if column == "entity" else keys == [("n1", "n1")], keys
    said = [str(w.message) for w in caught if issubclass(w.category, DataWarning)
            and "differ only in" in str(w.message)]
    assert len(said) == 1 and str(path) in said[0], said
    assert repr(odd) in said[0] and "'n1'" in said[0], said


def test_names_that_differ_inside_stay_apart_without_the_warning(tmp_path):
    path = tmp_path / "long.csv"
    _write(path, "entity", "n 1", shared=False, many=False)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_series(path, "long")
    assert sorted(e for e, _ in frame.keys) == ["n 1", "n1"]
    assert not [w for w in caught if "differ only in" in str(w.message)]
