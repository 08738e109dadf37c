"""Checks that a diverged model never reaches a checkpoint, a sample file or a metric.

A weight whose magnitude exceeds :data:`MAX_ABS_WEIGHT` counts as exploded: AdamW moves a weight by
at most about ``lr`` per step, so a healthy training (lr around 1e-4, tens of thousands of steps)
stays orders of magnitude below it, while a diverged one reaches 1e30 and beyond. A set of sampled
images in which every pixel sits on the clamp bounds (0 or 255) is what a network with exploded
outputs produces; the samples of a working model always hold intermediate values somewhere.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ddpm.errors import TrainingDivergedError

MAX_ABS_WEIGHT = 1e4


def largest_weight(module: nn.Module) -> float:
    """The largest |value| over a module's parameters and floating-point buffers (one host sync)."""
    tensors = [t for t in (*module.parameters(), *module.buffers()) if t.is_floating_point() and t.numel()]
    if not tensors:
        return 0.0
    return torch.stack([t.detach().abs().max().float() for t in tensors]).max().item()


def check_weights(module: nn.Module, what: str) -> None:
    """Raise :class:`TrainingDivergedError` if ``module`` holds a non-finite or exploded weight."""
    largest = largest_weight(module)
    if not np.isfinite(largest) or largest > MAX_ABS_WEIGHT:
        raise TrainingDivergedError(f"{what}: a weight became {largest:.3g} (limit {MAX_ABS_WEIGHT:g}); the training diverged")


def check_finite_samples(images: np.ndarray | torch.Tensor, what: str = "samples") -> None:
    """Raise :class:`TrainingDivergedError` for samples a diverged model made.

    Float images (any range) must be finite; uint8 images must not all lie on 0 or 255.
    """
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    if array.size == 0:
        return
    if np.issubdtype(array.dtype, np.floating):
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise TrainingDivergedError(
                f"{what}: {bad} of {array.size} values are NaN or infinite; the model diverged, retrain it (lower training.lr)"
            )
        return
    if array.dtype == np.uint8 and not np.any((array > 0) & (array < 255)):
        raise TrainingDivergedError(
            f"{what}: every pixel of all {len(array)} images is 0 or 255, the output of a diverged model; "
            "retrain it (lower training.lr)"
        )
