"""Which of the T training timesteps a sampler with fewer steps visits.

Each function returns 0-based timesteps in *descending* order (the order in which they are visited).
With as many steps as training timesteps every spacing except ``quadratic`` is the full chain.
"""

from __future__ import annotations

import numpy as np

from ddpm.errors import ConfigError


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


SPACINGS = {"uniform": _uniform, "quadratic": _quadratic, "trailing": _trailing, "linspace": _linspace}


def sampling_timesteps(num_steps: int, num_timesteps: int, spacing: str = "uniform") -> np.ndarray:
    """Descending int64 timesteps for a sampler of ``num_steps`` steps over a T-step diffusion."""
    if spacing not in SPACINGS:
        raise ConfigError(f"unknown timestep spacing {spacing!r}; use one of {', '.join(SPACINGS)}")
    if not 1 <= num_steps <= num_timesteps:
        raise ConfigError(f"sampling steps must be between 1 and the {num_timesteps} training timesteps, got {num_steps}")
    steps = np.sort(SPACINGS[spacing](num_steps, num_timesteps))[::-1].astype(np.int64)
    if len(np.unique(steps)) != num_steps or steps.min() < 0 or steps.max() >= num_timesteps:
        raise ConfigError(
            f"{spacing} spacing of {num_steps} steps over {num_timesteps} timesteps repeats or leaves timesteps; "
            "use fewer steps or another spacing"
        )
    return steps.copy()
