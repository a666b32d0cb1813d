"""Binary state trees: exact round trips, changed chunks found by brute force, and the
store's incremental writes ending in exactly the last state."""

from __future__ import annotations

import numpy as np
import pytest

from kizashi.state import states_equal
from kizashi.watch.blobstate import changed_chunks, join_tree, split_tree
from kizashi.watch.store import WatchStore

DTYPES = [np.float64, np.float32, np.int64, np.int32, np.bool_, np.uint8]
SHAPES = [(0,), (1,), (7,), (3, 5), (300, 41), (2, 0, 3)]


def _array(rng: np.random.Generator, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    if dtype is np.bool_:
        return rng.random(shape) < 0.5
    if np.issubdtype(dtype, np.floating):
        out = rng.normal(size=shape).astype(dtype)
        out.reshape(-1)[::5] = np.nan
        out.reshape(-1)[1::7] = np.inf
        return out
    return rng.integers(-100, 100, size=shape).astype(dtype)


def _brute_chunks(before: np.ndarray, after: np.ndarray, chunk: int) -> list[int]:
    a, b = before.tobytes(), after.tobytes()
    return [k for k in range(max(1, -(-len(b) // chunk)))
            if a[k * chunk:(k + 1) * chunk] != b[k * chunk:(k + 1) * chunk]]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_round_trip_is_exact_for_every_dtype_and_shape(dtype, shape):
    rng = np.random.default_rng(1)
    tree = {"n_series": 3, "x": _array(rng, dtype, shape), "inner": {"y": float("nan"),
            "z": _array(rng, dtype, shape), "label": "text", "none": None}}
    skeleton, arrays = split_tree(tree)
    assert states_equal(join_tree(skeleton, [a.tobytes() for a in arrays]), tree)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk", [8, 16, 64, 1024])
def test_changed_chunks_equal_a_byte_by_byte_comparison(dtype, chunk):
    rng = np.random.default_rng(2)
    for _ in range(20):
        before = _array(rng, dtype, (37, 11))
        after = before.copy()
        flat = after.reshape(-1)
        for k in rng.integers(0, flat.size, size=rng.integers(0, 6)).tolist():
            flat[k] = _array(rng, dtype, (1,))[0]
        assert changed_chunks(before, after, chunk).tolist() == _brute_chunks(before, after,
                                                                              chunk)


def test_nan_to_nan_is_no_change_but_a_different_nan_payload_is():
    before = np.array([np.nan, 1.0])
    assert changed_chunks(before, before.copy(), 8).tolist() == []
    other = before.copy()
    other.view(np.uint64)[0] ^= 1          # another NaN bit pattern: not bit-equal
    assert changed_chunks(before, other, 8).tolist() == [0]


def test_shape_or_dtype_change_rewrites_every_chunk():
    a = np.zeros(10)
    assert changed_chunks(a, np.zeros(12), 16).tolist() == [0, 1, 2, 3, 4, 5]
    assert changed_chunks(a, np.zeros(10, dtype=np.float32), 16).tolist() == [0, 1, 2]
    assert changed_chunks(None, np.zeros(0)).tolist() == [0]


def test_store_writes_only_changed_chunks_and_loads_the_last_state(tmp_path):
    """A random walk of states (rows changed, columns added and removed): after each
    incremental save, reopening the file gives exactly that state."""
    rng = np.random.default_rng(3)
    path = str(tmp_path / "s.sqlite")
    store = WatchStore(path)
    state = {"n_series": 4000, "window": {"values": rng.normal(size=(50, 4000)),
                                          "count": np.zeros(4000, dtype=np.int64)}}
    previous = None
    for step in range(12):
        with store.transaction():
            written = store.save_tree("w", "d", state, previous)
        full = state["window"]["values"].nbytes + state["window"]["count"].nbytes
        if previous is not None and step % 4 != 3:
            assert written < full / 5      # one row of 50 and the counts changed
        assert states_equal(WatchStore(path).load_tree("w", "d"), state)
        previous = {"n_series": state["n_series"],
                    "window": {k: v.copy() for k, v in state["window"].items()}}
        if step % 4 == 2:                  # columns added: the shape changes
            n = state["n_series"] + 7
            state = {"n_series": n, "window": {
                "values": np.c_[state["window"]["values"], np.zeros((50, 7))],
                "count": np.r_[state["window"]["count"], np.zeros(7, dtype=np.int64)]}}
        else:
            state["window"]["values"][step % 50] = rng.normal(size=state["n_series"])
            state["window"]["count"] += 1


def test_a_rolled_back_save_leaves_the_stored_state(tmp_path):
    path = str(tmp_path / "s.sqlite")
    store = WatchStore(path)
    first = {"x": np.arange(10000.0)}
    with store.transaction():
        store.save_tree("w", "d", first)
    second = {"x": first["x"] + 1}
    with pytest.raises(RuntimeError), store.transaction():
        store.save_tree("w", "d", second, first)
        raise RuntimeError("disk full")
    assert states_equal(store.load_tree("w", "d"), first)
