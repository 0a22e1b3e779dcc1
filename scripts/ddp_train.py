"""The chapter-15 DDP example as a cluster runs it: one process per rank, started by torchrun.

    torchrun --nproc-per-node 2 --master-addr 127.0.0.1 --master-port 29500 scripts/ddp_train.py

On a cluster the same file runs with ``--nnodes N --node-rank i --master-addr <head node>`` (and
``backend="nccl"`` on GPUs). torchrun sets RANK, WORLD_SIZE, MASTER_ADDR and MASTER_PORT; every
rank trains the tiny GPT on its share of each batch under DistributedDataParallel, and rank 0
prints the largest weight difference from one process trained on the whole batch.
"""

from __future__ import annotations

import argparse

import torch
import torch.distributed as dist

from mlbook.distributed import ddp_train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    dist.init_process_group("gloo")  # reads RANK, WORLD_SIZE, MASTER_ADDR/PORT set by torchrun
    try:
        rank, world = dist.get_rank(), dist.get_world_size()
        gap = ddp_train(rank, world, args.steps, args.seed)
        if rank == 0:
            print(f"world_size={world} steps={args.steps} max_gap={gap:.3e}", flush=True)
    finally:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
