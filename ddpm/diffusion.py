"""The Gaussian diffusion objective: forward noising q(x_t | x_0) and the training loss.

Coefficients come from a float64 :class:`~ddpm.schedules.NoiseSchedule`; they are gathered per
example on the data's device and cast to the data's dtype only at the point of use.
"""

from __future__ import annotations

from typing import Callable

import torch

from ddpm.schedules import NoiseSchedule
from ddpm.targets import Target, split_prediction, target_value

Denoiser = Callable[..., torch.Tensor]


class GaussianDiffusion:
    """A discrete-time diffusion with ``T`` steps, 0-based timesteps t = 0 .. T-1.

    Args:
        schedule: the noise schedule (betas and derived constants).
        target: what the network predicts (``eps``, ``x0`` or ``v``).
        min_snr_gamma: if set, weight each example's loss by min(SNR_t, gamma) expressed for the
            chosen target (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting").
    """

    def __init__(self, schedule: NoiseSchedule, target: str | Target = Target.EPS, min_snr_gamma: float | None = None):
        if min_snr_gamma is not None and min_snr_gamma <= 0:
            raise ValueError(f"min_snr_gamma must be positive, got {min_snr_gamma}")
        self.schedule = schedule
        self.target = Target.parse(target)
        self.min_snr_gamma = min_snr_gamma
        self._tables: dict[tuple[str, torch.device], torch.Tensor] = {}

    @property
    def num_timesteps(self) -> int:
        return self.schedule.num_timesteps

    def coefficient(self, name: str, t: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        """Gather schedule array ``name`` at timesteps ``t`` (shape (B,)), shaped to broadcast over ``like``."""
        key = (name, t.device)
        table = self._tables.get(key)
        if table is None:
            table = torch.from_numpy(getattr(self.schedule, name).copy()).to(t.device)
            self._tables[key] = table
        values = table[t].to(like.dtype)
        return values.view(-1, *([1] * (like.dim() - 1)))

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sample x_t ~ q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I) (Ho et al. 2020, Eq. 4)."""
        a = self.coefficient("sqrt_alphas_cumprod", t, x0)
        s = self.coefficient("sqrt_one_minus_alphas_cumprod", t, x0)
        return a * x0 + s * noise

    def q_posterior(self, x0: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and variance of q(x_{t-1} | x_t, x_0) (Ho et al. 2020, Eqs. 6-7)."""
        mean = self.coefficient("posterior_mean_coef1", t, x_t) * x0 + self.coefficient("posterior_mean_coef2", t, x_t) * x_t
        return mean, self.coefficient("posterior_variance", t, x_t)

    def split_prediction(self, prediction: torch.Tensor, x_t: torch.Tensor, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(x0, eps) implied by the network's prediction at (x_t, t)."""
        a = self.coefficient("sqrt_alphas_cumprod", t, x_t)
        s = self.coefficient("sqrt_one_minus_alphas_cumprod", t, x_t)
        return split_prediction(self.target, prediction, x_t, a, s)

    def loss_weight(self, t: torch.Tensor) -> torch.Tensor | None:
        """Per-example min-SNR-gamma weight for the chosen target, or None for the plain loss.

        The weight makes every target's loss equal to min(SNR, gamma) * ||x0 - x0_hat||^2
        (Hang et al. 2023, Sec. 3.4): for eps, ||eps - eps_hat||^2 = SNR ||x0 - x0_hat||^2; for v,
        ||v - v_hat||^2 = (SNR + 1) ||x0 - x0_hat||^2.
        """
        if self.min_snr_gamma is None:
            return None
        snr = self.coefficient("snr", t, torch.empty(0, dtype=torch.float32))
        clipped = torch.clamp(snr, max=self.min_snr_gamma)
        if self.target is Target.EPS:
            return clipped / snr
        if self.target is Target.X0:
            return clipped
        return clipped / (snr + 1.0)

    def training_losses(
        self,
        model: Denoiser,
        x0: torch.Tensor,
        t: torch.Tensor,
        noise: torch.Tensor,
        **model_kwargs,
    ) -> torch.Tensor:
        """Per-example loss, shape (B,): the (weighted) mean squared error of the network's target."""
        x_t = self.q_sample(x0, t, noise)
        prediction = model(x_t, t, **model_kwargs)
        a = self.coefficient("sqrt_alphas_cumprod", t, x0)
        s = self.coefficient("sqrt_one_minus_alphas_cumprod", t, x0)
        target = target_value(self.target, x0, noise, a, s)
        # The squared error is reduced in float32 even when the network ran in bf16.
        mse = (prediction.float() - target.float()).square().mean(dim=tuple(range(1, x0.dim())))
        weight = self.loss_weight(t)
        return mse if weight is None else mse * weight

    def draw_training_randomness(
        self, batch_size: int, shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Uniform timesteps in [0, T) and Gaussian noise for a batch; keys match training_losses."""
        t = torch.randint(0, self.num_timesteps, (batch_size,), device=device, generator=generator)
        noise = torch.randn((batch_size, *shape), generator=generator, device=device)
        return {"t": t, "noise": noise}

    def loss(self, model: Denoiser, x0: torch.Tensor, generator: torch.Generator | None = None, **model_kwargs) -> torch.Tensor:
        """Per-example training loss at freshly drawn timesteps and noise."""
        draws = self.draw_training_randomness(x0.shape[0], tuple(x0.shape[1:]), x0.device, generator)
        return self.training_losses(model, x0, **draws, **model_kwargs)
