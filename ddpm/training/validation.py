"""The diffusion loss of a model on held-out images (validation during training, test loss after)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ddpm.diffusion import GaussianDiffusion
from ddpm.images import images_to_tensor, to_model_range
from ddpm.runtime import autocast, memory_format
from ddpm.toy_diffusion import ToyDiffusion


@torch.no_grad()
def mean_loss(
    model: nn.Module,
    objective: GaussianDiffusion | ToyDiffusion,
    images: np.ndarray,
    cond: torch.Tensor | None,
    *,
    batch_size: int,
    seed: int,
    device: torch.device,
    precision: str = "auto",
    max_batches: int | None = None,
) -> float:
    """Mean per-image loss over the first ``max_batches`` batches (all images if None).

    Timesteps and noise come from a generator seeded with ``seed``, so repeated evaluations of
    different checkpoints see the same (image, t, noise) triples and are directly comparable.
    """
    was_training = model.training
    model.eval()
    generator = torch.Generator(device).manual_seed(seed)
    data = images_to_tensor(images, device)
    cond = None if cond is None else cond.to(device)
    count = len(data) if max_batches is None else min(len(data), max_batches * batch_size)
    total = torch.zeros((), device=device, dtype=torch.float64)
    for start in range(0, count, batch_size):
        stop = min(start + batch_size, count)
        x = to_model_range(data[start:stop]).contiguous(memory_format=memory_format(device))
        draws = objective.draw_training_randomness(stop - start, tuple(x.shape[1:]), device, generator)
        kwargs = {} if cond is None else {"cond": cond[start:stop]}
        with autocast(device, precision):
            total += objective.training_losses(model, x, **draws, **kwargs).double().sum()
    model.train(was_training)
    return (total / count).item()
