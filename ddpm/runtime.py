"""Where and how fast networks run: device choice, bf16 autocast, channels-last, torch.compile.

The fast path is the default on CUDA and off on the CPU, where the tests run: bf16 matrix units and
NHWC convolutions are GPU features, and compiling costs more than a short CPU run gains.
"""

from __future__ import annotations

import contextlib
from typing import ContextManager

import torch
from torch import nn

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
