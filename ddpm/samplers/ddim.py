"""DDIM sampling (Song et al. 2021, "Denoising Diffusion Implicit Models").

Eq. 12, from a visited timestep t to the next visited s (abar_{-1} = 1):

    x_s = sqrt(abar_s) x0 + sqrt(1 - abar_s - sigma^2) eps + sigma z,
    sigma = eta * sqrt((1 - abar_s) / (1 - abar_t)) * sqrt(1 - abar_t / abar_s)      (Eq. 16)

eta = 0 is deterministic; eta = 1 over all T steps is the DDPM sampler with the posterior variance.
"""

from __future__ import annotations

import math

import torch


def ddim_sigma(abar_t: float, abar_s: float, eta: float) -> float:
    return eta * math.sqrt((1.0 - abar_s) / (1.0 - abar_t)) * math.sqrt(1.0 - abar_t / abar_s)


def ddim_step(
    x0: torch.Tensor,
    eps: torch.Tensor,
    abar_t: float,
    abar_s: float,
    eta: float,
    noise: torch.Tensor | None,
) -> torch.Tensor:
    """One DDIM step given the predicted x0 and eps; ``noise`` may be None when sigma is 0."""
    sigma = ddim_sigma(abar_t, abar_s, eta)
    # max(., 0) guards against a tiny negative from rounding when sigma^2 = 1 - abar_s.
    x_s = math.sqrt(abar_s) * x0 + math.sqrt(max(1.0 - abar_s - sigma**2, 0.0)) * eps
    if sigma > 0:
        if noise is None:
            raise ValueError("DDIM with eta > 0 needs noise")
        x_s = x_s + sigma * noise
    return x_s
