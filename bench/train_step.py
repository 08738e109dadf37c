"""The training step the speed benchmarks time, and the backend settings they time it under.

bench/benchmark_unet.py times this step for every column; bench/profile_train.py profiles the
same step, so that a profile explains the benchmark's number rather than a step of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from ddpm.config import DiffusionConfig
from ddpm.factory import build_diffusion
from ddpm.runtime import autocast, mark_step
from ddpm.training.ema import EMA


def benchmark_backends(device: torch.device) -> None:
    """cudnn.benchmark and TF32 on, for every configuration alike (a no-op off CUDA)."""
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True


@dataclass
class Prepared:
    """A network set up one way: ``forward`` is what is called, ``raw`` holds the parameters."""

    raw: torch.nn.Module
    forward: Callable[..., torch.Tensor]
    layout: torch.memory_format
    cuda_graphs: bool


class TrainStep:
    """The trainer's step (ddpm.training.loop._Run._train_step) on random images held on the device:
    the eps loss under autocast, backward, gradient clipping at 1, fused AdamW (on CUDA) and an EMA
    update; ``clip_and_ema=False`` leaves out the clipping and the EMA (eager work outside the graphs)."""

    def __init__(
        self, prepared: Prepared, device: torch.device, image_shape: tuple[int, int, int], batch: int,
        precision: str = "auto", seed: int = 1, clip_and_ema: bool = True,
    ):  # fmt: skip
        self.prepared, self.device, self.batch, self.precision = prepared, device, batch, precision
        self.objective = build_diffusion(DiffusionConfig())
        self.optimizer = torch.optim.AdamW(prepared.raw.parameters(), lr=2e-4, fused=device.type == "cuda")
        self.ema = EMA(prepared.raw, 0.9999) if clip_and_ema else None
        self.generator = torch.Generator(device).manual_seed(seed)
        self.images = torch.rand(max(1024, batch), *image_shape, device=device, generator=self.generator) * 2 - 1

    def __call__(self) -> torch.Tensor:
        idx = torch.randint(0, len(self.images), (self.batch,), device=self.device, generator=self.generator)
        x = self.images[idx].contiguous(memory_format=self.prepared.layout)
        draws = self.objective.draw_training_randomness(self.batch, tuple(x.shape[1:]), self.device, self.generator)
        if self.prepared.cuda_graphs:
            mark_step()
        with autocast(self.device, self.precision):
            loss = self.objective.training_losses(self.prepared.forward, x, **draws).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.ema is not None:  # the full step: clipping before the update, the EMA after it
            torch.nn.utils.clip_grad_norm_(self.prepared.raw.parameters(), 1.0)
        self.optimizer.step()
        if self.ema is not None:
            self.ema.update(self.prepared.raw)
        return loss.detach()
