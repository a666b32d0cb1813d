"""The Server Machine Dataset (SMD; Su et al., KDD 2019): 38 metrics of 28 servers.

Each machine has a ``train`` half (unlabelled) and a ``test`` half with a 0/1
label per row and *interpretation labels*: for each anomaly segment, the metrics
that explain it. The files have no timestamps; rows are one minute apart, and
kizashi places them on a clock starting at 1970-01-01 00:00 UTC for ``train``,
with ``test`` continuing right after it.

Local copies come through :func:`kizashi.data.paths.dataset_dir` (``smd/``);
without one, files are fetched from the OmniAnomaly repository into the cache.
The same reader reads the ASD dataset (same layout; ``dataset="asd"``, 5-minute rows).

>>> from kizashi.data.paths import dataset_dir
>>> if dataset_dir("smd"):
...     machine = load_smd("machine-1-6")
...     print(machine.train.n_series, machine.test.labels.shape[1])
... else:
...     print(38, 38)
38 38
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.data.paths import cache_dir, dataset_dir, fetch
from kizashi.data.readers import read_table
from kizashi.data.validation import DataError, DataWarning, ValidationReport, parse_numbers

SMD_URL = ("https://raw.githubusercontent.com/NetManAIOps/OmniAnomaly/"
           "7fb0e0acf89ea49908896bcc9f9e80fcfff6baf4/ServerMachineDataset")
STEP_SECONDS = {"smd": 60, "asd": 300}
EXCLUSIVE_END = {"smd": True, "asd": False}


@dataclass(frozen=True, eq=False)
class SmdMachine:
    """One machine: train and test frames, and the explained anomaly segments of test.

    ``segments`` holds ``(start_row, end_row_inclusive, metric_indices)`` with
    0-based metric indices into the columns. SMD's interpretation files write
    the end one past the last labelled row (checked: on every machine of the
    shared copy, ``start-end`` matches a run of 1s in ``test_label`` as
    ``[start, end)``), while ASD's are inclusive; both are stored inclusive here.
    """

    name: str
    train: SeriesFrame
    test: SeriesFrame
    segments: list[tuple[int, int, tuple[int, ...]]]

    @property
    def test_labels(self) -> np.ndarray:
        """One 0/1 label per test row."""
        return self.test.labels[:, 0]


def machines(root: str | Path | None = None, dataset: str = "smd") -> list[str]:
    """Machines that have train and test files in the local copy."""
    base = Path(root) if root else dataset_dir(dataset)
    if base is None:
        return []
    return sorted(p.name.split(".")[0] for p in (base / "train").glob("*.txt*"))


def load_smd(machine: str, root: str | Path | None = None, dataset: str = "smd") -> SmdMachine:
    """Read one machine's train, test, labels and interpretation labels."""
    base = Path(root) if root else dataset_dir(dataset)
    if base is None:
        if dataset != "smd":
            raise DataError(f"no local copy of {dataset}; set KIZASHI_DATA")
        base = cache_dir() / "smd"
        for part in ("train", "test", "test_label", "interpretation_label"):
            fetch(f"{SMD_URL}/{part}/{machine}.txt", base / part / f"{machine}.txt")
    step = STEP_SECONDS.get(dataset, 60)
    train_values = _matrix(_find(base, "train", machine))
    test_values = _matrix(_find(base, "test", machine))
    labels = _matrix(_find(base, "test_label", machine))[:, 0]
    if labels.shape[0] != test_values.shape[0]:
        raise DataError(f"{machine}: {labels.shape[0]} labels for {test_values.shape[0]} test rows")
    if not np.isin(labels, (0.0, 1.0)).all():
        raise DataError(f"{machine}: labels must be 0 or 1")
    segments = _segments(_find(base, "interpretation_label", machine), test_values.shape[1],
                         EXCLUSIVE_END.get(dataset, False))
    n_train, n_metrics = train_values.shape
    metrics = tuple(f"m{j}" for j in range(n_metrics))
    entities = (machine,) * n_metrics

    def frame(values: np.ndarray, offset: int, part: str, labels=None) -> SeriesFrame:
        rows = np.arange(offset, offset + values.shape[0], dtype=np.int64)
        stamps = (rows * step * 10**9).astype("datetime64[ns]")
        return SeriesFrame(stamps, values, entities, metrics, labels=labels,
                           name=f"{dataset}/{machine}/{part}")

    label_matrix = np.repeat(labels.astype(bool)[:, None], n_metrics, axis=1)
    return SmdMachine(machine, frame(train_values, 0, "train"),
                      frame(test_values, n_train, "test", label_matrix), segments)


def _find(base: Path, part: str, machine: str) -> Path:
    for suffix in (".txt.gz", ".txt"):
        path = base / part / f"{machine}{suffix}"
        if path.exists():
            return path
    raise DataError(f"{base / part}: no file for {machine} (.txt or .txt.gz)")


def _matrix(path: Path) -> np.ndarray:
    table, lines = read_table(path, header=False)
    report = ValidationReport(source=str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        columns = [parse_numbers(table[c].to_numpy(dtype=object), lines, f"column {c + 1}",
                                 report) for c in table.columns]
    values = np.column_stack(columns)
    if np.isnan(values).any():
        first = np.argwhere(np.isnan(values))[0]
        raise DataError(f"{path}, line {lines[first[0]]}: missing value in column {first[1] + 1}")
    return values


def _segments(path: Path, n_metrics: int, exclusive_end: bool,
              ) -> list[tuple[int, int, tuple[int, ...]]]:
    from kizashi.data.readers import open_text

    out = []
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            line = line.strip()
            if not line:
                continue
            try:
                span, dims = line.split(":")
                start, end = (int(x) for x in span.split("-"))
                metrics = tuple(int(d) - 1 for d in dims.split(",") if d.strip())
            except ValueError:
                raise DataError(f"{path}, line {number}: expected 'start-end:dim,dim', "
                                f"got {line!r}") from None
            end -= int(exclusive_end)
            if start > end or any(not 0 <= m < n_metrics for m in metrics):
                raise DataError(f"{path}, line {number}: segment {line!r} is out of range")
            out.append((start, end, metrics))
    return out
