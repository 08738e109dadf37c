"""Training minibatches drawn from a dataset that lives on the training device.

The uint8 images are copied to the device once (MNIST is 47 MB), so a step never waits for a data
loader: indices, the gather, the conversion to [-1, 1] and flips are a few device kernels, all
driven by one explicit generator. Every process of a distributed run draws the same *global* batch
and keeps its own slice, which makes N processes see exactly what one process would.
"""

from __future__ import annotations

import numpy as np
import torch

from ddpm.errors import DataError
from ddpm.images import images_to_tensor, to_model_range


class DeviceBatches:
    """Random minibatches (with replacement) of images and their conditions, on one device."""

    def __init__(
        self,
        images: np.ndarray,
        cond: torch.Tensor | None,
        batch_size: int,
        device: torch.device,
        generator: torch.Generator,
        hflip: bool = False,
        rank: int = 0,
        world_size: int = 1,
    ):
        if len(images) == 0:
            raise DataError("the training split is empty")
        if batch_size % world_size:
            raise DataError(f"batch size {batch_size} is not divisible by the {world_size} processes")
        self.images = images_to_tensor(images, device)
        self.cond = None if cond is None else cond.to(device)
        self.batch_size = batch_size
        self.device = device
        self.generator = generator
        self.hflip = hflip
        self.shard = slice(rank * batch_size // world_size, (rank + 1) * batch_size // world_size)

    def next(self) -> tuple[torch.Tensor, torch.Tensor | None]:
        """This process's slice of the next global batch: float images in [-1, 1] and conditions."""
        index = torch.randint(0, len(self.images), (self.batch_size,), device=self.device, generator=self.generator)
        flips = torch.rand(self.batch_size, device=self.device, generator=self.generator) < 0.5 if self.hflip else None
        index = index[self.shard]
        x = to_model_range(self.images[index])
        if flips is not None:
            x = torch.where(flips[self.shard].view(-1, 1, 1, 1), x.flip(3), x)
        return x, None if self.cond is None else self.cond[index]
