"""The small U-Net of the Diffusion Playground's "toy" diffusion.

It predicts the clean image directly from a corrupted one and is given no timestep or noise level:
it has to judge from the image itself how much noise there is. Three levels down (2x2 max-pooling
between them) and three up (nearest-neighbour upsampling between them), each level two 3x3
convolutions, as the seed describes it: two 3x3 convolutions see as far as one 5x5 with fewer
weights and one more non-linearity. Additive skip connections join the two paths. Image sizes
must be divisible by 4.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ddpm.errors import ConfigError
from ddpm.models.layers import upsample_nearest_2x


def double_conv(in_channels: int, out_channels: int, *, activate_output: bool = True) -> nn.Sequential:
    """Two 3x3 convolutions (size-preserving), SiLU after the first and, if ``activate_output``, the second."""
    layers: list[nn.Module] = [
        nn.Conv2d(in_channels, out_channels, 3, padding=1),
        nn.SiLU(),
        nn.Conv2d(out_channels, out_channels, 3, padding=1),
    ]
    if activate_output:
        layers.append(nn.SiLU())
    return nn.Sequential(*layers)


class ToyUNet(nn.Module):
    conditioning = "none"

    def __init__(self, image_channels: int, image_size: tuple[int, int], channels: Sequence[int] = (32, 64, 64)):
        super().__init__()
        if len(channels) != 3:
            raise ConfigError(f"the toy U-Net has exactly 3 levels; got channels {list(channels)}")
        if image_size[0] % 4 or image_size[1] % 4:
            raise ConfigError(f"the toy U-Net needs image sizes divisible by 4, got {image_size[0]}x{image_size[1]}")
        c1, c2, c3 = channels
        self.image_channels = image_channels
        self.down1 = double_conv(image_channels, c1)
        self.down2 = double_conv(c1, c2)
        self.down3 = double_conv(c2, c3)
        self.up1 = double_conv(c3, c2)
        self.up2 = double_conv(c2, c1)
        # No activation after the last layer: the output is an image in [-1, 1].
        self.up3 = double_conv(c1, image_channels, activate_output=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skip1 = self.down1(x)
        skip2 = self.down2(F.max_pool2d(skip1, 2))
        x = self.down3(F.max_pool2d(skip2, 2))
        x = self.up1(x)
        x = self.up2(upsample_nearest_2x(x) + skip2)
        return self.up3(upsample_nearest_2x(x) + skip1)
