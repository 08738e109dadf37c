"""Exact conversions between the eps, x0 and v parameterisations, and the min-SNR weights."""

import numpy as np
import pytest
import torch

from ddpm.diffusion import GaussianDiffusion
from ddpm.schedules import NoiseSchedule
from ddpm.targets import Target, eps_from_v, eps_from_x0, split_prediction, target_value, v_from_x0_eps, x0_from_eps, x0_from_v


def _state(seed=0, n=64):
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, 3, 4, 4, generator=g, dtype=torch.float64)
    eps = torch.randn(n, 3, 4, 4, generator=g, dtype=torch.float64)
    abar = torch.rand(n, 1, 1, 1, generator=g, dtype=torch.float64) * 0.98 + 0.01
    a, s = abar.sqrt(), (1 - abar).sqrt()
    return x0, eps, a, s, a * x0 + s * eps


def test_all_targets_convert_exactly():
    x0, eps, a, s, x_t = _state()
    v = v_from_x0_eps(x0, eps, a, s)
    torch.testing.assert_close(x0_from_eps(x_t, eps, a, s), x0, rtol=0, atol=1e-12)
    torch.testing.assert_close(eps_from_x0(x_t, x0, a, s), eps, rtol=0, atol=1e-12)
    torch.testing.assert_close(x0_from_v(x_t, v, a, s), x0, rtol=0, atol=1e-12)
    torch.testing.assert_close(eps_from_v(x_t, v, a, s), eps, rtol=0, atol=1e-12)
    for target in Target:
        got_x0, got_eps = split_prediction(target, target_value(target, x0, eps, a, s), x_t, a, s)
        torch.testing.assert_close(got_x0, x0, rtol=0, atol=1e-12)
        torch.testing.assert_close(got_eps, eps, rtol=0, atol=1e-12)


def test_v_reference_value():
    # a = 0.6, s = 0.8: v = 0.6 * eps - 0.8 * x0.
    x0, eps = torch.tensor([1.0]), torch.tensor([2.0])
    assert v_from_x0_eps(x0, eps, 0.6, 0.8).item() == pytest.approx(0.4)


@pytest.mark.parametrize("target", ["eps", "x0", "v"])
def test_min_snr_weight_equals_clipped_snr_times_x0_error(target):
    # Hang et al. 2023: every target's weighted loss is min(SNR, gamma) * ||x0 - x0_hat||^2.
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000), target, min_snr_gamma=5.0)
    g = torch.Generator().manual_seed(1)
    t = torch.tensor([0, 50, 200, 600, 999])
    x0 = torch.randn(5, 1, 2, 2, generator=g, dtype=torch.float64)
    noise = torch.randn(5, 1, 2, 2, generator=g, dtype=torch.float64)
    x_t = diffusion.q_sample(x0, t, noise)
    a = diffusion.coefficient("sqrt_alphas_cumprod", t, x0)
    s = diffusion.coefficient("sqrt_one_minus_alphas_cumprod", t, x0)
    prediction = target_value(diffusion.target, x0, noise, a, s) + 0.1 * torch.randn(5, 1, 2, 2, generator=g, dtype=torch.float64)
    x0_hat, _ = split_prediction(diffusion.target, prediction, x_t, a, s)

    weighted = diffusion.training_losses(lambda x, t: prediction, x0, t, noise).double()
    snr = torch.from_numpy(diffusion.schedule.snr[t.numpy()])
    expected = torch.clamp(snr, max=5.0) * (x0_hat - x0).square().mean(dim=(1, 2, 3))
    torch.testing.assert_close(weighted, expected, rtol=1e-5, atol=1e-9)
    assert np.isfinite(weighted.numpy()).all()
