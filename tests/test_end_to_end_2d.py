"""End-to-end check of the math: a tiny MLP trained for seconds on a 2-D mixture of Gaussians.

If q_sample, the loss, the target conversions or a sampler were wrong, the samples would not
reproduce the data's mean, covariance and mode weights.
"""

import numpy as np
import pytest
import torch

from ddpm.config import SamplerConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.models.mlp import MLPDenoiser
from ddpm.samplers import generate
from ddpm.schedules import NoiseSchedule

# Slow (trains a network until its samples match the data's statistics): `python -m pytest -m slow`.
pytestmark = pytest.mark.slow

MEANS = torch.tensor([[-1.0, -0.5], [1.0, -0.5], [0.0, 1.0]])
WEIGHTS = torch.tensor([0.5, 0.3, 0.2])
STD = 0.15


def _mixture(n, generator):
    modes = torch.multinomial(WEIGHTS, n, replacement=True, generator=generator)
    return MEANS[modes] + STD * torch.randn(n, 2, generator=generator)


def _mode_weights(points):
    nearest = torch.cdist(points, MEANS).argmin(dim=1)
    return torch.bincount(nearest, minlength=3).float() / len(points)


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("cosine", 100), "eps")
    model = MLPDenoiser(2, hidden=128, depth=3)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, 1500)
    for _ in range(1500):
        loss = diffusion.loss(model, _mixture(512, g), g).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
    return diffusion, model.eval()


@pytest.mark.parametrize("sampler", [SamplerConfig("ddpm", 100), SamplerConfig("ddim", 50)])
def test_samples_match_the_mixture(trained, sampler):
    diffusion, model = trained
    data = _mixture(50_000, torch.Generator().manual_seed(1))
    with torch.no_grad():
        samples, _ = generate(model, diffusion, sampler, list(range(4000)), (2,), device="cpu", clip_x0=False)
    assert np.isfinite(samples.numpy()).all()
    torch.testing.assert_close(samples.mean(0), data.mean(0), atol=0.06, rtol=0)
    torch.testing.assert_close(torch.cov(samples.T), torch.cov(data.T), atol=0.08, rtol=0)
    torch.testing.assert_close(_mode_weights(samples), WEIGHTS, atol=0.04, rtol=0)
    # Points sit near a mode, not smeared between modes.
    assert torch.cdist(samples, MEANS).min(dim=1).values.median() < 2 * STD
