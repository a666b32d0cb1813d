"""Two spellings of one entity, metric or column name: one name, said; or refused, said.

Names are compared without the white space around them and in Unicode's composed form
(NFC); case counts. The family of spellings of ``node1`` / ``cpu`` / ``café``: a leading
or trailing space, both, a tab, a no-break space, an em space, the decomposed form of an
accent (NFD), and white space together with NFD. Each is read by every reader of names:

* long form (CSV and Parquet): the rows of both spellings are one series under the first
  spelling (trimmed), and one warning names both spellings and their lines — before,
  the rows were merged in silence and then reported as duplicate timestamps;
* wide form (a CSV or Parquet header) and the watch's CSV source: two columns that are
  one name are refused in one line naming both spellings — before, the CSV header said
  "'cpu' appears twice" without saying why, Parquet and the watch's CSV source kept
  ``" cpu"`` and ``"cpu"`` as two series, and the NFD spelling was a second series that
  printed exactly as the first.

Names that differ in case (``node1``/``Node1``) are two names everywhere, without warning.
"""

from __future__ import annotations

import unicodedata
import warnings
from pathlib import Path

import numpy as np
import pytest

from kizashi.data.readers import read_series
from kizashi.data.validation import DataError, DataWarning
from kizashi.watch.sources import CsvSource, SourceError

T0 = 1_700_000_000

#: spelling → (how it is written, whether it differs from the base in Unicode form)
VARIANTS: dict[str, tuple[str, bool]] = {
    "leading space": (" {}", False), "trailing space": ("{} ", False),
    "both spaces": ("  {}  ", False), "tab": ("\t{}", False),
    "no-break space": ("{}\u00a0", False), "em space": ("\u2003{}", False),
    "NFD": ("{nfd}", True), "NFD and a space": (" {nfd}", True),
}
BASES = {"ascii": "node1", "accented": "caf\u00e9"}


def _spell(variant: str, base: str) -> str:
    pattern, _ = VARIANTS[variant]
    return pattern.format(base, nfd=unicodedata.normalize("NFD", base))


def _cases() -> list[tuple[str, str]]:
    """Every variant of every base where it is another spelling (NFD of ASCII is not)."""
    return [(v, b) for b in BASES for v in VARIANTS
            if _spell(v, BASES[b]) != BASES[b]]


CASES = _cases()
IDS = [f"{b}-{v}" for v, b in CASES]


def _quoted(text: str, unicode_form: bool) -> str:
    """How a message must show a spelling: escaped where NFC and NFD would print alike."""
    return ascii(text) if unicode_form else repr(text)


def _long_rows(first: str, second: str) -> list[tuple[int, str, float]]:
    """Four steps of one entity: even steps under ``first``, odd under ``second``."""
    return [(T0 + 60 * t, first if t % 2 == 0 else second, float(t)) for t in range(4)]


def _write_long(path: Path, rows: list[tuple[int, str, float]], as_metric: bool) -> Path:
    import pandas as pd

    frame = pd.DataFrame({"timestamp": [r[0] for r in rows],
                          "entity": ["n" if as_metric else r[1] for r in rows],
                          "metric": [r[1] if as_metric else "cpu" for r in rows],
                          "value": [r[2] for r in rows]})
    if path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        path.write_text(frame.to_csv(index=False), encoding="utf-8")
    return path


def _read_warned(path: Path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frame = read_series(path)
    return frame, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


@pytest.mark.parametrize("as_metric", [False, True], ids=["entity", "metric"])
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(("variant", "base"), CASES, ids=IDS)
def test_long_form_spellings_are_one_series_with_one_warning_naming_both(
        tmp_path, variant, base, suffix, as_metric):
    name, other = BASES[base], _spell(variant, BASES[base])
    path = _write_long(tmp_path / f"long{suffix}", _long_rows(name, other), as_metric)
    frame, messages = _read_warned(path)
    expected_key = ("n", name) if as_metric else (name, "cpu")
    assert frame.keys == [expected_key]
    assert frame.values[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0]   # nothing lost nor doubled
    said = [m for m in messages if "differ only in" in m]
    assert len(said) == 1 and "\n" not in said[0], messages
    unicode_form = VARIANTS[variant][1]
    where = ("row 1", "row 2") if suffix == ".parquet" else ("line 2", "line 3")
    assert f"{_quoted(name, unicode_form)} ({where[0]})" in said[0], said[0]
    assert f"{_quoted(other, unicode_form)} ({where[1]})" in said[0], said[0]
    assert f"one {'metric' if as_metric else 'entity'}, {name!r}" in said[0]
    assert not any("duplicate" in m for m in messages), messages  # distinct times: none


@pytest.mark.parametrize(("variant", "base"), CASES, ids=IDS)
def test_long_form_the_first_spelling_names_the_series(tmp_path, variant, base):
    """The name kept is the first one seen, trimmed (an NFD first spelling stays NFD)."""
    other = _spell(variant, BASES[base])
    frame, _ = _read_warned(_write_long(tmp_path / "l.csv",
                                        _long_rows(other, BASES[base]), False))
    assert frame.keys == [(other.strip(" \t\u00a0\u2003"), "cpu")]


def _wide_header(path: Path, first: str, second: str) -> Path:
    if path.suffix == ".parquet":
        import pandas as pd

        pd.DataFrame({"timestamp": [T0, T0 + 60], first: [1.0, 2.0],
                      second: [3.0, 4.0]}).to_parquet(path)
    else:
        path.write_text(f"timestamp,{first},{second}\n{T0},1,3\n{T0 + 60},2,4\n",
                        encoding="utf-8")
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize(("variant", "base"), CASES, ids=IDS)
def test_wide_columns_that_are_one_name_are_refused_naming_both(tmp_path, variant, base,
                                                                suffix):
    name, other = BASES[base], _spell(variant, BASES[base])
    if "\t" in other and suffix == ".csv":
        other = other.replace("\t", " \u00a0")  # (a tab would be sniffed as the delimiter)
    path = _wide_header(tmp_path / f"wide{suffix}", name, other)
    with pytest.raises(DataError) as caught:
        read_series(path)
    message = str(caught.value)
    unicode_form = VARIANTS[variant][1]
    assert "\n" not in message and message.startswith(str(path)), message
    assert f"columns 2 ({_quoted(name, unicode_form)}) and 3 " \
           f"({_quoted(other, unicode_form)}) differ only in" in message, message


@pytest.mark.parametrize(("variant", "base"), CASES, ids=IDS)
def test_the_watch_csv_source_refuses_the_same_columns_naming_both(tmp_path, variant, base):
    name, other = BASES[base], _spell(variant, BASES[base])
    path = _wide_header(tmp_path / "w.csv", name, other)
    with pytest.raises(SourceError) as caught:
        CsvSource(str(path), name="lab").read(None)
    unicode_form = VARIANTS[variant][1]
    message = str(caught.value)
    assert "\n" not in message and f"({_quoted(other, unicode_form)})" in message, message


@pytest.mark.parametrize(("variant", "base"), CASES, ids=IDS)
def test_the_watch_csv_source_reads_a_spelling_as_the_file_readers_do(tmp_path, variant,
                                                                      base):
    """One column spelled with white space or NFD: its series is the name the file
    readers give it (before, the watch kept ``" cpu"`` where ``kizashi detect`` read
    ``cpu``)."""
    other = _spell(variant, BASES[base])
    path = tmp_path / "w.csv"
    path.write_text(f"timestamp,{other},mem\n{T0},1,3\n", encoding="utf-8")
    watched = CsvSource(str(path), name="lab").read(None).labels[0]["series"]
    assert watched == read_series(path).keys[0][1] == other.strip(" \t\u00a0\u2003")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_names_differing_in_case_are_two_without_warning(tmp_path, suffix):
    frame, messages = _read_warned(_write_long(tmp_path / f"l{suffix}",
                                               _long_rows("node1", "Node1"), False))
    assert frame.keys == [("node1", "cpu"), ("Node1", "cpu")]
    assert not any("differ only" in m for m in messages)
    wide = read_series(_wide_header(tmp_path / f"w{suffix}", "cpu", "CPU"))
    assert [m for _, m in wide.keys] == ["cpu", "CPU"]
    samples = CsvSource(str(_wide_header(tmp_path / "w2.csv", "cpu", "CPU"))).read(None)
    assert [label["series"] for label in samples.labels] == ["cpu", "CPU"]
    np.testing.assert_array_equal(samples.values, [[1.0, 3.0], [2.0, 4.0]])
