"""The reverse chain shared by the Gaussian samplers: predict, split into (x0, eps), step.

``steps`` is the number of network evaluations per image (per guidance pass) for every algorithm.
The chain visits ``steps`` timesteps chosen by ``spacing`` (Heun: (steps + 1) / 2 of them, see
:mod:`.heun`), in descending order, and its last step goes from the smallest visited timestep to the
clean image (abar = 1). DDPM and DDIM step with (x0, eps); DPM-Solver++ with x0 and its history;
Heun with eps and one more evaluation per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ddpm.diffusion import GaussianDiffusion
from ddpm.samplers.ddim import ddim_sigma, ddim_step
from ddpm.samplers.ddpm import ddpm_step
from ddpm.samplers.dpm_solver import DPMSolverPP2M
from ddpm.samplers.guidance import Predictor
from ddpm.samplers.heun import heun_noise_levels, heun_step
from ddpm.samplers.noise import SeededNoise
from ddpm.samplers.spacing import sampling_timesteps
from ddpm.targets import eps_from_x0, split_prediction


@dataclass
class Trajectory:
    """Snapshots along the chain: the timestep visited, x_t there, and the x0 predicted from it."""

    timesteps: list[int]
    x_t: torch.Tensor  # (frames, B, C, H, W)
    x0: torch.Tensor  # (frames, B, C, H, W)

    @classmethod
    def from_frames(cls, frames: list[tuple[int, torch.Tensor, torch.Tensor]]) -> "Trajectory | None":
        """Stack (timestep, x_t, x0) snapshots; None when nothing was recorded."""
        if not frames:
            return None
        return cls([f[0] for f in frames], torch.stack([f[1] for f in frames]), torch.stack([f[2] for f in frames]))


CHAIN_ALGORITHMS = ("ddpm", "ddim", "dpmpp_2m", "heun")


def chain_length(algorithm: str, steps: int) -> int:
    """How many timesteps a chain of ``steps`` network evaluations visits."""
    if algorithm not in CHAIN_ALGORITHMS:
        raise ValueError(f"unknown chain algorithm {algorithm!r}; use one of {', '.join(CHAIN_ALGORITHMS)}")
    return heun_noise_levels(steps) if algorithm == "heun" else steps


def visited_timesteps(
    algorithm: str, steps: int, num_timesteps: int, spacing: str, alphas_cumprod: np.ndarray | None = None
) -> np.ndarray:
    """The descending timesteps at which the chain evaluates the network before each step.

    ``alphas_cumprod`` (the schedule's) is needed by the spacings that place steps by noise level.
    """
    return sampling_timesteps(chain_length(algorithm, steps), num_timesteps, spacing, alphas_cumprod)


def run_chain(
    predict: Predictor,
    diffusion: GaussianDiffusion,
    *,
    algorithm: str,
    steps: int,
    spacing: str,
    noise: SeededNoise,
    eta: float = 0.0,
    variance: str = "small",
    clip_x0: bool = True,
    record_every: int | None = None,
) -> tuple[torch.Tensor, Trajectory | None]:
    """Sample a batch (one image per stream of ``noise``); returns x_{-1} in float32 and the trajectory."""
    abar = diffusion.schedule.alphas_cumprod
    timesteps = [int(t) for t in visited_timesteps(algorithm, steps, diffusion.num_timesteps, spacing, abar)]

    def denoise(x: torch.Tensor, t: int) -> tuple[torch.Tensor, torch.Tensor]:
        a, sd = math.sqrt(abar[t]), math.sqrt(1.0 - abar[t])
        t_batch = torch.full((x.shape[0],), t, device=x.device, dtype=torch.long)
        x0, eps = split_prediction(diffusion.target, predict(x, t_batch).float(), x, a, sd)
        if clip_x0:
            # Recompute eps from the clipped x0 so the step stays on a consistent (x0, eps) pair.
            x0 = x0.clamp(-1.0, 1.0)
            eps = eps_from_x0(x, x0, a, sd)
        return x0, eps

    solver = DPMSolverPP2M() if algorithm == "dpmpp_2m" else None
    x = noise.initial()
    frames: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    for i, t in enumerate(timesteps):
        s = timesteps[i + 1] if i + 1 < len(timesteps) else -1
        abar_t = float(abar[t])
        abar_s = float(abar[s]) if s >= 0 else 1.0
        x0, eps = denoise(x, t)
        if record_every and (i % record_every == 0 or s < 0):
            frames.append((t, x, x0))
        if algorithm == "ddpm":
            x = ddpm_step(x0, x, abar_t, abar_s, noise.gaussian() if s >= 0 else None, variance)
        elif algorithm == "ddim":
            needs_noise = ddim_sigma(abar_t, abar_s, eta) > 0
            x = ddim_step(x0, eps, abar_t, abar_s, eta, noise.gaussian() if needs_noise else None)
        elif algorithm == "dpmpp_2m":
            x = solver.step(x, x0, abar_t, abar_s)
        else:
            x = heun_step(x, eps, abar_t, abar_s, lambda x_s, s=s: denoise(x_s, s)[1])
    return x, Trajectory.from_frames(frames)
