"""Heun's second-order solver of the probability-flow ODE in the style of EDM
(Karras et al. 2022, "Elucidating the Design Space of Diffusion-Based Generative Models", Alg. 1).

A discrete variance-preserving model is the EDM ODE in disguise (Sec. 2 and Table 1): with
sigma_t = sqrt((1 - abar_t) / abar_t) and x~ = x_t / sqrt(abar_t), the ODE is dx~/dsigma = (x~ - D) / sigma = eps,
where D is the denoised image x0 and eps the noise it implies. Between visited timesteps t > s:

    x~' = x~_t + (sigma_s - sigma_t) eps_t                          (Euler step, Alg. 1 line 5)
    x~_s = x~_t + (sigma_s - sigma_t) (eps_t + eps'_s) / 2          (trapezoidal correction, line 8)

where eps'_s is the network's noise at (x~', s). The last step goes to sigma = 0 (the clean image) and
is an Euler step (line 6), which returns x0 itself. Only the visited timesteps' sigmas are used, so the
network is always evaluated at its training timesteps.

Network evaluations: N noise levels cost 2N - 1 evaluations (one per level, one correction per step
except the last). The sampler's ``steps`` counts evaluations, so it must be odd.
"""

from __future__ import annotations

import math
from typing import Callable

import torch

from ddpm.errors import ConfigError


def heun_noise_levels(evaluations: int) -> int:
    """How many timesteps a Heun chain of ``evaluations`` network evaluations visits (2N - 1 = evaluations)."""
    if evaluations < 1:
        raise ConfigError(f"the heun sampler needs at least 1 step, got {evaluations}")
    if evaluations % 2 == 0:
        raise ConfigError(
            f"the heun sampler needs an odd number of steps (network evaluations: N noise levels cost 2N - 1), "
            f"got {evaluations}; use {evaluations - 1} or {evaluations + 1}"
        )
    return (evaluations + 1) // 2


def heun_step(
    x_t: torch.Tensor,
    eps_t: torch.Tensor,
    abar_t: float,
    abar_s: float,
    eps_at_s: Callable[[torch.Tensor], torch.Tensor],
) -> torch.Tensor:
    """One Heun step x_t -> x_s; ``eps_at_s(x_s)`` evaluates the network's noise at s (not called on the last step)."""
    sigma_t = math.sqrt((1.0 - abar_t) / abar_t)
    sigma_s = math.sqrt((1.0 - abar_s) / abar_s)
    scaled = x_t / math.sqrt(abar_t)
    euler = scaled + (sigma_s - sigma_t) * eps_t
    if sigma_s == 0.0:
        return euler
    eps_s = eps_at_s(math.sqrt(abar_s) * euler)
    return math.sqrt(abar_s) * (scaled + (sigma_s - sigma_t) * 0.5 * (eps_t + eps_s))
