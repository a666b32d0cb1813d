"""``python -m kizashi.train CONFIG --out DIR [--resume]``: the entry point torchrun launches.

``torchrun --nproc_per_node=2 -m kizashi.train examples/train-smd.yaml --out runs/x``
trains data-parallel (DistributedDataParallel; gloo on CPU, nccl on GPU); the
same flags as ``kizashi train``. Multi-node works with torchrun's usual
``--nnodes``/``--rdzv-endpoint`` flags.
"""

from __future__ import annotations

from kizashi.cli.train import train

if __name__ == "__main__":
    train(prog_name="python -m kizashi.train")
