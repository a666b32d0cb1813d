"""``njit`` and ``prange`` from numba when it is installed, else a no-op decorator and
``range`` (the numpy path runs)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from numba import njit, prange

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover - exercised only without numba
    HAVE_NUMBA = False

    def njit(*args: Any, **kwargs: Any) -> Callable:
        return lambda function: function

    prange = range

__all__ = ["HAVE_NUMBA", "REORDER", "njit", "prange"]

#: fastmath flags for the compiled kernels' sums: reassociation lets the compiler
#: vectorise them (the code stays deterministic); no other IEEE relaxation.
REORDER = {"reassoc", "contract"}
