"""Samplers: DDPM ancestral (:mod:`.ddpm`), DDIM (:mod:`.ddim`), DPM-Solver++(2M) (:mod:`.dpm_solver`),
EDM-style Heun (:mod:`.heun`) and the toy sampler (:mod:`.toy`).

:func:`generate` is the one entry point: it builds the per-image noise streams from the seeds, applies
classifier-free guidance, and runs the chosen algorithm. All randomness comes from one
``torch.Generator`` per image seed, so the same seeds give the same images on the same device.

``steps`` counts network evaluations per image (per guidance pass) for every sampler, and ``spacing``
picks the visited timesteps (:mod:`.spacing`); see :mod:`.chain` for how each algorithm uses them.
DPM-Solver++ and Heun are deterministic ODE solvers: they ignore ``eta`` and ``variance``.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ddpm.config import SamplerConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError
from ddpm.samplers.chain import CHAIN_ALGORITHMS, Trajectory, chain_length, run_chain, visited_timesteps
from ddpm.samplers.ddpm import VARIANCES
from ddpm.samplers.graphs import CapturedPredictor, use_sampling_graphs
from ddpm.samplers.guidance import guided_predictor
from ddpm.samplers.noise import SeededNoise
from ddpm.samplers.toy import toy_sample
from ddpm.toy_diffusion import ToyDiffusion

SAMPLERS = (*CHAIN_ALGORITHMS, "toy")


def check_sampler(config: SamplerConfig, diffusion: GaussianDiffusion | ToyDiffusion) -> None:
    """Refuse settings that cannot run with this diffusion, before any work is done."""
    if config.sampler not in SAMPLERS:
        raise ConfigError(f"unknown sampler {config.sampler!r}; use one of {', '.join(SAMPLERS)}")
    if (config.sampler == "toy") != isinstance(diffusion, ToyDiffusion):
        raise ConfigError(f"the toy sampler goes with the toy diffusion, and {'/'.join(CHAIN_ALGORITHMS)} with the gaussian one")
    if config.variance not in VARIANCES:
        raise ConfigError(f"unknown DDPM variance {config.variance!r}; use small or large")
    if config.eta < 0:
        raise ConfigError(f"DDIM eta must be >= 0, got {config.eta}")
    if config.steps < 1:
        raise ConfigError(f"sampler steps must be at least 1, got {config.steps}")
    if isinstance(diffusion, GaussianDiffusion) and chain_length(config.sampler, config.steps) > diffusion.num_timesteps:
        raise ConfigError(f"{config.steps} sampling steps exceed the model's {diffusion.num_timesteps} timesteps")
    if isinstance(diffusion, GaussianDiffusion):
        # Raises on a bad spacing.
        visited_timesteps(config.sampler, config.steps, diffusion.num_timesteps, config.spacing, diffusion.schedule.alphas_cumprod)


@torch.no_grad()
def generate(
    model: nn.Module,
    diffusion: GaussianDiffusion | ToyDiffusion,
    sampler: SamplerConfig,
    seeds: Sequence[int],
    image_shape: Sequence[int],
    *,
    device: torch.device | str,
    cond: torch.Tensor | None = None,
    guidance_scale: float = 1.0,
    clip_x0: bool = True,
    record_every: int | None = None,
    cuda_graphs: bool = False,
) -> tuple[torch.Tensor, Trajectory | None]:
    """Sample one image per seed; returns float32 images in about [-1, 1], shape (B, C, H, W).

    ``cuda_graphs`` replays the network evaluations of the chain from one CUDA graph (see
    :func:`.graphs.use_sampling_graphs` for when it pays); the images are the same either way.
    """
    check_sampler(sampler, diffusion)
    noise = SeededNoise(seeds, image_shape, device)
    if isinstance(diffusion, ToyDiffusion):
        return toy_sample(model, sampler.steps, noise, record_every)
    predict = guided_predictor(model, cond, guidance_scale)
    if cuda_graphs:
        predict = CapturedPredictor(predict)
    return run_chain(
        predict,
        diffusion,
        algorithm=sampler.sampler,
        steps=sampler.steps,
        spacing=sampler.spacing,
        noise=noise,
        eta=sampler.eta,
        variance=sampler.variance,
        clip_x0=clip_x0,
        record_every=record_every,
    )


__all__ = ["SAMPLERS", "SeededNoise", "Trajectory", "check_sampler", "generate", "run_chain", "use_sampling_graphs"]
