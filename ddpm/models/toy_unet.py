"""The small U-Net of the Diffusion Playground's "toy" diffusion.

It predicts the clean image directly from a corrupted one and is given no timestep or noise level:
it has to judge from the image itself how much noise there is. Three 5x5 convolutions with 2x2
max-pooling on the way down, three with nearest-neighbour upsampling on the way up, and additive
skip connections between the two paths. Image sizes must be divisible by 4.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ddpm.errors import ConfigError


class ToyUNet(nn.Module):
    def __init__(self, image_channels: int, image_size: tuple[int, int], channels: Sequence[int] = (32, 64, 64)):
        super().__init__()
        if len(channels) != 3:
            raise ConfigError(f"the toy U-Net has exactly 3 levels; got channels {list(channels)}")
        if image_size[0] % 4 or image_size[1] % 4:
            raise ConfigError(f"the toy U-Net needs image sizes divisible by 4, got {image_size[0]}x{image_size[1]}")
        c1, c2, c3 = channels
        self.image_channels = image_channels
        self.down = nn.ModuleList(
            [nn.Conv2d(image_channels, c1, 5, padding=2), nn.Conv2d(c1, c2, 5, padding=2), nn.Conv2d(c2, c3, 5, padding=2)]
        )
        self.up = nn.ModuleList(
            [nn.Conv2d(c3, c2, 5, padding=2), nn.Conv2d(c2, c1, 5, padding=2), nn.Conv2d(c1, image_channels, 5, padding=2)]
        )

    conditioning = "none"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for i, conv in enumerate(self.down):
            x = F.silu(conv(x))
            if i < 2:
                skips.append(x)
                x = F.max_pool2d(x, 2)
        for i, conv in enumerate(self.up):
            if i > 0:
                x = F.interpolate(x, scale_factor=2.0, mode="nearest") + skips.pop()
            x = conv(x)
            # No activation after the last layer: the output is an image in [-1, 1].
            if i < 2:
                x = F.silu(x)
        return x
