"""Write one series as a wide or a long CSV file, for tests that put an odd cell in it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path


def write_one_series(folder: Path, form: str, times: Sequence[object], values: Sequence[object],
                     metric: str = "cpu") -> Path:
    """``folder/<form>.csv`` holding ``values`` at ``times``: wide (``timestamp,<metric>``)
    or long (``timestamp,entity,metric,value`` with entity ``n1``).

    >>> import tempfile
    >>> path = write_one_series(Path(tempfile.mkdtemp()), "long", [0, 60], [1, 2])
    >>> path.read_text().splitlines()[1]
    '0,n1,cpu,1'
    """
    if form == "wide":
        lines = [f"timestamp,{metric}"] + [f"{t},{v}" for t, v in zip(times, values, strict=True)]
    elif form == "long":
        lines = ["timestamp,entity,metric,value"] + [
            f"{t},n1,{metric},{v}" for t, v in zip(times, values, strict=True)]
    else:
        raise ValueError(f"form must be 'wide' or 'long', got {form!r}")
    path = folder / f"{form}.csv"
    path.write_text("\n".join(lines) + "\n")
    return path
