"""The Numenta Anomaly Benchmark (NAB): 58 labelled series and their anomaly windows.

Local copies are found through :func:`kizashi.data.paths.dataset_dir` (``nab/``
with ``data/`` and ``labels/``); without one, the files are fetched from NAB's
public repository into the cache on first use.

>>> from kizashi.data.paths import dataset_dir
>>> corpus = load_nab_corpus() if dataset_dir("nab") else []
>>> len(corpus) in (0, 58)
True
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.paths import cache_dir, dataset_dir, fetch
from kizashi.data.readers import read_table
from kizashi.data.validation import (
    DataError,
    DataWarning,
    ValidationReport,
    assemble,
    parse_numbers,
    parse_timestamps,
)

NAB_COMMIT = "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140"
NAB_URL = f"https://raw.githubusercontent.com/numenta/NAB/{NAB_COMMIT}"
WINDOWS_FILE = "labels/combined_windows.json"


@dataclass(frozen=True, eq=False)
class NabSeries:
    """One NAB data file with its anomaly windows (inclusive bounds).

    Rows are kept exactly as in the file, because NAB's results and scores are
    aligned with the file's rows: a few NAB files repeat an hour of timestamps
    (``report`` says which), so ``timestamps`` is not always increasing here.
    :meth:`to_frame` applies kizashi's usual repair (sort, later line wins).
    """

    name: str  # "realKnownCause/nyc_taxi.csv"
    timestamps: np.ndarray  # datetime64[ns]
    values: np.ndarray  # float64
    windows: list[tuple[np.datetime64, np.datetime64]] = field(default_factory=list)
    report: ValidationReport = field(default_factory=ValidationReport)

    @property
    def category(self) -> str:
        return self.name.split("/")[0]

    def labels(self) -> np.ndarray:
        """True at every timestamp inside a window."""
        out = np.zeros(len(self.timestamps), dtype=bool)
        for start, end in self.windows:
            out |= (self.timestamps >= start) & (self.timestamps <= end)
        return out

    def to_frame(self) -> SeriesFrame:
        """A :class:`SeriesFrame` (sorted, duplicates resolved as for any file)."""
        report = ValidationReport(source=self.name)
        lines = np.arange(len(self.values)) + 2
        stamps, values = assemble(self.timestamps, np.zeros(len(lines), dtype=np.int64),
                                  self.values, lines, [(self.name, "value")], report)
        labels = np.zeros(len(stamps), dtype=bool)
        for start, end in self.windows:
            labels |= (stamps >= start) & (stamps <= end)
        return SeriesFrame(stamps, values, (self.name,), ("value",), labels=labels[:, None],
                           name=self.name, report=report, meta={"windows": list(self.windows)})


def nab_root(root: str | Path | None = None) -> Path:
    """A folder holding NAB's ``data/`` and ``labels/``: given, local, or the download cache."""
    if root is not None:
        return Path(root)
    local = dataset_dir("nab")
    if local is not None:
        return local
    cached = cache_dir() / "nab"
    fetch(f"{NAB_URL}/{WINDOWS_FILE}", cached / WINDOWS_FILE)
    return cached


def read_windows(root: Path) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """The windows of every file of a NAB tree rooted at ``root``."""
    return read_windows_file(root / WINDOWS_FILE)


def read_windows_file(path: Path) -> dict[str, list[tuple[np.datetime64, np.datetime64]]]:
    """A NAB windows JSON: ``{"<category>/<file>.csv": [[start, end], ...]}``."""
    if not path.exists():
        raise DataError(f"{path}: NAB windows file not found")
    try:
        raw = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: not valid JSON ({error})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: cannot read it ({error})") from None
    if not isinstance(raw, dict):
        raise DataError(f"{path}: a NAB windows file maps file names to lists of "
                        f"[start, end] pairs; got a {type(raw).__name__}")
    out = {}
    for name, pairs in raw.items():
        try:
            out[name] = [(np.datetime64(a, "ns"), np.datetime64(b, "ns")) for a, b in pairs]
        except (TypeError, ValueError) as error:  # not pairs, or not dates
            raise DataError(f"{path}: the windows of {name!r} must be [start, end] pairs of "
                            f"dates ({error})") from None
    return out


def load_nab_series(name: str, root: str | Path | None = None) -> NabSeries:
    """One NAB file by its corpus name, e.g. ``"realKnownCause/nyc_taxi.csv"``."""
    base = nab_root(root)
    windows = read_windows(base)
    if name not in windows:
        raise ValueError(f"{name!r} is not a NAB file name (e.g. realKnownCause/nyc_taxi.csv)")
    return _load(base, name, windows[name])


def load_nab_corpus(root: str | Path | None = None) -> list[NabSeries]:
    """All NAB files (58), sorted by name, each with its windows."""
    base = nab_root(root)
    windows = read_windows(base)
    if root is not None or dataset_dir("nab") is not None:  # a local copy: what it lacks
        missing = [name for name in sorted(windows) if not (base / "data" / name).exists()]
        if missing:
            raise DataError(f"{base / 'data'}: {len(missing)} of the {len(windows)} NAB files "
                            f"named in {WINDOWS_FILE} are missing (the first: {missing[0]}); "
                            "copy NAB's whole data/ folder")
    return [_load(base, name, windows[name]) for name in sorted(windows)]


def _load(base: Path, name: str, windows) -> NabSeries:
    path = base / "data" / name
    if not path.exists():
        fetch(f"{NAB_URL}/data/{name}", path)
    return read_nab_file(path, windows, name)


def read_nab_file(path: Path, windows=(), name: str | None = None) -> NabSeries:
    """One NAB-format file (``timestamp,value``) with the given windows, rows in file order."""
    path = Path(path)
    name = name or f"{path.parent.name}/{path.name}"
    table, lines = read_table(path)
    if list(table.columns) != ["timestamp", "value"]:
        raise DataError(f"{path}: a NAB file has the columns timestamp,value; found "
                        f"{','.join(table.columns)}")
    report = ValidationReport(source=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # findings stay in the report
        stamps = parse_timestamps(table["timestamp"].to_numpy(dtype=object), lines, report)
        values = parse_numbers(table["value"].to_numpy(dtype=object), lines, "value", report)
        steps = np.diff(stamps.astype(np.int64))
        if (steps <= 0).any():
            where = lines[1:][steps <= 0]
            report.add("unsorted", f"{where.size} row(s) not after the previous timestamp "
                       f"(first at line {where[0]}); kept in file order, as NAB scores them",
                       where)
    known = set(stamps.astype(np.int64).tolist())
    for start, end in windows:
        for bound in (start, end):
            if bound.astype("datetime64[ns]").astype(np.int64).item() not in known:
                raise DataError(f"{path}: window bound {bound} is not a timestamp of the file")
    return NabSeries(name, stamps, values, list(windows), report)
