"""How much memory scoring a file will take, estimated before it starts (``kizashi detect``).

A wide file scored by the default ensemble (ten thousand metrics of one node: its fixed
reference puts ``reference_window`` rows of every metric side by side, 200,000 columns),
or ``--detector sst --param window=10000`` (a state of ``window/2 · rank · window`` floats
per series), takes several GB; on Linux the kernel's OOM killer then ends the process
without a word, or the machine swaps. :func:`check_detect_memory` adds up the arrays the
code allocates at its peak, from the detector, its parameters and the frame's shape, and
refuses the run in one line when the sum is above a cap (``--max-memory``, by default
:data:`DEFAULT_MARGIN` times the memory available now: ``MemAvailable`` of
``/proc/meminfo``, lowered to what a container's or job's memory limit leaves). The parts:

* ``overhead`` — :data:`OVERHEAD`, what any scoring takes besides (compilations);
* ``arrays`` — the engine's ``(time, series)`` arrays: the values, the stream's scores,
  levels and flags and the result's copies (:data:`BYTES_PER_VALUE`);
* ``state`` — a streaming univariate detector's state, built for one series and counted
  for each, twice (the stream keeps a copy while it processes a block, to roll back);
* ``reference`` — the ensemble's fixed reference of an entity of several metrics
  (:class:`~kizashi.detectors.multivariate.reference.ReferenceDetector`): its float64
  windows of ``w`` rows × ``m`` metrics, :data:`FIT_COPIES` such arrays per training row
  or :data:`SCORE_COPIES` per scored row (the larger), for the widest window and the
  entity of most metrics. It cannot be computed in blocks of metrics (the PCA couples
  them): a wide file is split, or scored with ``reference=false`` or a smaller
  ``reference_window``;
* ``members`` — the ensemble's per-metric members over the block of the entity of most
  metrics (:data:`MEMBER_BYTES_PER_VALUE`), where that is more than its reference (what
  it is above it: the entity is scored by one or the other, and the estimate keeps
  growing with the metrics).

Like ``kizashi train``'s (:mod:`kizashi.dl.memory`), the estimate is of the order of the
peak (checked against measured peaks by ``benchmarks/detect_memory.py``), meant to stop
the absurd, not to budget a tight run.

>>> parts = estimate_bytes("ensemble", {}, n_times=2000, metrics_per_entity=[500])
>>> parts["reference"]  # the larger of 8 x 600 fitted, 4 x 1400 scored rows of 20 x 500
448000000
>>> try:
...     check_detect_memory("ensemble", {}, 2000, [500], cap=10**8)
... except ValueError as error:
...     print(error)  # doctest: +NORMALIZE_WHITESPACE
detector ensemble on 2,000 rows x 500 series (an entity of 500 metrics, reference_window
up to 20) needs about 537 MiB, more than --max-memory of 95 MiB: score fewer metrics per
file (split the file) or lower --param reference_window
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kizashi.dl.memory import parse_bytes, size_text

__all__ = ["BYTES_PER_VALUE", "MEMBER_BYTES_PER_VALUE", "OVERHEAD", "available_memory",
           "check_detect_memory", "estimate_bytes", "parse_bytes"]

#: Bytes per value (time step × series) of the engine's own arrays: the frame's values
#: (8), the stream's scores and levels (8 + 8) with their flags (active, learning,
#: protect: 3), the result's scores and levels when training rows are left out (8 + 8)
#: and flags (2), the missing and unscored masks (2), rounded up to 48.
BYTES_PER_VALUE = 48
#: What scoring takes besides, whatever the data: numba's first compilations, scipy's
#: modules loaded on first use, small temporaries (measured 30 to 70 MiB above the
#: estimate's other parts on small files; ``benchmarks/detect_memory.py``).
OVERHEAD = 64 * 2**20
#: Bytes per value of an entity's block while the ensemble's per-metric members (rolling
#: threshold, context, range rule and their likelihoods) score it at once: measured 384
#: (an entity of 1,000 metrics and 2,000 rows with ``reference=false``: 888 MiB).
MEMBER_BYTES_PER_VALUE = 384
#: Arrays of (rows, windows × metrics) float64 per fitted row: one reference's fit holds
#: the windows' reshaped copy and ``nan_to_num``'s (2), the centred rows (1), LAPACK
#: ``gesdd``'s copy of them, its ``Vᵀ`` and its workspace (3) and the kept axes (at most
#: 1; measured 6.0 to 6.8 on random data), and the ensemble fits two more on the halves
#: of the rows for its held-out spread (measured 7.8 per row on 2,000 rows, 10 on 600).
FIT_COPIES = 8
#: The same per scored row: the windows (1), their projection on the axes and the
#: residual (2), one more for ``nan_to_num``'s copy and the stream's (measured 3.8 to 4.5).
#: The larger of the fit's and the scoring's is the peak (the fit's arrays are freed
#: before rows are scored).
SCORE_COPIES = 4


def available_memory(meminfo: str = "/proc/meminfo", cgroups: str = "/proc/self/cgroup",
                     root: str = "/sys/fs/cgroup") -> int | None:
    """Bytes of memory this process may still take: ``MemAvailable`` of ``/proc/meminfo``
    (free memory plus the page cache the kernel can give back), lowered to what its
    control group's limit leaves (a container's limit, a Slurm job's ``--mem``: cgroup v2
    ``memory.max − memory.current``, v1 ``memory.limit_in_bytes − memory.usage_in_bytes``).
    None when unknown: no ``MemAvailable`` line (old kernels; free pages alone would leave
    out the page cache) or a value of 0 (what some containers' ``/proc`` shows).

    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> info = os.path.join(folder, "meminfo")
    >>> _ = open(info, "w").write("MemTotal: 8000000 kB\\nMemAvailable: 2000000 kB\\n")
    >>> available_memory(info, cgroups=os.path.join(folder, "none"))
    2048000000
    """
    try:
        with open(meminfo, encoding="ascii") as lines:
            host = next((int(line.split()[1]) * 1024 for line in lines
                         if line.startswith("MemAvailable:")), None)
    except (OSError, ValueError, IndexError):
        host = None
    if not host or host <= 0:
        return None
    room = _cgroup_room(cgroups, root)
    return host if room is None else max(min(host, room), 0)


def _cgroup_room(cgroups: str, root: str) -> int | None:
    """What the process's memory control group still allows, in bytes, or None (no limit,
    or not found)."""
    try:
        with open(cgroups, encoding="ascii") as lines:
            entries = [line.rstrip("\n").split(":", 2) for line in lines]
    except OSError:
        return None
    rooms = []
    for entry in entries:
        if len(entry) != 3:
            continue
        _, controllers, path = entry
        if controllers == "":  # cgroup v2
            files = ("memory.max", "memory.current")
            folders = [f"{root}{path}", root]
        elif "memory" in controllers.split(","):  # cgroup v1
            files = ("memory.limit_in_bytes", "memory.usage_in_bytes")
            folders = [f"{root}/memory{path}", f"{root}/memory"]
        else:
            continue
        for folder in folders:
            try:
                with open(f"{folder}/{files[0]}", encoding="ascii") as handle:
                    limit_text = handle.read().strip()
                with open(f"{folder}/{files[1]}", encoding="ascii") as handle:
                    used = int(handle.read().strip())
            except (OSError, ValueError):
                continue
            if limit_text != "max" and int(limit_text) < 2**60:  # (v1 writes 2^63 for none)
                rooms.append(int(limit_text) - used)
            break
    return min(rooms) if rooms else None


#: By default (no ``--max-memory``) a run is refused only when its estimate is above this
#: many times the memory available: the estimate is of the order of the peak (above it on
#: an SMD machine fitted on its training rows), meant to stop the absurd, not a run that
#: would just fit.
DEFAULT_MARGIN = 1.5


def _reference_widths(model: Any) -> tuple[int, ...]:
    if not getattr(model, "reference", False) or not hasattr(model, "_reference_windows"):
        return ()
    return tuple(model._reference_windows())


def estimate_bytes(detector: str, params: dict[str, Any], n_times: int,
                   metrics_per_entity: Sequence[int], n_train: int | None = None,
                   fit_fraction: float = 0.3) -> dict[str, int]:
    """Peak bytes of scoring ``n_times`` rows of entities of ``metrics_per_entity``
    metrics with ``detector``: ``overhead``, ``arrays``, ``state``, ``reference`` and
    ``members`` (see the module).

    ``n_train`` is the rows of a training file (None: the first ``fit_fraction`` of the
    rows are fitted on, by a detector that needs training or fixes a reference).
    """
    model = _model(detector, params)
    n_series = int(sum(metrics_per_entity))
    parts = {"overhead": OVERHEAD, "arrays": n_times * n_series * BYTES_PER_VALUE,
             "state": 0, "reference": 0, "members": 0}
    if not model.multivariate and not model.requires_training:
        from kizashi.watch.config import _state_bytes

        parts["state"] = 2 * _state_bytes(model.clone().reset(1).state_) * n_series
    widest = max(metrics_per_entity, default=0)
    widths = _reference_widths(model)
    if widths and widest >= 2:
        if n_train is None:
            fitted = max(int(fit_fraction * n_times), 1)
            scored = n_times - fitted
        else:
            fitted, scored = n_train, n_times
        columns = max(widths) * widest
        parts["reference"] = 8 * columns * max(FIT_COPIES * fitted, SCORE_COPIES * scored)
    if hasattr(model, "_reference_windows"):  # the members, or the reference if larger
        members = MEMBER_BYTES_PER_VALUE * n_times * widest
        parts["members"] = max(members - parts["reference"], 0)
    return parts


def check_detect_memory(detector: str, params: dict[str, Any], n_times: int,
                        metrics_per_entity: Sequence[int], n_train: int | None = None,
                        cap: int | None = None) -> None:
    """Refuse, in one line, a run whose estimate (:func:`estimate_bytes`) is above ``cap``
    (None: :data:`DEFAULT_MARGIN` times :func:`available_memory`; nothing is checked when
    that is unknown).

    Raises
    ------
    ValueError
        Naming the detector, the shape or parameter at fault, the estimate and the cap.
    """
    limit, allowed = "--max-memory of {}", cap
    if cap is None:
        cap, limit = available_memory(), f"{DEFAULT_MARGIN:g} times the {{}} available"
        if cap is None:
            return
        allowed = int(DEFAULT_MARGIN * cap)
    parts = estimate_bytes(detector, params, n_times, metrics_per_entity, n_train)
    need = sum(parts.values())
    if need <= allowed:
        return
    n_series = sum(metrics_per_entity)
    shape = f"{n_times or n_train or 0:,} rows x {n_series:,} series"
    if parts["reference"] >= max(parts["state"], parts["arrays"]):
        widest = max(metrics_per_entity)
        width = max(_reference_widths(_model(detector, params)))
        what = (f"{shape} (an entity of {widest:,} metrics, reference_window up to {width})")
        fix = ("score fewer metrics per file (split the file) or lower --param "
               "reference_window")
    elif parts["state"] >= parts["arrays"]:
        one = parts["state"] // (2 * max(n_series, 1))
        given = ", ".join(f"{k}={v}" for k, v in params.items())
        what = (f"{'with ' + given + ' ' if given else ''}on {n_series:,} series "
                f"({size_text(one)} of state each, kept twice)")
        fix = "lower --param window (or the state's sizes) or split the file"
    else:
        what = shape
        fix = "split the file (fewer rows or series)"
    cap_text = limit.format(size_text(cap))
    raise ValueError(f"detector {detector} {'' if what.startswith(('with', 'on')) else 'on '}"
                     f"{what} needs about {size_text(need)}, more than {cap_text}: "
                     f"{fix}" + (" (--max-memory to override)" if "available" in limit else ""))


def _model(detector: str, params: dict[str, Any]) -> Any:
    """The detector ``detector`` built with ``params`` (not reset: no state allocated)."""
    from kizashi.detectors.registry import create

    return create(detector, **params)
