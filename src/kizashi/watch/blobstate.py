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
from dataclasses import dataclass
from typing import Any

import numpy as np

from kizashi.state import from_json_safe, to_json_safe

__all__ = ["CHUNK", "ChunkHint", "changed_chunks", "chunk_bytes", "join_tree", "split_tree"]

#: Bytes per stored chunk of an array.
CHUNK = 1 << 16
_LEAF = "__leaf__"


@dataclass(frozen=True)
class ChunkHint:
    """Stands for an array in a *previous* tree: its shape and dtype then, and which of
    its chunks changed since (``None``: all of them), when the caller knows already."""

    shape: tuple[int, ...]
    dtype: str
    chunks: np.ndarray | None = None


def split_tree(tree: Any) -> tuple[str, list[Any]]:
    """``(skeleton JSON, arrays)``: the arrays in the order their leaf numbers give.

    A previous tree may hold :class:`ChunkHint` objects where arrays were.
    """
    arrays: list[Any] = []

    def walk(node: Any) -> Any:
        if isinstance(node, dict):   # sorted: the same tree numbers its arrays alike
            return {str(k): walk(node[k]) for k in sorted(node, key=str)}
        if isinstance(node, ChunkHint):
            arrays.append(node)
            return {_LEAF: len(arrays) - 1, "dtype": node.dtype, "shape": list(node.shape)}
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


def n_chunks(array: np.ndarray | ChunkHint, chunk: int = CHUNK) -> int:
    """How many chunks hold ``array``'s bytes (at least one, even when empty)."""
    if isinstance(array, ChunkHint):
        nbytes = int(np.prod(array.shape, dtype=np.int64)) * np.dtype(array.dtype).itemsize
        return max(1, -(-nbytes // chunk))
    return max(1, -(-array.nbytes // chunk))


def chunks_of(before: np.ndarray, after: np.ndarray, full_shape: tuple[int, ...], axis: int,
              start: int, chunk: int = CHUNK) -> np.ndarray:
    """Chunks of a whole array whose bytes changed, from one slice of it before and after.

    ``before``/``after`` are the series ``start:`` … of an array of ``full_shape``
    (sliced along ``axis``); returns the chunk numbers of the whole array that hold
    changed elements.

    >>> whole = np.zeros((4, 6))
    >>> after = whole[:, 2:4].copy()
    >>> after[3, 1] = 1.0                          # element (3, 3): byte 8 * 21 = 168
    >>> chunks_of(whole[:, 2:4], after, (4, 6), 1, 2, chunk=64).tolist()
    [2]
    """
    width = before.dtype.itemsize
    kind = {8: np.uint64, 4: np.uint32, 2: np.uint16, 1: np.uint8}.get(width)
    if kind is None or before.shape != after.shape:
        return np.arange(max(1, -(-int(np.prod(full_shape)) * width // chunk)))
    differ = np.nonzero(before.view(kind) != after.view(kind))
    if not differ[0].size:
        return np.zeros(0, dtype=np.int64)
    index = list(differ)
    index[axis] = index[axis] + start
    flat = np.ravel_multi_index(tuple(index), full_shape)
    return np.unique(flat * width // chunk)


def chunk_bytes(array: np.ndarray, index: int, chunk: int = CHUNK) -> bytes:
    """Bytes of chunk ``index`` of ``array`` (C order)."""
    raw = memoryview(np.ascontiguousarray(array)).cast("B")
    return bytes(raw[index * chunk:(index + 1) * chunk])


def changed_chunks(before: np.ndarray | ChunkHint | None, after: np.ndarray,
                   chunk: int = CHUNK) -> np.ndarray:
    """Chunks of ``after`` whose bytes differ from ``before`` (all of them when the shape
    or dtype changed, or there was no ``before``; a :class:`ChunkHint`'s own list)."""
    if isinstance(before, ChunkHint):
        if (tuple(before.shape) != after.shape or np.dtype(before.dtype) != after.dtype
                or before.chunks is None or chunk != CHUNK):
            return np.arange(n_chunks(after, chunk))
        return np.asarray(before.chunks, dtype=np.int64)
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
