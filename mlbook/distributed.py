"""Data, tensor and fully-sharded parallelism with the real engine (chapter 15).

``torch.distributed`` with the gloo backend, several processes on this machine talking over
127.0.0.1 only: the code a cluster runs, launched here by :func:`launch` (``torch.multiprocessing``,
processes started and joined within the call) or by ``torchrun`` (``scripts/ddp_train.py``).
"""

from __future__ import annotations

import copy
import math
import os
import socket
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel as DDP

from mlbook._checks import nonneg_int, one_of, positive_int
from mlbook.core import generator
from mlbook.gpt import GPT, GPTConfig

__all__ = ["ddp_max_gap", "ddp_train", "launch", "parallel_report", "tiny_gpt"]

BATCH = 16  # the global batch: divisible by 1, 2, 4, 8 and 16 processes
CONFIG = GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=32)


def tiny_gpt(seed: int = 0) -> GPT:
    """The small GPT every process builds, initialised from the book's ``seed`` (GPT-2 scale)."""
    model = GPT(CONFIG)
    g = generator(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0.0, 0.02, generator=g)
    return model


def _batches(steps: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``steps`` global batches of token windows (steps, BATCH, T) and next-token targets."""
    ids = torch.randint(CONFIG.vocab_size, (steps, BATCH, CONFIG.block_size + 1),
                        generator=generator(seed + 1))  # fmt: skip
    return ids[..., :-1], ids[..., 1:]


def _train(model, x, y, shard: slice) -> list[float]:
    """SGD steps (momentum 0.9) on the rows ``shard`` of each global batch; the loss is the
    shard's mean. SGD is linear in the gradient, so DDP's rounding stays at float32's level; Adam
    divides by √v and turns sign flips of near-zero gradients into differences of a whole lr."""
    opt = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    losses = []
    for xb, yb in zip(x, y, strict=True):
        logits = model(xb[shard])
        loss = F.cross_entropy(logits.flatten(0, 1), yb[shard].flatten())
        opt.zero_grad(set_to_none=True)
        loss.backward()  # under DDP: gradients all-reduced (averaged) across processes here
        opt.step()
        losses.append(loss.item())
    return losses


def ddp_train(rank: int, world_size: int, steps: int = 3, seed: int = 0) -> float | None:
    """One process of the DDP example (the process group must exist): train the tiny GPT with
    DDP on this rank's 1/world_size of every batch; rank 0 also trains a plain copy on the whole
    batch and returns the largest absolute weight difference (other ranks return None)."""
    model = tiny_gpt(seed)
    reference = copy.deepcopy(model)
    ddp = DDP(model)
    per = BATCH // world_size
    x, y = _batches(steps, seed)
    _train(ddp, x, y, slice(rank * per, (rank + 1) * per))
    if rank != 0:
        return None
    _train(reference, x, y, slice(None))
    pairs = zip(model.parameters(), reference.parameters(), strict=True)
    return max((a - b).abs().max().item() for a, b in pairs)


def _tensor_parallel_gap(rank: int, world_size: int, seed: int) -> float:
    """Megatron's MLP split: W1 by columns, W2 by rows; the all-reduced sum equals the full MLP."""
    g = generator(seed + 2)
    d, h = 32, 128
    x, w1, w2 = (
        torch.randn(8, d, generator=g),
        torch.randn(d, h, generator=g),
        torch.randn(h, d, generator=g),
    )
    cols = slice(rank * h // world_size, (rank + 1) * h // world_size)
    y = F.gelu(x @ w1[:, cols]) @ w2[cols]  # this process's partial sum, no communication yet
    dist.all_reduce(y)  # one all-reduce per MLP in the forward pass
    full = F.gelu(x @ w1) @ w2
    return ((y - full).abs().max() / full.abs().max()).item()  # relative to the largest output


def _allreduce_seconds(sizes: list[int], repeat: int = 7) -> list[float]:
    """The fastest of ``repeat`` all-reduces of each size, the sizes taken in turn in each round
    (as in :func:`mlbook.core.compare_times`): the minimum drops the delays other processes on a
    busy machine add, which swamp the microseconds of a small message, and a delay that lasts
    falls on every size rather than on the one measured then."""
    tensors = [torch.ones(n) for n in sizes]
    for t in tensors:
        dist.all_reduce(t)  # warm-up
    best = [math.inf] * len(sizes)
    for _ in range(repeat):
        for i, t in enumerate(tensors):
            dist.barrier()
            start = time.perf_counter()
            dist.all_reduce(t)
            best[i] = min(best[i], time.perf_counter() - start)
    return best


def _fsdp_share(rank: int, world_size: int, seed: int) -> float:
    """FSDP2 (``fully_shard``) on the CPU: the share of the model's weights this rank stores."""
    from torch.distributed.fsdp import fully_shard

    model = tiny_gpt(seed)
    total = sum(p.numel() for p in model.parameters())
    for block in model.blocks:
        fully_shard(block)
    fully_shard(model)
    local = sum(p.to_local().numel() for p in model.parameters())
    x, y = _batches(1, seed)
    per = BATCH // world_size
    loss = F.cross_entropy(model(x[0, rank * per : (rank + 1) * per]).flatten(0, 1),
                           y[0, rank * per : (rank + 1) * per].flatten())  # fmt: skip
    loss.backward()  # gathers the weights layer by layer, then reduce-scatters the gradients
    return local / total


def _report(rank: int, world_size: int, steps: int, seed: int, sizes: list[int]) -> dict | None:
    out = dict(ddp_gap=ddp_train(rank, world_size, steps, seed))
    out["tp_gap"] = _tensor_parallel_gap(rank, world_size, seed)
    out["allreduce_seconds"] = _allreduce_seconds(sizes)
    out["fsdp_share"] = _fsdp_share(rank, world_size, seed)
    return out if rank == 0 else None


def _entry(rank, world_size, port, fn, args, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=world_size)
    try:
        result = fn(rank, world_size, *args)
        if rank == 0:
            queue.put(result)
        dist.barrier()
    finally:
        dist.destroy_process_group()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch(fn, world_size: int, *args, timeout: float = 120.0, start_method: str = "fork"):
    """Run ``fn(rank, world_size, *args)`` in ``world_size`` new processes joined in a gloo
    process group on 127.0.0.1; returns rank 0's result. Every process is joined (or killed on
    failure or timeout) before this returns, so none is left behind.

    ``fork`` (the default on Linux) copies this process, so the children need not import torch
    again (seconds each on a busy machine); each child runs on one thread, as DataLoader workers
    do. ``spawn`` starts fresh interpreters (the only choice on macOS and Windows)."""
    world_size = positive_int(world_size, "world_size")
    one_of(start_method, "start_method", mp.get_all_start_methods())
    ctx = mp.get_context(start_method)
    if start_method == "fork":  # DDP imports torch._dynamo (seconds): once here, not per child
        import torch._dynamo  # noqa: F401

    queue = ctx.SimpleQueue()
    port = _free_port()
    procs = [ctx.Process(target=_entry, args=(r, world_size, port, fn, args, queue))
             for r in range(world_size)]  # fmt: skip
    for p in procs:
        p.start()
    deadline = time.monotonic() + timeout
    try:
        for p in procs:
            p.join(max(deadline - time.monotonic(), 0.1))
        failed = [p.exitcode for p in procs if p.exitcode != 0]
        if failed:
            raise RuntimeError(f"distributed run failed or timed out: exit codes {failed}")
        return queue.get()
    finally:
        for p in procs:
            if p.is_alive():
                p.kill()
                p.join()


def ddp_max_gap(world_size: int = 2, steps: int = 3, seed: int = 0) -> float:
    """Train the tiny GPT ``steps`` SGD steps with DistributedDataParallel in ``world_size``
    gloo processes (each on its share of the batch) and in one process on the whole batch;
    returns the largest absolute difference of the weights (float rounding only)."""
    world_size = positive_int(world_size, "world_size")
    if BATCH % world_size:
        raise ValueError(f"world_size must divide the batch of {BATCH}, got {world_size}")
    steps, seed = positive_int(steps, "steps"), nonneg_int(seed, "seed")
    return launch(ddp_train, world_size, steps, seed)


def parallel_report(world_size: int = 4, steps: int = 3, seed: int = 0, sizes=None) -> dict:
    """One launch of ``world_size`` processes that measures: ``ddp_gap`` (as :func:`ddp_max_gap`),
    ``tp_gap`` (column/row-split MLP against the full one, relative to its largest output),
    ``allreduce_seconds`` (an all-reduce of each of ``sizes`` float32 numbers, fastest of 7) and
    ``fsdp_share`` (the share of the weights rank 0 stores under FSDP)."""
    world_size = positive_int(world_size, "world_size")
    if BATCH % world_size:
        raise ValueError(f"world_size must divide the batch of {BATCH}, got {world_size}")
    steps, seed = positive_int(steps, "steps"), nonneg_int(seed, "seed")
    sizes = (
        [2**e for e in range(8, 23, 2)]
        if sizes is None
        else [positive_int(n, "size") for n in sizes]
    )
    return launch(_report, world_size, steps, seed, sizes)
