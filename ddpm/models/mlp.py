"""A small MLP denoiser for low-dimensional data (the 2-D checks of the diffusion math)."""

from __future__ import annotations

import torch
from torch import nn

from ddpm.models.layers import timestep_embedding


class MLPDenoiser(nn.Module):
    """x_t (B, D) and t (B,) -> prediction (B, D), through SiLU MLP layers of width ``hidden``."""

    conditioning = "none"

    def __init__(self, dim: int, hidden: int = 128, depth: int = 3, time_dim: int = 32):
        super().__init__()
        self.time_dim = time_dim
        layers: list[nn.Module] = [nn.Linear(dim + time_dim, hidden), nn.SiLU()]
        for _ in range(depth - 1):
            layers += [nn.Linear(hidden, hidden), nn.SiLU()]
        layers.append(nn.Linear(hidden, dim))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x, timestep_embedding(t, self.time_dim)], dim=1))
