"""The batch engine on a Dask cluster: series partitioned over workers, same scores.

:func:`score_frame_distributed` cuts a :class:`~kizashi.data.frame.SeriesFrame`
into partitions of whole series (of whole entities for a multivariate
detector), runs :func:`kizashi.engine.batch.score_frame` — the one engine, with
its training, warm-up and decider rules — on each partition on a Dask worker,
and joins the parts in the frame's column order. Series are independent in the
engine (every detector state, calibrator, cutoff and alert filter is per
series or per entity), so the result is exactly what one process gives. The
exception is a univariate detector that needs training: it fits one model on
all series together, so its frame stays whole (one task).

:func:`score_files_distributed` scores many files, one task per file.

A cluster is named by an address: ``local:N`` starts a
:class:`distributed.LocalCluster` of ``N`` single-threaded worker processes on
this machine; anything else (``tcp://host:8786``) is the address of a running
scheduler — for example one that ``dask-jobqueue`` started on LSF or Slurm
(``docs/scale.md``). Tasks and data travel between the scheduler and its
workers with Dask's own serialisation (pickle): use a scheduler you run.

Examples
--------
>>> from kizashi.data.frame import SeriesFrame
>>> frame = SeriesFrame.from_arrays(np.arange(5) * 60.0, np.zeros((5, 5)))
>>> [list(p) for p in partition_columns(frame, 2)]
[[0, 1], [2, 3, 4]]
>>> frame = SeriesFrame.from_arrays(np.arange(5) * 60.0, np.zeros((5, 4)),
...                                 entities=["a", "b", "a", "c"], metrics=list("wxyz"))
>>> [list(p) for p in partition_columns(frame, 2, by_entity=True)]
[[0, 2, 1], [3]]
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from kizashi.data.frame import SeriesFrame
from kizashi.detectors.registry import create
from kizashi.engine.batch import (
    FIT_FRACTION,
    FrameResult,
    incidents,
    nothing_fitted,
    score_frame,
)

__all__ = ["connect", "join_results", "partition_columns", "score_files_distributed",
           "score_frame_distributed"]


def partition_columns(frame: SeriesFrame, n_parts: int, by_entity: bool = False
                      ) -> list[list[int]]:
    """Column positions of ``frame`` cut into at most ``n_parts`` contiguous, balanced parts.

    With ``by_entity`` an entity's columns stay in one part (entities in the order
    they first appear).
    """
    if n_parts < 1:
        raise ValueError(f"need at least one partition, got {n_parts}")
    if by_entity:
        units = [[j for j, e in enumerate(frame.entities) if e == entity]
                 for entity in frame.unique_entities()]
    else:
        units = [[j] for j in range(frame.n_series)]
    n_parts = min(n_parts, len(units)) or 1
    bounds = np.linspace(0, len(units), n_parts + 1).round().astype(int)
    return [[j for unit in units[a:b] for j in unit]
            for a, b in itertools.pairwise(bounds.tolist()) if b > a]


def join_results(frame: SeriesFrame, parts: Sequence[tuple[list[int], FrameResult]]
                 ) -> FrameResult:
    """The results of partitions of ``frame`` as one result, in the frame's order."""
    if not parts:
        raise ValueError("no partitions to join")
    first = parts[0][1]
    entity_level = all(m == "*" for m in first.metrics) and \
        any(m != "*" for m in frame.metrics)
    if entity_level:  # one output per entity, in the order the engine gives them
        order = {entity: k for k, entity in enumerate(frame.unique_entities())}
        position = [[order[e] for e in result.entities] for _, result in parts]
        n_out = len(order)
    else:
        position = [columns for columns, _ in parts]
        n_out = frame.n_series

    def gather(name: str, fill: Any, dtype: Any) -> np.ndarray:
        rows = getattr(first, name).shape[0]
        out = np.full((rows, n_out), fill, dtype=dtype)
        for where, (_, result) in zip(position, parts, strict=True):
            out[:, where] = getattr(result, name)
        return out

    scores = gather("scores", np.nan, float)
    levels = gather("levels", np.nan, float)
    flags = gather("flags", False, bool)
    learning = gather("learning", False, bool)
    values = gather("values", np.nan, float)
    cutoffs = np.full(n_out, np.nan)
    entities, metrics = [""] * n_out, [""] * n_out
    labels = None if first.labels is None else gather("labels", False, bool)
    for where, (_, result) in zip(position, parts, strict=True):
        cutoffs[where] = result.cutoffs
        for k, j in enumerate(where):
            entities[j], metrics[j] = result.entities[k], result.metrics[k]
    unfitted = tuple(item for _, result in parts for item in result.unfitted)
    if unfitted and len(unfitted) == n_out and entity_level:  # as score_frame on the whole
        raise nothing_fitted(unfitted)
    fitted = next((result for _, result in parts
                   if len(result.unfitted) < len(result.entities)), first)
    if unfitted and entity_level:  # their cutoff as the others' when all share one
        lost = np.isin(np.asarray(entities, dtype=object), [e for e, _ in unfitted])
        shared = np.unique(cutoffs[~lost])
        if len(shared) == 1:
            cutoffs[lost] = shared[0]
    return FrameResult(first.timestamps, tuple(entities), tuple(metrics), values, scores,
                       levels, cutoffs, flags, learning, first.detector, first.params,
                       fitted.calibration, labels, incidents(flags, levels),
                       unfitted=unfitted)


def _partitions(frame: SeriesFrame, name: str, params: dict[str, Any], n_parts: int
                ) -> list[list[int]]:
    probe = create(name, **params)
    if probe.requires_training and not probe.multivariate:
        return [list(range(frame.n_series))]  # one model over all series: keep them together
    return partition_columns(frame, n_parts, by_entity=probe.multivariate)


def _score_part(frame: SeriesFrame, name: str, params: dict[str, Any],
                decision: dict[str, Any], train: SeriesFrame | None,
                fit_fraction: float) -> FrameResult:
    """One partition through the engine (runs on a worker)."""
    return score_frame(frame, name, params, decision=decision, train=train,
                       fit_fraction=fit_fraction, partial=True)


def score_frame_distributed(frame: SeriesFrame, name: str, params: dict[str, Any] | None = None,
                            *, client: Any, decision: dict[str, Any] | None = None,
                            train: SeriesFrame | None = None, fit_fraction: float = FIT_FRACTION,
                            partitions: int | None = None,
                            on_done: Callable[[int], None] | None = None) -> FrameResult:
    """:func:`~kizashi.engine.batch.score_frame` with the series spread over ``client``'s workers.

    ``partitions`` defaults to twice the number of workers. ``on_done(n_series)``
    is called as each partition finishes (a progress bar).
    """
    params = dict(params or {})
    decision = dict(decision or {})
    if train is not None and train.keys != frame.keys:
        missing = sorted(set(frame.keys) - set(train.keys))[:3]
        raise ValueError(f"training data {train.name} lacks series of {frame.name}: "
                         f"{', '.join(f'{e}/{m}' for e, m in missing) or 'order differs'}")
    n_workers = max(len(client.scheduler_info().get("workers", {})), 1)
    columns = _partitions(frame, name, params, partitions or 2 * n_workers)
    futures = [client.submit(_score_part, frame.take(part), name, params, decision,
                             None if train is None else train.take(part), fit_fraction,
                             pure=False) for part in columns]
    index = {future.key: k for k, future in enumerate(futures)}
    results: list[FrameResult | None] = [None] * len(futures)
    from distributed import as_completed

    for future in as_completed(futures):
        k = index[future.key]
        results[k] = future.result()
        if on_done is not None:
            on_done(len(columns[k]))
    return join_results(frame, [(part, result) for part, result in
                                zip(columns, results, strict=True)])


def score_files_distributed(frames: Sequence[SeriesFrame], name: str,
                            params: dict[str, Any] | None = None, *, client: Any,
                            decision: dict[str, Any] | None = None,
                            fit_fraction: float = FIT_FRACTION) -> list[FrameResult]:
    """Score many frames (files), one task each, in the given order."""
    futures = [client.submit(score_frame, frame, name, dict(params or {}),
                             decision=dict(decision or {}), fit_fraction=fit_fraction,
                             pure=False) for frame in frames]
    return client.gather(futures)


@contextlib.contextmanager
def connect(address: str) -> Iterator[Any]:
    """A Dask client for ``address`` (``local:N`` or a scheduler's address), closed after use."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - depends on the installation
        raise ValueError("--dask needs Dask: pip install 'kizashi[scale]'") from None
    if address.startswith("local"):
        _, _, count = address.partition(":")
        try:
            n_workers = int(count) if count else 2
        except ValueError:
            raise ValueError(f"--dask local:N needs a number of workers, got {address!r}") \
                from None
        if n_workers < 1:
            raise ValueError(f"--dask local:N needs at least one worker, got {n_workers}")
        with LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            yield client
        return
    try:
        client = Client(address, timeout=30)
    except OSError as error:
        raise ValueError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    try:
        yield client
    finally:
        client.close()
