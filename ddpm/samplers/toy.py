"""The Diffusion Playground's sampler for the toy diffusion (:mod:`ddpm.toy_diffusion`).

Start from uniform noise; at step i of N, ask the network for the clean image and move a fraction
1 / (N - i) of the way towards it. The last step (fraction 1) returns the prediction itself.
"""

from __future__ import annotations

from typing import Callable

import torch

from ddpm.samplers.chain import Trajectory
from ddpm.samplers.noise import SeededNoise


def toy_sample(
    predict_x0: Callable[[torch.Tensor], torch.Tensor],
    steps: int,
    noise: SeededNoise,
    record_every: int | None = None,
) -> tuple[torch.Tensor, Trajectory | None]:
    if steps < 1:
        raise ValueError(f"the toy sampler needs at least 1 step, got {steps}")
    x = noise.uniform() * 2.0 - 1.0
    frames = []
    for i in range(steps):
        pred = predict_x0(x).float()
        if record_every and (i % record_every == 0 or i == steps - 1):
            # The toy process has no timesteps; frames are labelled by the remaining steps.
            frames.append((steps - 1 - i, x, pred))
        mix = 1.0 / (steps - i)
        x = x * (1.0 - mix) + pred * mix
    return x, Trajectory.from_frames(frames)
