"""The ensemble's causes for a fitted entity: :class:`DeviationAttribution` kept in its state.

The fitted attribution lives in the model part of the state (saved with the
model), the last rows seen in the stream part (``deviation_history``), so a
block explained in ``watch`` reads its trailing windows from the rows that came
before it, not from the end of the training rows.

>>> rng = np.random.default_rng(0)
>>> state = {"reference": {}}
>>> fit_deviation(state, rng.normal(0, 1, (600, 3)))
>>> test = rng.normal(0, 1, (40, 3))
>>> test[30:, 0] += 9.0
>>> before = history_of(state)
>>> remember_rows(state, test)
>>> int(np.nanargmax(deviation_shares(state, test, before)[35])), history_of(state).shape
(0, (513, 3))
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kizashi.detectors.multivariate.deviation import DeviationAttribution

__all__ = ["deviation_shares", "fit_deviation", "history_of", "remember_rows"]

#: Where the fitted attribution sits inside ``state["reference"]`` (the model part).
KEY = "deviation"
#: The stream part: the last rows scored.
HISTORY = "deviation_history"


def fit_deviation(state: dict[str, Any], values: np.ndarray,
                  relation_alpha: float | None = None) -> None:
    """Fit the attribution on the training ``values`` and store it in ``state``.

    ``relation_alpha``: with the relation signal, that ridge strength (None: without).
    """
    state["reference"][KEY] = DeviationAttribution(relation_alpha=relation_alpha
                                                   ).fit(values).state
    state.pop(HISTORY, None)  # the stream starts from the end of the training rows


def _attribution(state: dict[str, Any]) -> DeviationAttribution | None:
    fitted = (state.get("reference") or {}).get(KEY)
    return None if fitted is None else DeviationAttribution.from_state(fitted)


def history_of(state: dict[str, Any]) -> np.ndarray | None:
    """The rows before the next block (None: no attribution was fitted)."""
    attribution = _attribution(state)
    if attribution is None:
        return None
    history = state.get(HISTORY)
    return attribution.state["tail"] if history is None else \
        np.asarray(history, dtype=np.float64).reshape(-1, attribution.state["tail"].shape[1])


def remember_rows(state: dict[str, Any], values: np.ndarray) -> None:
    """Append the scored ``values`` to the history, keeping what the windows read."""
    fitted = (state.get("reference") or {}).get(KEY)
    if fitted is None:
        return
    rows = np.asarray(values, dtype=np.float64)
    keep = DeviationAttribution.from_state(fitted).history_rows + 1
    if rows.shape[0] >= keep:
        state[HISTORY] = rows[-keep:].copy()
        return
    history = state.get(HISTORY)
    history = np.asarray(fitted["tail"] if history is None else history, dtype=np.float64)
    history = history.reshape(-1, rows.shape[1])[-(keep - rows.shape[0]):]
    state[HISTORY] = np.concatenate([history, rows])  # each step: ~keep rows copied once


def deviation_shares(state: dict[str, Any], values: np.ndarray,
                     history: np.ndarray | None) -> np.ndarray | None:
    """Each metric's share of the rows' deviations (None: no attribution was fitted)."""
    attribution = _attribution(state)
    if attribution is None:
        return None
    return attribution.shares(values, history)
