"""The benchmarks' ``--json FILE``: strict JSON, whatever the numbers hold.

Python's :func:`json.dumps` writes a float NaN or infinity as the bare words ``NaN`` and
``Infinity``, which no JSON parser but Python's accepts (``jq``, a browser, Go, a
dashboard): a benchmark row with no median delay (no incident caught) would make the
whole file unreadable there. :func:`strict` turns each into ``null`` (and numpy's
numbers and arrays into plain ones), so the file is JSON by the standard (RFC 8259).

>>> import numpy as np
>>> strict({"delay": float("nan"), "rows": [np.float64(1.5), np.inf], "n": np.int64(3)})
{'delay': None, 'rows': [1.5, None], 'n': 3}
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = ["strict", "write_json"]


def strict(value: Any) -> Any:
    """``value`` with every non-finite float as None and numpy values as Python ones."""
    if isinstance(value, dict):
        return {key: strict(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [strict(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, str):  # numpy scalars, arrays
        return strict(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented strict JSON in ``path`` (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(strict(value), indent=2, allow_nan=False) + "\n")
