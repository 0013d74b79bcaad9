"""torchrun / DistributedDataParallel support: process group from the environment, the
interleaved split of global batches, rank-0 writes, all-reduced sums."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

__all__ = ["DistInfo", "init_distributed", "global_batches", "all_reduce_sums", "barrier",
           "broadcast_flag"]


@dataclass
class DistInfo:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")

    @property
    def main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world > 1


def init_distributed() -> DistInfo:
    """Join the process group torchrun describes (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_*):
    nccl on CUDA, gloo on CPU. Without those variables: one process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) < 2:
        dev = torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")
        return DistInfo(device=dev)
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local = int(os.environ.get("LOCAL_RANK", 0))
    if torch.cuda.is_available():
        torch.cuda.set_device(local)
        dev, backend = torch.device("cuda", local), "nccl"
    else:
        dev, backend = torch.device("cpu"), "gloo"
    if not dist.is_initialized():
        # long timeout: rank 0 alone evaluates the test set after finetuning while the others wait
        dist.init_process_group(backend, rank=rank, world_size=world,
                                timeout=timedelta(hours=3))
    return DistInfo(rank, world, local, dev)


def global_batches(n: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The epoch's global batches: a permutation from (seed, epoch), full batches only."""
    g = torch.Generator().manual_seed(int(seed) * 100_003 + int(epoch))
    perm = torch.randperm(n, generator=g).tolist()
    return [perm[k:k + batch_size] for k in range(0, n - batch_size + 1, batch_size)]


def all_reduce_sums(values: dict, info: DistInfo) -> dict:
    """Sum float values over ranks (a no-op in one process)."""
    if not info.active:
        return values
    keys = sorted(values)
    t = torch.tensor([float(values[k]) for k in keys], dtype=torch.float64, device=info.device)
    dist.all_reduce(t)
    return dict(zip(keys, t.tolist(), strict=True))


def broadcast_flag(flag: bool, info: DistInfo) -> bool:
    """Rank 0's value of ``flag`` on every rank."""
    if not info.active:
        return flag
    t = torch.tensor([int(flag)], device=info.device)
    dist.broadcast(t, 0)
    return bool(t.item())


def barrier(info: DistInfo) -> None:
    if info.active:
        dist.barrier()
