"""Which of the T training timesteps a sampler with fewer steps visits.

Each function returns 0-based timesteps in *descending* order (the order in which they are visited).
With as many steps as training timesteps every spacing except ``quadratic`` is the full chain.
``karras`` and ``logsnr`` place the steps by noise level, so they need the schedule's cumulative
alphas; the others depend only on the number of timesteps.
"""

from __future__ import annotations

import numpy as np

from ddpm.errors import ConfigError
from ddpm.samplers.dpm_solver import half_log_snr

KARRAS_RHO = 7.0  # EDM's choice (Karras et al. 2022, Eq. 5 and Table 1)


def _uniform(num_steps: int, num_timesteps: int) -> np.ndarray:
    # DDIM paper's uniform skip (Song et al. 2021, App. D.2) with 0-based steps: 0, k, 2k, ... with
    # k = T // S; diffusers calls this "leading".
    return np.arange(num_steps) * (num_timesteps // num_steps)


def _quadratic(num_steps: int, num_timesteps: int) -> np.ndarray:
    # DDIM paper's quadratic skip: dense steps near t = 0, where details are formed.
    return (np.linspace(0, np.sqrt(num_timesteps * 0.8), num_steps) ** 2).astype(np.int64)


def _trailing(num_steps: int, num_timesteps: int) -> np.ndarray:
    # Lin et al. 2024 ("Common diffusion noise schedules and sample steps are flawed", Table 2):
    # always start from the last training timestep T-1.
    return np.round(np.arange(num_timesteps, 0, -num_timesteps / num_steps)).astype(np.int64) - 1


def _linspace(num_steps: int, num_timesteps: int) -> np.ndarray:
    return np.round(np.linspace(0, num_timesteps - 1, num_steps)).astype(np.int64)


def _log_sigmas(alphas_cumprod: np.ndarray) -> np.ndarray:
    # The log of each timestep's variance-exploding noise level sigma_t = sqrt((1 - abar_t) / abar_t)
    # (Karras et al. 2022, Sec. 2), increasing in t: minus the half log-SNR.
    return -np.array([half_log_snr(float(abar)) for abar in alphas_cumprod])


def _nearest_distinct(targets: np.ndarray, log_sigmas: np.ndarray) -> np.ndarray:
    """The timestep of nearest log-sigma to each target, then pushed apart where two coincide.

    Near t = 0 a noise-level spacing asks for several levels between two training timesteps; each
    step then takes the next free timestep above the one below it, so the chain keeps its length.
    Where that runs past the last timestep (as many steps as timesteps), steps move down from the top.
    """
    nearest = np.abs(np.asarray(targets)[:, None] - log_sigmas[None, :]).argmin(axis=1)
    steps = np.sort(nearest)
    for i in range(1, len(steps)):
        steps[i] = max(steps[i], steps[i - 1] + 1)
    steps[-1] = min(steps[-1], len(log_sigmas) - 1)
    for i in range(len(steps) - 2, -1, -1):
        steps[i] = min(steps[i], steps[i + 1] - 1)
    return steps


def _karras(num_steps: int, alphas_cumprod: np.ndarray) -> np.ndarray:
    # EDM's noise levels (Karras et al. 2022, Eq. 5): uniform in sigma^(1/rho) from sigma_max to
    # sigma_min, the schedule's noise at its last and first timesteps.
    log_sigmas = _log_sigmas(alphas_cumprod)
    ramp = np.linspace(0.0, 1.0, num_steps)
    inv_rho = 1.0 / KARRAS_RHO
    hi, lo = np.exp(log_sigmas[-1] * inv_rho), np.exp(log_sigmas[0] * inv_rho)
    return _nearest_distinct(KARRAS_RHO * np.log(hi + ramp * (lo - hi)), log_sigmas)


def _logsnr(num_steps: int, alphas_cumprod: np.ndarray) -> np.ndarray:
    # DPM-Solver's "logSNR" skip (Lu et al. 2022, Sec. 3.4): uniform in lambda = -log sigma.
    log_sigmas = _log_sigmas(alphas_cumprod)
    return _nearest_distinct(np.linspace(log_sigmas[-1], log_sigmas[0], num_steps), log_sigmas)


SPACINGS = {
    "uniform": _uniform,
    "quadratic": _quadratic,
    "trailing": _trailing,
    "linspace": _linspace,
    "karras": _karras,
    "logsnr": _logsnr,
}
NOISE_LEVEL_SPACINGS = ("karras", "logsnr")  # need the schedule's alphas_cumprod


def sampling_timesteps(
    num_steps: int, num_timesteps: int, spacing: str = "uniform", alphas_cumprod: np.ndarray | None = None
) -> np.ndarray:
    """Descending int64 timesteps for a sampler of ``num_steps`` steps over a T-step diffusion."""
    if spacing not in SPACINGS:
        raise ConfigError(f"unknown timestep spacing {spacing!r}; use one of {', '.join(SPACINGS)}")
    if not 1 <= num_steps <= num_timesteps:
        raise ConfigError(f"sampling steps must be between 1 and the {num_timesteps} training timesteps, got {num_steps}")
    if spacing in NOISE_LEVEL_SPACINGS:
        if alphas_cumprod is None or len(alphas_cumprod) != num_timesteps:
            raise ValueError(f"{spacing} spacing needs the schedule's {num_timesteps} cumulative alphas")
        chosen = SPACINGS[spacing](num_steps, alphas_cumprod)
    else:
        chosen = SPACINGS[spacing](num_steps, num_timesteps)
    steps = np.sort(chosen)[::-1].astype(np.int64)
    if len(np.unique(steps)) != num_steps or steps.min() < 0 or steps.max() >= num_timesteps:
        raise ConfigError(
            f"{spacing} spacing of {num_steps} steps over {num_timesteps} timesteps repeats or leaves timesteps; "
            "use fewer steps or another spacing"
        )
    return steps.copy()
