"""Tell the operator which steps a multivariate detector could not score, and why.

A multivariate detector (the default ``ensemble`` among them) gives a node one score per
step from all of its metrics, and a step where one metric has no value gets no score
(the detectors' contract, docs/detectors.md). In a wide file a column that starts late,
stops early or has scattered blanks therefore silences the whole node at those steps;
these notes say so, with the metrics to blame, instead of leaving an empty score column.
"""

from __future__ import annotations

import numpy as np

from kizashi.data.frame import SeriesFrame

#: nodes named one by one before the rest are counted
SHOWN_NODES = 5
#: metrics named per node
SHOWN_METRICS = 3


def partial_steps(frame: SeriesFrame) -> dict[str, tuple[int, list[tuple[str, int]]]]:
    """For each entity with a step where some but not all of its metrics have a value:
    the number of such steps and its metrics missing there, most often missing first.

    >>> import numpy as np
    >>> frame = SeriesFrame.from_arrays(np.arange(4) * 60.0,
    ...     np.array([[1.0, np.nan], [2.0, np.nan], [3.0, 4.0], [np.nan, np.nan]]),
    ...     entities=["n1", "n1"], metrics=["cpu", "gpu"])
    >>> partial_steps(frame)
    {'n1': (2, [('gpu', 2)])}
    """
    observed = ~np.isnan(frame.values)
    groups: dict[str, list[int]] = {}
    for j, entity in enumerate(frame.entities):  # each entity's columns, in one pass
        groups.setdefault(entity, []).append(j)
    found: dict[str, tuple[int, list[tuple[str, int]]]] = {}
    for entity, members in groups.items():
        if len(members) < 2:
            continue
        columns = np.asarray(members)
        seen = observed[:, columns]
        partial = seen.any(axis=1) & ~seen.all(axis=1)
        count = int(partial.sum())
        if count == 0:
            continue
        missing = (~seen[partial]).sum(axis=0)
        order = sorted(range(columns.size), key=lambda k: (-int(missing[k]), k))
        found[str(entity)] = (count, [(frame.metrics[columns[k]], int(missing[k]))
                                      for k in order if missing[k] > 0])
    return found


def unscored_notes(frame: SeriesFrame, detector: str) -> list[str]:
    """Warning lines for the steps ``detector`` (multivariate) leaves without a score because
    a metric is missing there; none when every step has all of a node's metrics.

    >>> import numpy as np
    >>> frame = SeriesFrame.from_arrays(np.arange(3) * 60.0,
    ...     np.array([[1.0, np.nan], [2.0, 5.0], [3.0, 4.0]]),
    ...     entities=["n1", "n1"], metrics=["cpu", "gpu"])
    >>> print(unscored_notes(frame, "ensemble")[0])  # doctest: +NORMALIZE_WHITESPACE
    warning: n1: 1 of 3 time steps get no ensemble score: a node is scored only at steps
    where all its metrics have a value (missing there: 'gpu' at 1); drop or fill those
    columns, or score each series apart (--detector threshold)
    """
    found = partial_steps(frame)
    notes = []
    for entity, (count, missing) in list(found.items())[:SHOWN_NODES]:
        named = ", ".join(f"{metric!r} at {n}" for metric, n in missing[:SHOWN_METRICS])
        if len(missing) > SHOWN_METRICS:
            named += f" and {len(missing) - SHOWN_METRICS} more"
        notes.append(f"warning: {entity}: {count} of {frame.n_times} time steps get no "
                     f"{detector} score: a node is scored only at steps where all its "
                     f"metrics have a value (missing there: {named}); drop or fill those "
                     f"columns, or score each series apart (--detector threshold)")
    if len(found) > SHOWN_NODES:
        rest = list(found.values())[SHOWN_NODES:]
        notes.append(f"warning: and {len(rest)} more node(s) with {sum(c for c, _ in rest)} "
                     f"step(s) in all left without a {detector} score by a missing metric")
    return notes
