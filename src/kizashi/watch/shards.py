"""Sharding the daemon: N processes (or hosts), each watching the series that hash to it.

``kizashi watch CONFIG --shard i/N`` keeps, of every answer of a watch's
query, the series whose label set hashes to shard ``i`` (:func:`shard_of`: a
stable hash of :func:`~kizashi.watch.sources.series_key`, the same on every
host and Python version). Each shard has its own state file, dashboard and
``/metrics`` — by default the config's ``storage`` with ``.shard-i-of-N``
before its suffix and the ``listen`` port plus ``i`` (``--state`` and
``--listen`` choose others; a port past 65535 that way is an error naming it, and port
0, any free port, stays 0). Univariate detectors score every series on its
own, so N shards together decide and alert exactly as one daemon would. A
watch served by a trained multivariate model needs all its series in one
process: such a watch goes whole to the shard its name hashes to.

Examples
--------
>>> shard_of({"instance": "node1:9100", "__name__": "node_load1"}, 4)
2
>>> labels = [{"instance": f"n{k}"} for k in range(1000)]
>>> sizes = [int(shard_mask(labels, (i, 2)).sum()) for i in range(2)]
>>> sum(sizes), all(400 < s < 600 for s in sizes)
(1000, True)
>>> shard_paths("state/watch.sqlite", "127.0.0.1:9464", (1, 3))
('state/watch.shard-1-of-3.sqlite', '127.0.0.1:9465')
>>> shard_paths("watch.sqlite", "127.0.0.1:0", (1, 3))[1]    # any free port stays so
'127.0.0.1:0'
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from kizashi.watch.sources import series_key

__all__ = ["shard_mask", "shard_of", "shard_paths"]


def _hash(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "big")


def shard_of(labels: dict[str, str] | str, n: int) -> int:
    """The shard (0 … n-1) of a series (its labels, or its key)."""
    key = labels if isinstance(labels, str) else series_key(labels)
    return _hash(key) % int(n)


def shard_mask(labels: list[dict[str, str]], shard: tuple[int, int],
               keys: list[str] | None = None) -> np.ndarray:
    """Per series, whether it belongs to ``shard`` = ``(i, n)``."""
    i, n = shard
    if n <= 1:
        return np.ones(len(labels), dtype=bool)
    keys = [series_key(item) for item in labels] if keys is None else keys
    return np.fromiter((_hash(k) % n == i for k in keys), dtype=bool, count=len(keys))


def shard_paths(storage: str, listen: str | None, shard: tuple[int, int]) -> tuple[str, str | None]:
    """The default state file and listen address of a shard (unchanged for ``0/1``)."""
    i, n = shard
    if n <= 1:
        return storage, listen
    path = Path(storage)
    storage = str(path.with_name(f"{path.stem}.shard-{i}-of-{n}{path.suffix}"))
    if listen:
        host, _, port = listen.rpartition(":")
        if port.isdigit() and int(port) > 0:   # 0: any free port, for every shard
            if int(port) + i > 65535:
                raise ValueError(f"listen {listen} plus shard {i} of {n} is port "
                                 f"{int(port) + i}, past 65535: give this shard --listen "
                                 f"HOST:PORT (or a lower listen port)")
            listen = f"{host}:{int(port) + i}"
    return storage, listen
