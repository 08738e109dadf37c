"""Beta schedules and the coefficients derived from them.

A schedule maps the number of diffusion steps ``T`` to the variances ``beta_0 .. beta_{T-1}``
(0-based: ``beta_t`` takes ``x_t`` to ``x_{t+1}`` in the paper's 1-based notation). Schedules live in
an append-only registry: a name, once published, keeps its meaning, because checkpoints refer to
schedules by name.

:class:`NoiseSchedule` computes every derived coefficient once, in float64, from the betas.
"""

from __future__ import annotations

import math
from typing import Callable

import numpy as np

from ddpm.errors import ConfigError

BetaFunction = Callable[[int], np.ndarray]

_BETA_SCHEDULES: dict[str, BetaFunction] = {}

# Cosine and sigmoid schedules cap beta so that the last steps do not destroy all signal at once
# (Nichol & Dhariwal 2021, Sec. 3.2).
MAX_BETA = 0.999


def register_beta_schedule(name: str) -> Callable[[BetaFunction], BetaFunction]:
    """Add a schedule under ``name``. The registry is append-only: a name cannot be redefined."""

    def add(fn: BetaFunction) -> BetaFunction:
        if name in _BETA_SCHEDULES:
            raise ValueError(f"beta schedule {name!r} is already registered; pick a new name")
        _BETA_SCHEDULES[name] = fn
        return fn

    return add


def beta_schedule_names() -> list[str]:
    return sorted(_BETA_SCHEDULES)


def make_betas(name: str, num_timesteps: int) -> np.ndarray:
    """Return ``betas`` (float64, shape ``(num_timesteps,)``) of the named schedule."""
    if name not in _BETA_SCHEDULES:
        raise ConfigError(f"unknown beta schedule {name!r}; known: {', '.join(beta_schedule_names())}")
    if num_timesteps < 1:
        raise ConfigError(f"num_timesteps must be at least 1, got {num_timesteps}")
    betas = np.asarray(_BETA_SCHEDULES[name](num_timesteps), dtype=np.float64)
    if betas.shape != (num_timesteps,) or not np.all((betas > 0) & (betas < 1)):
        raise ConfigError(
            f"beta schedule {name!r} gives betas outside (0, 1) for {num_timesteps} timesteps "
            "(the linear schedule's last beta is 20/T, so it needs T > 20); use more timesteps or another schedule"
        )
    return betas


@register_beta_schedule("linear")
def linear_betas(num_timesteps: int) -> np.ndarray:
    """Ho et al. 2020, Sec. 4: beta from 1e-4 to 0.02 over T=1000 steps.

    For other T both ends are scaled by 1000/T (Nichol & Dhariwal 2021), which keeps the total
    amount of noise, and so alpha-bar at the last step, close to the T=1000 schedule's.
    """
    scale = 1000.0 / num_timesteps
    return np.linspace(scale * 1e-4, scale * 0.02, num_timesteps, dtype=np.float64)


def betas_from_alpha_bar(alpha_bar: Callable[[float], float], num_timesteps: int) -> np.ndarray:
    """beta_t = 1 - abar((t+1)/T) / abar(t/T) for a continuous abar on [0, 1], capped at MAX_BETA."""
    t = np.arange(num_timesteps, dtype=np.float64)
    lo = np.array([alpha_bar(x) for x in t / num_timesteps])
    hi = np.array([alpha_bar(x) for x in (t + 1) / num_timesteps])
    return np.minimum(1.0 - hi / lo, MAX_BETA)


@register_beta_schedule("cosine")
def cosine_betas(num_timesteps: int, s: float = 0.008) -> np.ndarray:
    """Nichol & Dhariwal 2021, Eq. 17: abar(t) = f(t)/f(0), f(t) = cos^2(((t/T + s)/(1 + s)) * pi/2)."""
    return betas_from_alpha_bar(lambda u: math.cos((u + s) / (1 + s) * math.pi / 2) ** 2, num_timesteps)


@register_beta_schedule("sigmoid")
def sigmoid_betas(num_timesteps: int, start: float = -3.0, end: float = 3.0, tau: float = 1.0) -> np.ndarray:
    """Jabri et al. 2022 (arXiv:2212.11972, Alg. 1): abar(t) follows a rescaled sigmoid.

    abar(u) = (sigmoid(end/tau) - sigmoid((u*(end-start)+start)/tau)) / (sigmoid(end/tau) - sigmoid(start/tau)),
    which spends more steps at intermediate noise levels than the linear schedule.
    """

    def sigmoid(x: float) -> float:
        return 1.0 / (1.0 + math.exp(-x))

    v_start, v_end = sigmoid(start / tau), sigmoid(end / tau)

    def alpha_bar(u: float) -> float:
        return (v_end - sigmoid((u * (end - start) + start) / tau)) / (v_end - v_start)

    # abar(1) = 0 exactly, so the last beta is capped at MAX_BETA like the cosine schedule's.
    return betas_from_alpha_bar(alpha_bar, num_timesteps)


class NoiseSchedule:
    """All per-timestep constants of a discrete diffusion, as read-only float64 arrays of length T.

    Notation (Ho et al. 2020, 0-based t): alpha_t = 1 - beta_t, abar_t = prod_{s<=t} alpha_s,
    q(x_t | x_0) = N(sqrt(abar_t) x_0, (1 - abar_t) I)                              (Eq. 4)
    q(x_{t-1} | x_t, x_0) = N(coef1_t x_0 + coef2_t x_t, posterior_variance_t I)   (Eqs. 6-7)
    """

    def __init__(self, betas: np.ndarray) -> None:
        betas = np.array(betas, dtype=np.float64)
        if betas.ndim != 1 or len(betas) < 1 or not np.all((betas > 0) & (betas < 1)):
            raise ValueError("betas must be a non-empty 1-D array with values in (0, 1)")
        alphas = 1.0 - betas
        abar = np.cumprod(alphas)
        abar_prev = np.append(1.0, abar[:-1])
        posterior_variance = betas * (1.0 - abar_prev) / (1.0 - abar)

        self.betas = betas
        self.alphas = alphas
        self.alphas_cumprod = abar
        self.alphas_cumprod_prev = abar_prev
        self.sqrt_alphas_cumprod = np.sqrt(abar)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - abar)
        self.posterior_variance = posterior_variance
        # posterior_variance[0] is 0 (x_0 is known given x_1 and x_0); its log is clipped to the next
        # value so that it stays finite, as in Ho et al.'s code.
        self.posterior_log_variance_clipped = np.log(
            np.append(posterior_variance[1], posterior_variance[1:]) if len(betas) > 1 else betas
        )
        self.posterior_mean_coef1 = betas * np.sqrt(abar_prev) / (1.0 - abar)
        self.posterior_mean_coef2 = (1.0 - abar_prev) * np.sqrt(alphas) / (1.0 - abar)
        # Signal-to-noise ratio abar / (1 - abar), for min-SNR loss weighting.
        self.snr = abar / (1.0 - abar)
        for value in vars(self).values():
            value.setflags(write=False)

    @classmethod
    def from_name(cls, name: str, num_timesteps: int) -> "NoiseSchedule":
        return cls(make_betas(name, num_timesteps))

    @property
    def num_timesteps(self) -> int:
        return len(self.betas)
