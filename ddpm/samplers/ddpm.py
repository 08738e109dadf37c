"""Ancestral sampling of Ho et al. 2020 (Algorithm 2), on any subsequence of timesteps.

Between visited timesteps t > s (s = -1 after the last), the step uses the "respaced" process of
Nichol & Dhariwal 2021 (Sec. 4): alpha' = abar_t / abar_s, beta' = 1 - alpha'. With s = t - 1 this is
exactly the original posterior q(x_{t-1} | x_t, x_0) of Eqs. 6-7:

    mean = sqrt(abar_s) beta' / (1 - abar_t) * x0 + sqrt(alpha') (1 - abar_s) / (1 - abar_t) * x_t
    variance = beta' (1 - abar_s) / (1 - abar_t)   ("fixed small", the true posterior variance)
            or beta'                                ("fixed large", Ho et al. Sec. 3.2)

No noise is added on the last step: x_{-1} is the predicted mean, i.e. x0.
"""

from __future__ import annotations

import math

import torch

VARIANCES = ("small", "large")


def ddpm_step(
    x0: torch.Tensor,
    x_t: torch.Tensor,
    abar_t: float,
    abar_s: float,
    noise: torch.Tensor | None,
    variance: str = "small",
) -> torch.Tensor:
    """One ancestral step x_t -> x_s given the predicted x0 and N(0, I) ``noise`` (None on the last step)."""
    alpha = abar_t / abar_s
    beta = 1.0 - alpha
    coef_x0 = math.sqrt(abar_s) * beta / (1.0 - abar_t)
    coef_xt = math.sqrt(alpha) * (1.0 - abar_s) / (1.0 - abar_t)
    mean = coef_x0 * x0 + coef_xt * x_t
    if noise is None:
        return mean
    if variance == "small":
        var = beta * (1.0 - abar_s) / (1.0 - abar_t)
    elif variance == "large":
        var = beta
    else:
        raise ValueError(f"unknown DDPM variance {variance!r}; use one of {VARIANCES}")
    return mean + math.sqrt(var) * noise
