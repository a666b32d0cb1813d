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
from pathlib import Path
from typing import Any

from kizashi.json_values import strict

__all__ = ["strict", "write_json"]


def write_json(path: Path, value: Any) -> None:
    """``value`` as indented strict JSON in ``path`` (its folder made)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(strict(value), indent=2, allow_nan=False) + "\n")
