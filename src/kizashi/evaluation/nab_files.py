"""NAB-format result files: ``<dir>/<detector>/<category>/<detector>_<file>.csv[.gz]``.

Each file has one row per row of the data file, with at least the columns
``timestamp`` and ``anomaly_score`` (NAB also writes ``value`` and ``label``).
Per-detector summaries such as ``<detector>_standard_scores.csv`` sit directly
in ``<dir>/<detector>/`` and are skipped.

Examples
--------
>>> import tempfile
>>> t = np.arange(3).astype("datetime64[m]").astype("datetime64[ns]")
>>> with tempfile.TemporaryDirectory() as tmp:
...     path = write_result_file(result_path(tmp, "det", "cat/a.csv"), t, [1.0, 2.0, 3.0],
...                              [0.0, 0.5, 1.0], [0, 1, 0])
...     read_results(tmp)["det"]["cat/a.csv"].scores.tolist()
[0.0, 0.5, 1.0]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["NabResultFile", "read_result_file", "read_results", "result_path",
           "write_result_file"]


@dataclass(frozen=True, eq=False)
class NabResultFile:
    """The scores a detector wrote for one NAB file."""

    path: Path
    timestamps: np.ndarray | None  # datetime64[ns], None when the file has no timestamp column
    scores: np.ndarray


def result_path(directory: str | Path, detector: str, name: str, compress: bool = False) -> Path:
    """Where ``detector``'s result for corpus file ``name`` (``category/file.csv``) goes."""
    category, _, file_name = name.rpartition("/")
    suffix = ".gz" if compress else ""
    return Path(directory) / detector / category / f"{detector}_{file_name}{suffix}"


def read_result_file(path: str | Path) -> NabResultFile:
    """Read one result file (plain or gzip-compressed CSV)."""
    import pandas as pd

    path = Path(path)
    try:
        header = pd.read_csv(path, nrows=0).columns
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as error:
        raise ValueError(f"{path}: not a readable CSV result file ({error})") from None
    if "anomaly_score" not in header:
        raise ValueError(f"{path}: line 1 has no 'anomaly_score' column (columns: "
                         f"{', '.join(header)})")
    columns = ["anomaly_score"] + (["timestamp"] if "timestamp" in header else [])
    frame = pd.read_csv(path, usecols=columns, dtype={"timestamp": str})
    scores = pd.to_numeric(frame["anomaly_score"], errors="coerce").to_numpy(np.float64)
    bad = np.flatnonzero(np.isnan(scores) & frame["anomaly_score"].notna().to_numpy())
    if bad.size:
        raise ValueError(f"{path}: line {bad[0] + 2}: anomaly_score "
                         f"{frame['anomaly_score'].iloc[bad[0]]!r} is not a number")
    timestamps = None
    if "timestamp" in frame:
        try:
            timestamps = pd.to_datetime(frame["timestamp"], format="ISO8601").to_numpy(
                "datetime64[ns]")
        except (ValueError, TypeError) as error:
            raise ValueError(f"{path}: unreadable timestamp ({error})") from None
    return NabResultFile(path, timestamps, scores)


def read_results(directory: str | Path,
                 detectors: list[str] | None = None) -> dict[str, dict[str, NabResultFile]]:
    """All result files under ``directory``: ``{detector: {"category/file.csv": result}}``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: results directory not found")
    out: dict[str, dict[str, NabResultFile]] = {}
    for detector_dir in sorted(p for p in directory.iterdir() if p.is_dir()):
        detector = detector_dir.name
        if detectors is not None and detector not in detectors:
            continue
        prefix = f"{detector}_"
        files: dict[str, NabResultFile] = {}
        for path in sorted(detector_dir.glob("*/*")):
            stem = path.name.removesuffix(".gz")
            if not path.is_file() or not stem.endswith(".csv"):
                continue
            if not stem.startswith(prefix):
                raise ValueError(f"{path}: a result file of {detector!r} must be named "
                                 f"{prefix}<file>.csv")
            name = f"{path.parent.name}/{stem.removeprefix(prefix)}"
            if name in files:
                raise ValueError(f"{path}: {name} has both a plain and a .gz result file")
            files[name] = read_result_file(path)
        if files:
            out[detector] = files
    if detectors is not None:
        absent = sorted(set(detectors) - set(out))
        if absent:
            raise ValueError(f"{directory}: no result files for {', '.join(absent)}")
    return out


def write_result_file(path: str | Path, timestamps: Any, values: Any, scores: Any,
                      labels: Any) -> Path:
    """Write one NAB result file (``timestamp,value,anomaly_score,label``)."""
    import pandas as pd

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    stamps = pd.DatetimeIndex(np.asarray(timestamps).astype("datetime64[ns]"))
    frame = pd.DataFrame({
        "timestamp": stamps.strftime("%Y-%m-%d %H:%M:%S"),
        "value": np.asarray(values, dtype=np.float64),
        "anomaly_score": np.asarray(scores, dtype=np.float64),
        "label": np.asarray(labels).astype(np.int64),
    })
    frame.to_csv(path, index=False, float_format="%.12g")
    return path
