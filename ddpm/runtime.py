"""Where and how fast networks run: device choice, bf16 autocast, channels-last, torch.compile.

The fast path is the default on CUDA and off on the CPU, where the tests run: bf16 matrix units and
NHWC convolutions are GPU features, and compiling costs more than a short CPU run gains.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import time
from typing import Any, Callable, ContextManager, Iterator

import torch
from torch import nn
from torch.utils import deterministic as deterministic_settings

from ddpm.errors import ConfigError

PRECISIONS = ("auto", "fp32", "bf16")
SWITCHES = ("auto", "on", "off")


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} was asked for but CUDA is not available here; use device: auto or cpu")
    return device


def uses_bf16(device: torch.device, precision: str) -> bool:
    if precision not in PRECISIONS:
        raise ConfigError(f"unknown precision {precision!r}; use one of {', '.join(PRECISIONS)}")
    return precision == "bf16" or (precision == "auto" and device.type == "cuda")


def autocast(device: torch.device, precision: str) -> ContextManager:
    """bf16 autocast where asked for (float32 master weights and losses stay in float32)."""
    if uses_bf16(device, precision):
        return torch.autocast(device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


@contextlib.contextmanager
def deterministic_kernels(device: torch.device | str, on: bool = True) -> Iterator[None]:
    """Inside the block (when ``on``), only kernels that give the same bits on every run; the
    process's settings are restored after.

    Floating-point sums depend on their order, so a kernel that accumulates with atomics (a cuDNN
    weight gradient split over blocks, an index_put backward, attention backward) or a kernel
    configuration that Inductor picks by timing candidates on a busy GPU makes two trainings of one
    seed differ from the first steps; thousands of steps later they are different models. Inside the
    block the same work on GPUs of the same kind gives the same weights bit for bit.
    ``warn_only``: an operation without a deterministic kernel warns (naming itself) rather than
    stopping the run. Attention runs on the math backend (matmul, softmax, matmul; Inductor fuses it),
    whose backward has no atomics: the fused attention kernels' backward accumulates with them.
    """
    if not on:
        yield
        return
    from torch._inductor import config as inductor_config  # noqa: PLC0415 (loads Inductor only when needed)

    if torch.device(device).type == "cuda":
        # cuBLAS reads this when it creates its workspace (the first matmul of the process).
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    cuda = torch.backends.cuda
    # (read, write, the value inside the block) of each process-wide setting.
    settings = [
        (
            lambda: (torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()),
            lambda value: torch.use_deterministic_algorithms(value[0], warn_only=value[1]),
            (True, True),
        ),
        (*_attribute(torch.backends.cudnn, "deterministic"), True),
        (*_attribute(torch.backends.cudnn, "benchmark"), False),
        # No on-device benchmarking of kernel configurations where the choice changes the numerics.
        (*_attribute(inductor_config, "deterministic"), True),
        (cuda.flash_sdp_enabled, cuda.enable_flash_sdp, False),
        (cuda.mem_efficient_sdp_enabled, cuda.enable_mem_efficient_sdp, False),
        (cuda.cudnn_sdp_enabled, cuda.enable_cudnn_sdp, False),
        # Deterministic mode would also fill every new tensor with NaN, a debugging aid that costs a
        # memory pass per buffer of a training step; nothing here reads memory before writing it.
        (*_attribute(deterministic_settings, "fill_uninitialized_memory"), False),
    ]
    saved = [read() for read, _, _ in settings]
    try:
        for _, write, value in settings:
            write(value)
        yield
    finally:
        for (_, write, _), value in zip(settings, saved):
            write(value)


@contextlib.contextmanager
def tf32(enabled: bool) -> Iterator[None]:
    """Inside the block, CUDA's float32 matmuls and convolutions use TF32 (``enabled``) or full
    float32; the process's settings are restored after."""
    saved = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def _attribute(owner: object, name: str) -> tuple[Callable[[], Any], Callable[[Any], None]]:
    """Read and write functions of ``owner.name``."""
    return (lambda: getattr(owner, name)), (lambda value: setattr(owner, name, value))


def switch_on(setting: str, device: torch.device) -> bool:
    if setting not in SWITCHES:
        raise ConfigError(f"unknown switch value {setting!r}; use one of {', '.join(SWITCHES)}")
    return setting == "on" or (setting == "auto" and device.type == "cuda")


def memory_format(device: torch.device) -> torch.memory_format:
    """Channels-last on CUDA: cuDNN's bf16 convolutions run natively in NHWC."""
    return torch.channels_last if device.type == "cuda" else torch.contiguous_format


def place(model: nn.Module, device: torch.device) -> nn.Module:
    model = model.to(device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    return model


def maybe_compile(model: nn.Module, device: torch.device, setting: str = "auto", cuda_graphs: bool = False) -> nn.Module:
    """torch.compile where switched on; ``cuda_graphs`` also replays each step as one CUDA graph.

    CUDA graphs matter for training at modest batch sizes: a compiled U-Net step still launches
    ~1500 kernels, and without graphs the CPU cannot issue them as fast as the GPU runs them
    (see docs/performance.md).
    A caller using graphs must call :func:`mark_step` before each step.
    """
    if not switch_on(setting, device):
        return model
    if device.type == "cuda":
        # TF32 for whatever still runs in float32 outside autocast (the loss, the optimizer).
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    return torch.compile(model, mode="reduce-overhead" if cuda_graphs and device.type == "cuda" else None)


def mark_step() -> None:
    """Tell CUDA-graph trees that a new iteration starts (earlier outputs may be overwritten)."""
    torch.compiler.cudagraph_mark_step_begin()


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op off CUDA)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds_per_call(fn: Callable[[], object], device: torch.device, iters: int, repeats: int) -> float:
    """Median wall seconds per call of ``fn`` over ``repeats`` blocks of ``iters`` calls, the device
    synchronised around each block (the benchmarks' timer; the caller has warmed ``fn`` up)."""
    times = []
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        synchronize(device)
        times.append((time.perf_counter() - start) / iters)
    return statistics.median(times)
