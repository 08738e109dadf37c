"""The diffusion math against diffusers' schedulers, an independent implementation (the oracle).

Skipped as a whole when diffusers is not installed; nothing else depends on it.
"""

import math

import numpy as np
import pytest
import torch

from ddpm.diffusion import GaussianDiffusion
from ddpm.samplers.ddim import ddim_step
from ddpm.samplers.ddpm import ddpm_step
from ddpm.samplers.spacing import sampling_timesteps
from ddpm.schedules import NoiseSchedule
from ddpm.targets import split_prediction

diffusers = pytest.importorskip("diffusers")

SHAPE = (2, 3, 8, 8)


def _random(seed, shape=SHAPE):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _x0_eps(diffusion, target, output, sample, t):
    abar = diffusion.schedule.alphas_cumprod[t]
    return split_prediction(diffusion.target, output, sample, math.sqrt(abar), math.sqrt(1 - abar))


def test_against_diffusers_alphas_cumprod():
    for ours, theirs in [("linear", "linear"), ("cosine", "squaredcos_cap_v2")]:
        ref = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule=theirs).alphas_cumprod.double().numpy()
        np.testing.assert_allclose(NoiseSchedule.from_name(ours, 1000).alphas_cumprod, ref, rtol=2e-5, atol=1e-7)


@pytest.mark.parametrize("variance, diffusers_variance", [("small", "fixed_small"), ("large", "fixed_large")])
@pytest.mark.parametrize("t", [999, 500, 1, 0])
def test_ddpm_step_matches_diffusers(t, variance, diffusers_variance):
    ours = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000), "eps")
    ref = diffusers.DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear", clip_sample=False, variance_type=diffusers_variance)
    output, sample = _random(1), _random(2)
    expected = ref.step(output, t, sample, generator=torch.Generator().manual_seed(7)).prev_sample

    x0, _ = _x0_eps(ours, "eps", output, sample, t)
    abar = ours.schedule.alphas_cumprod
    noise = torch.randn(SHAPE, generator=torch.Generator().manual_seed(7)) if t > 0 else None
    got = ddpm_step(x0, sample, abar[t], abar[t - 1] if t > 0 else 1.0, noise, variance)
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("prediction_type, target", [("epsilon", "eps"), ("v_prediction", "v"), ("sample", "x0")])
@pytest.mark.parametrize("eta", [0.0, 0.5, 1.0])
def test_ddim_chain_steps_match_diffusers(prediction_type, target, eta):
    ours = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000), target)
    ref = diffusers.DDIMScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        clip_sample=False,
        set_alpha_to_one=True,
        steps_offset=0,
        timestep_spacing="leading",
        prediction_type=prediction_type,
    )
    ref.set_timesteps(50)
    timesteps = sampling_timesteps(50, 1000, "uniform")
    np.testing.assert_array_equal(ref.timesteps.numpy(), timesteps)
    abar = ours.schedule.alphas_cumprod
    for i in (0, 25, 49):
        t = int(timesteps[i])
        s = int(timesteps[i + 1]) if i + 1 < len(timesteps) else -1
        output, sample, noise = _random(10 + i), _random(20 + i), _random(30 + i)
        expected = ref.step(output, t, sample, eta=eta, variance_noise=noise).prev_sample
        x0, eps = _x0_eps(ours, target, output, sample, t)
        got = ddim_step(x0, eps, abar[t], abar[s] if s >= 0 else 1.0, eta, noise)
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_trailing_and_linspace_spacing_match_diffusers():
    for spacing in ("trailing", "linspace"):
        ref = diffusers.DDIMScheduler(num_train_timesteps=1000, timestep_spacing=spacing)
        for steps in (10, 20, 50, 100):
            ref.set_timesteps(steps)
            np.testing.assert_array_equal(sampling_timesteps(steps, 1000, spacing), ref.timesteps.numpy())
