"""Each torchrun rank trains on its own GPU (LOCAL_RANK), checked without a GPU."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from kizashi.dl.trainer import rank_device  # noqa: E402


@pytest.mark.parametrize(("world", "local", "gpus", "distributed", "expected"), [
    ("4", "3", 4, None, "cuda:3"),     # one GPU per rank
    ("8", "5", 4, None, "cuda:1"),     # more ranks than GPUs: shared round robin
    ("1", "0", 4, None, "cuda:0"),     # alone
    ("4", "3", 4, False, "cuda:0"),    # told not to take part in DDP
])
def test_cuda_without_index_becomes_the_local_ranks_gpu(monkeypatch, world, local, gpus,
                                                          distributed, expected):
    monkeypatch.setenv("WORLD_SIZE", world)
    monkeypatch.setenv("LOCAL_RANK", local)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: gpus)
    assert rank_device(torch.device("cuda"), distributed) == torch.device(expected)


def test_explicit_devices_are_kept(monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "4")
    monkeypatch.setenv("LOCAL_RANK", "3")
    assert rank_device(torch.device("cuda", 2)) == torch.device("cuda", 2)
    assert rank_device(torch.device("cpu")) == torch.device("cpu")
