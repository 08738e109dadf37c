"""Samplers against reference values and against each other (diffusers as oracle: test_diffusers_oracle.py)."""

import math

import pytest
import torch

from ddpm.config import SamplerConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError
from ddpm.samplers import SeededNoise, check_sampler, generate, run_chain
from ddpm.samplers.ddpm import ddpm_step
from ddpm.samplers.spacing import sampling_timesteps
from ddpm.schedules import NoiseSchedule

SHAPE = (2, 3, 8, 8)


def _random(seed, shape=SHAPE):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def test_spacing_reference_values():
    assert sampling_timesteps(5, 1000, "uniform").tolist() == [800, 600, 400, 200, 0]
    assert sampling_timesteps(5, 1000, "trailing").tolist() == [999, 799, 599, 399, 199]
    assert sampling_timesteps(4, 1000, "quadratic").tolist() == [800, 355, 88, 0]
    for spacing in ("uniform", "trailing", "linspace"):
        assert sampling_timesteps(100, 100, spacing).tolist() == list(range(99, -1, -1))
    with pytest.raises(ConfigError, match="repeats"):
        sampling_timesteps(500, 1000, "quadratic")
    with pytest.raises(ConfigError, match="between 1 and"):
        sampling_timesteps(0, 1000)


def test_noise_level_spacings_reference_values():
    abar = NoiseSchedule.from_name("linear", 1000).alphas_cumprod
    # EDM's rho = 7 levels and DPM-Solver's uniform log-SNR, each mapped to the nearest timestep.
    assert sampling_timesteps(10, 1000, "karras", abar).tolist() == [999, 937, 864, 775, 663, 511, 301, 102, 18, 0]
    assert sampling_timesteps(10, 1000, "logsnr", abar).tolist() == [999, 886, 757, 603, 410, 202, 73, 22, 5, 0]
    # Near t = 0 two levels fall on one timestep (1, 1 for logsnr at 50): the lower keeps it and the
    # upper moves up, so there are still 50 distinct steps.
    assert sampling_timesteps(50, 1000, "logsnr", abar).tolist()[-8:] == [8, 6, 5, 4, 3, 2, 1, 0]
    for spacing in ("karras", "logsnr"):
        assert sampling_timesteps(100, 100, spacing, NoiseSchedule.from_name("cosine", 100).alphas_cumprod).tolist() == list(
            range(99, -1, -1)
        )
        with pytest.raises(ValueError, match="cumulative alphas"):
            sampling_timesteps(10, 1000, spacing)


def _toy_predictor(x, t):
    # Any deterministic function of (x_t, t) serves to compare samplers step for step.
    return 0.3 * torch.tanh(x) + 0.01 * t.view(-1, 1, 1, 1).float() / 100


def test_ddim_eta_one_over_all_steps_equals_ddpm_posterior_sampler():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100), "eps")
    seeds, shape = [3, 4, 5], (1, 6, 6)
    ddpm, _ = run_chain(_toy_predictor, diffusion, algorithm="ddpm", steps=100, spacing="uniform", noise=SeededNoise(seeds, shape, "cpu"))
    ddim, _ = run_chain(
        _toy_predictor, diffusion, algorithm="ddim", steps=100, spacing="uniform", eta=1.0, noise=SeededNoise(seeds, shape, "cpu")
    )
    torch.testing.assert_close(ddim, ddpm, rtol=1e-4, atol=1e-5)
    # And eta = 0 is a different (deterministic) sampler.
    det, _ = run_chain(_toy_predictor, diffusion, algorithm="ddim", steps=100, spacing="uniform", eta=0.0, noise=SeededNoise(seeds, shape, "cpu"))
    assert not torch.allclose(det, ddpm, atol=1e-3)


def test_full_ddpm_chain_uses_the_schedule_posterior():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("cosine", 50), "eps")
    s = diffusion.schedule
    x0, x_t, noise = _random(1), _random(2), _random(3)
    for t in (49, 10, 1):
        got = ddpm_step(x0, x_t, s.alphas_cumprod[t], s.alphas_cumprod[t - 1], noise)
        expected = s.posterior_mean_coef1[t] * x0 + s.posterior_mean_coef2[t] * x_t + math.sqrt(s.posterior_variance[t]) * noise
        torch.testing.assert_close(got, expected.float(), rtol=1e-5, atol=1e-6)


class _ClassModel(torch.nn.Module):
    """Output depends on the class, so guidance changes the result; null class is 4."""

    def forward(self, x, t, cond):
        return 0.1 * x + cond.view(-1, 1, 1, 1).float() / 10

    def null_condition(self, cond):
        return torch.full_like(cond, 4)


def test_generate_is_reproducible_per_seed_and_independent_of_batch():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 30), "eps")
    model = _ClassModel()
    cfg = SamplerConfig("ddpm", 30)
    a, _ = generate(model, diffusion, cfg, [0, 1, 2], (1, 4, 4), device="cpu", cond=torch.tensor([0, 1, 2]), guidance_scale=2.0)
    b, _ = generate(model, diffusion, cfg, [2], (1, 4, 4), device="cpu", cond=torch.tensor([2]), guidance_scale=2.0)
    torch.testing.assert_close(a[2:], b, rtol=0, atol=0)
    c, _ = generate(model, diffusion, cfg, [0, 1, 2], (1, 4, 4), device="cpu", cond=torch.tensor([0, 1, 2]), guidance_scale=2.0)
    torch.testing.assert_close(a, c, rtol=0, atol=0)


def test_guidance_combines_conditional_and_null_predictions():
    from ddpm.samplers.guidance import guided_predictor

    model, x, t = _ClassModel(), torch.zeros(2, 1, 2, 2), torch.tensor([5, 5])
    predict = guided_predictor(model, torch.tensor([1, 2]), guidance_scale=3.0)
    # uncond + 3 (cond - uncond) with cond/10 and null 4/10: 0.4 + 3 * (c/10 - 0.4).
    torch.testing.assert_close(predict(x, t)[:, 0, 0, 0], torch.tensor([0.4 + 3 * (0.1 - 0.4), 0.4 + 3 * (0.2 - 0.4)]))


def test_trajectory_and_clipping():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100), "x0")
    big = lambda x, t: 5 * torch.ones_like(x)  # noqa: E731 - predicts x0 far outside [-1, 1]
    images, traj = run_chain(big, diffusion, algorithm="ddim", steps=10, spacing="uniform", noise=SeededNoise([0], (1, 2, 2), "cpu"), record_every=3)
    assert images.max().item() == pytest.approx(1.0)
    assert traj.timesteps == [90, 60, 30, 0] and traj.x_t.shape == (4, 1, 1, 2, 2)
    unclipped, _ = run_chain(big, diffusion, algorithm="ddim", steps=10, spacing="uniform", noise=SeededNoise([0], (1, 2, 2), "cpu"), clip_x0=False)
    assert unclipped.min().item() == pytest.approx(5.0)


def test_sampler_settings_are_checked():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100))
    with pytest.raises(ConfigError, match="unknown sampler"):
        check_sampler(SamplerConfig("euler", 10), diffusion)
    with pytest.raises(ConfigError, match="toy sampler"):
        check_sampler(SamplerConfig("toy", 10), diffusion)
    with pytest.raises(ConfigError, match="exceed"):
        check_sampler(SamplerConfig("ddim", 200), diffusion)
