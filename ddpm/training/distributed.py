"""Multi-process training with torch.distributed, as started by ``torchrun``.

torchrun sets RANK, LOCAL_RANK and WORLD_SIZE; without them training runs as one process. Each
process drives one GPU (NCCL) or, on the CPU, one gloo process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from ddpm.runtime import resolve_device


@dataclass(frozen=True)
class Process:
    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start(device_name: str) -> tuple[Process, torch.device]:
    """Join the process group if launched by torchrun; return this process and its device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Process(), resolve_device(device_name)
    process = Process(int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0")), world_size)
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", process.local_rank)
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return process, device


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def any_process(flag: bool, process: Process, device: torch.device) -> bool:
    """True if ``flag`` is true in any process (a collective: every process must call it)."""
    if not process.distributed:
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier(process: Process) -> None:
    if process.distributed:
        dist.barrier()


def mean_over_processes(value: torch.Tensor, process: Process) -> torch.Tensor:
    """The mean of ``value`` over all processes (a collective), e.g. of each one's share of the loss."""
    if not process.distributed:
        return value
    value = value.clone()
    dist.all_reduce(value, op=dist.ReduceOp.SUM)
    return value / process.world_size
