"""A state tree as binary chunks: what changed since the last save is all that is written.

The daemon's state per watch and detector is a tree of dicts whose leaves are
numpy arrays and plain scalars. :func:`split_tree` cuts it into a *skeleton*
(JSON text: the tree with each array replaced by its number, dtype and shape)
and the list of arrays. Each array's bytes are stored in fixed-size chunks
(:data:`CHUNK` bytes); :func:`changed_chunks` compares an array with the copy
that was saved last and names the chunks that differ, so a tick writes only
those — for a ring buffer with one new row per step, about one row.

Examples
--------
>>> import numpy as np
>>> tree = {"n_series": 2, "window": {"values": np.zeros((3, 2)), "count": np.array([1, 1])}}
>>> skeleton, arrays = split_tree(tree)
>>> skeleton
'{"n_series": 2, "window": {"count": {"__leaf__": 0, "dtype": "<i8", "shape": [2]}, \
"values": {"__leaf__": 1, "dtype": "<f8", "shape": [3, 2]}}}'
>>> back = join_tree(skeleton, [a.tobytes() for a in arrays])
>>> back["window"]["values"].shape, back["window"]["count"].tolist()
((3, 2), [1, 1])
>>> after = arrays[1].copy()
>>> after[2, :] = 5.0
>>> changed_chunks(arrays[1], after, chunk=16).tolist()    # bytes 32..47: chunk 2
[2]
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from kizashi.state import from_json_safe, to_json_safe

__all__ = ["CHUNK", "changed_chunks", "chunk_bytes", "join_tree", "split_tree"]

#: Bytes per stored chunk of an array.
CHUNK = 1 << 16
_LEAF = "__leaf__"


def split_tree(tree: Any) -> tuple[str, list[np.ndarray]]:
    """``(skeleton JSON, arrays)``: the arrays in the order their leaf numbers give."""
    arrays: list[np.ndarray] = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):   # sorted: the same tree numbers its arrays alike
            return {str(k): walk(node[k]) for k in sorted(node, key=str)}
        if isinstance(node, np.ndarray):
            if node.dtype == object:
                raise TypeError("object arrays cannot be part of a state")
            arrays.append(np.ascontiguousarray(node))
            return {_LEAF: len(arrays) - 1, "dtype": node.dtype.str, "shape": list(node.shape)}
        return to_json_safe(node)

    return json.dumps(walk(tree), sort_keys=True), arrays


def join_tree(skeleton: str, blobs: list[bytes]) -> Any:
    """The tree back from its skeleton and each array's bytes (in leaf order)."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict) and _LEAF in node:
            data = blobs[int(node[_LEAF])]
            dtype = np.dtype(node["dtype"])
            shape = tuple(int(s) for s in node["shape"])
            count = int(np.prod(shape, dtype=np.int64))
            if len(data) != count * dtype.itemsize:
                raise ValueError(f"stored array {node[_LEAF]} has {len(data)} bytes, its shape "
                                 f"{shape} needs {count * dtype.itemsize}")
            return np.frombuffer(data, dtype=dtype).reshape(shape).copy()
        if isinstance(node, dict) and not any(k.startswith("__") for k in node):
            return {k: walk(v) for k, v in node.items()}
        return from_json_safe(node)

    return walk(json.loads(skeleton))


def n_chunks(array: np.ndarray, chunk: int = CHUNK) -> int:
    """How many chunks hold ``array``'s bytes (at least one, even when empty)."""
    return max(1, -(-array.nbytes // chunk))


def chunk_bytes(array: np.ndarray, index: int, chunk: int = CHUNK) -> bytes:
    """Bytes of chunk ``index`` of ``array`` (C order)."""
    raw = memoryview(np.ascontiguousarray(array)).cast("B")
    return bytes(raw[index * chunk:(index + 1) * chunk])


def changed_chunks(before: np.ndarray | None, after: np.ndarray,
                   chunk: int = CHUNK) -> np.ndarray:
    """Chunks of ``after`` whose bytes differ from ``before`` (all of them when the shape
    or dtype changed, or there was no ``before``)."""
    if (before is None or before.shape != after.shape or before.dtype != after.dtype):
        return np.arange(n_chunks(after, chunk))
    if not after.nbytes:
        return np.zeros(0, dtype=np.int64)
    a = np.ascontiguousarray(before).reshape(-1)
    b = np.ascontiguousarray(after).reshape(-1)
    width = next(w for w in (8, 4, 2, 1) if a.nbytes % w == 0 and chunk % w == 0)
    kind = {8: np.uint64, 4: np.uint32, 2: np.uint16, 1: np.uint8}[width]
    differ = np.flatnonzero(a.view(kind) != b.view(kind))
    if not differ.size:
        return np.zeros(0, dtype=np.int64)
    return np.unique(differ * width // chunk)
