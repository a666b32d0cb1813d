"""The peer group of each series of a watch, from its labels.

A watch is one query (or one file), so its series are normally one kind of
measurement on many nodes: they are peers of one another. A query that
returns several metrics (``{__name__=~"node_load1|node_load5"}``) splits by
``__name__``, and a detector's ``peers_by: LABEL`` splits each metric's
series further by that label's value (rack, partition, job). A series
without the label forms a group with the others that lack it.

Examples
--------
>>> labels = [{"__name__": "load", "instance": f"n{k}", "rack": "a" if k < 3 else "b"}
...           for k in range(5)]
>>> peer_keys(labels, "rack")
['load/a', 'load/a', 'load/a', 'load/b', 'load/b']
>>> peer_keys([{"series": "node1"}, {"series": "node2"}], None)
['/', '/']
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["peer_keys"]


def peer_keys(labels: Sequence[dict[str, str]], peers_by: str | None) -> list[str]:
    """One peer-group key per series: its metric name and its ``peers_by`` label value."""
    return [f"{m.get('__name__', '')}/{m.get(peers_by, '') if peers_by else ''}"
            for m in labels]
