"""Values as strict JSON (RFC 8259) holds them: the one conversion every JSON kizashi writes
goes through (the benchmarks' ``--json``, the ``.json``/``.jsonl`` tables).

Python's :func:`json.dumps` writes a float NaN or infinity as the bare words ``NaN`` and
``Infinity``, which no JSON parser but Python's accepts; numpy's numbers it refuses.

>>> import numpy as np
>>> strict({"delay": float("nan"), "rows": [np.float64(1.5), np.inf], "n": np.int64(3)})
{'delay': None, 'rows': [1.5, None], 'n': 3}
"""

from __future__ import annotations

import math
from typing import Any

__all__ = ["strict"]


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
