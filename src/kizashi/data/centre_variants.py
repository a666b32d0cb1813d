"""Named variants of the centre scenario: does a claim hold beyond the base scenario's seeds?

A detector tuned on one scenario generator can be quiet on it for reasons that
do not carry over (the noise level, where the quiet season falls, how many
nodes share the alert budget). Each variant changes one thing of
:func:`kizashi.data.centre.generate_centre` (its keyword arguments):

==================  ============================================================
``base``            the scenario as it is (24 nodes, 8 weeks)
``nodes-64``        64 nodes (2.7× the series, the same weekly alert budget)
``nodes-128``       128 nodes
``noisy``           every metric's noise doubled
``quiet-early``     the quiet season from 30 % of the run, for two weeks, then
                    back to full activity (two transitions instead of one)
``quiet-deep``      activity drops by 60 % instead of 40 % in the quiet season
``holiday-week``    Tuesday to Thursday of week 4 (days 22–24) are holidays
``utc+9``           the centre lives in UTC+9 (Japan): its days, nights and
                    weekends start 9 hours before UTC's
==================  ============================================================

>>> sorted(VARIANTS)[:3]
['base', 'holiday-week', 'nodes-128']
>>> centre = variant_centre("utc+9", seed=1, n_nodes=4, weeks=3)
>>> centre.utc_offset_hours, centre.timezone
(9.0, '+09:00')
"""

from __future__ import annotations

from typing import Any

from kizashi.data.centre import CentreScenario, generate_centre

__all__ = ["VARIANTS", "variant_centre"]

#: Each variant's arguments to :func:`~kizashi.data.centre.generate_centre`.
VARIANTS: dict[str, dict[str, Any]] = {
    "base": {},
    "nodes-64": {"n_nodes": 64},
    "nodes-128": {"n_nodes": 128},
    "noisy": {"noise": 2.0},
    "quiet-early": {"quiet_start": 0.3, "quiet_days": 14.0},
    "quiet-deep": {"quiet_drop": 0.6},
    "holiday-week": {"extra_holidays": (22, 23, 24)},
    "utc+9": {"utc_offset_hours": 9.0},
}


def variant_centre(name: str, seed: int = 0, **overrides: Any) -> CentreScenario:
    """The scenario of variant ``name`` for ``seed`` (``overrides`` win over the variant's)."""
    if name not in VARIANTS:
        raise ValueError(f"unknown centre variant {name!r}; known: {', '.join(VARIANTS)}")
    return generate_centre(seed=seed, **{**VARIANTS[name], **overrides})
