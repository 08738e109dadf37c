"""DPM-Solver++(2M): the second-order multistep solver of the diffusion ODE in data prediction
(Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic Models").

With alpha_t = sqrt(abar_t), sigma_t = sqrt(1 - abar_t) and the half log-SNR lambda_t = log(alpha_t / sigma_t),
the step from a visited timestep t to the next visited s, with h = lambda_s - lambda_t, is (Alg. 2):

    x_s = (sigma_s / sigma_t) x_t - alpha_s (e^{-h} - 1) D,
    D   = (1 + 1 / (2r)) x0_t - 1 / (2r) x0_u,   r = h_u / h,   h_u = lambda_t - lambda_u,

where u is the timestep visited before t and x0_. are the network's data predictions. The first step has
no earlier prediction and uses the first-order update D = x0_t (DPM-Solver++1, Sec. 4.1: DDIM with eta 0).
The last step goes to the clean image (abar = 1, sigma = 0, lambda = +inf, so r = 0): there it is first
order too, which makes x_{-1} = x0_t, as in diffusers' ``lower_order_final`` with ``final_sigmas_type="zero"``.

At 10-20 steps use trailing spacing: uniform spacing ends with a step from t = T/steps to t = 0 whose
length in lambda is many times the previous step's (r << 1), where the extrapolation overshoots.
"""

from __future__ import annotations

import math

import torch


def half_log_snr(abar: float) -> float:
    """lambda = log(alpha / sigma) = log(abar / (1 - abar)) / 2."""
    return 0.5 * (math.log(abar) - math.log1p(-abar))


class DPMSolverPP2M:
    """One chain's solver: remembers the previous data prediction and its lambda between steps."""

    def __init__(self) -> None:
        self._previous: tuple[torch.Tensor, float] | None = None

    def step(self, x_t: torch.Tensor, x0: torch.Tensor, abar_t: float, abar_s: float) -> torch.Tensor:
        """x_t -> x_s given the data prediction ``x0`` at t; abar_s = 1 is the final step to the clean image."""
        previous, self._previous = self._previous, None
        if abar_s >= 1.0:
            # sigma_s = 0, e^{-h} = 0: the first-order update returns x0 itself.
            return x0
        lambda_t, lambda_s = half_log_snr(abar_t), half_log_snr(abar_s)
        self._previous = (x0, lambda_t)
        h = lambda_s - lambda_t
        sigma_ratio = math.sqrt((1.0 - abar_s) / (1.0 - abar_t))
        # -alpha_s (e^{-h} - 1), written with expm1 for accuracy at small h.
        coef_d = -math.sqrt(abar_s) * math.expm1(-h)
        if previous is None:
            return sigma_ratio * x_t + coef_d * x0
        x0_u, lambda_u = previous
        r = (lambda_t - lambda_u) / h
        d = x0 + (x0 - x0_u) / (2.0 * r)  # (1 + 1/(2r)) x0_t - 1/(2r) x0_u
        return sigma_ratio * x_t + coef_d * d
