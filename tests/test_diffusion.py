"""The forward process and the training objectives."""

import pytest
import torch

from ddpm.config import SamplerConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.samplers import generate
from ddpm.schedules import NoiseSchedule
from ddpm.toy_diffusion import ToyDiffusion, corrupt


def test_q_sample_has_the_right_mean_and_variance():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000))
    n = 200_000
    x0 = torch.full((n, 1), 0.7, dtype=torch.float64)
    for t in (0, 300, 999):
        noise = torch.randn(n, 1, generator=torch.Generator().manual_seed(t), dtype=torch.float64)
        x_t = diffusion.q_sample(x0, torch.full((n,), t), noise)
        abar = diffusion.schedule.alphas_cumprod[t]
        # Standard errors: sqrt(var / n) for the mean, about var * sqrt(2 / n) for the variance.
        var = 1 - abar
        assert x_t.mean().item() == pytest.approx(0.7 * abar**0.5, abs=5 * (var / n) ** 0.5)
        assert x_t.var().item() == pytest.approx(var, abs=5 * var * (2 / n) ** 0.5 + 1e-12)


def test_coefficients_follow_the_data_dtype_and_device():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("cosine", 100))
    x = torch.zeros(3, 2, 4, 4, dtype=torch.bfloat16)
    c = diffusion.coefficient("sqrt_alphas_cumprod", torch.tensor([0, 50, 99]), x)
    assert c.dtype == torch.bfloat16 and c.shape == (3, 1, 1, 1)


def test_training_loss_is_zero_for_a_perfect_model_of_each_target():
    for target in ("eps", "x0", "v"):
        diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100), target)
        x0 = torch.randn(4, 1, 3, 3, dtype=torch.float64)
        noise = torch.randn(4, 1, 3, 3, dtype=torch.float64)
        t = torch.tensor([0, 10, 50, 99])
        a = diffusion.coefficient("sqrt_alphas_cumprod", t, x0)
        s = diffusion.coefficient("sqrt_one_minus_alphas_cumprod", t, x0)
        perfect = {"eps": noise, "x0": x0, "v": a * noise - s * x0}[target]
        loss = diffusion.training_losses(lambda x_t, t_: perfect, x0, t, noise)
        assert loss.shape == (4,) and loss.abs().max().item() < 1e-10


def test_toy_corruption_and_sampler():
    x0, noise = torch.ones(2, 1, 2, 2), -torch.ones(2, 1, 2, 2)
    out = corrupt(x0, torch.tensor([0.0, 0.25]), noise)
    torch.testing.assert_close(out[:, 0, 0, 0], torch.tensor([1.0, 0.5]))
    toy = ToyDiffusion()
    # A network that always answers 0.5: the sampler ends exactly at its answer.
    model = lambda x: torch.full_like(x, 0.5)  # noqa: E731
    images, traj = generate(model, toy, SamplerConfig("toy", 5), [0, 1], (1, 4, 4), device="cpu", record_every=2)
    torch.testing.assert_close(images, torch.full((2, 1, 4, 4), 0.5))
    assert traj.timesteps == [4, 2, 0]
    assert toy.loss(model, torch.full((3, 1, 4, 4), 0.5), torch.Generator().manual_seed(0)).abs().max() == 0
