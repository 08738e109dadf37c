"""Beta schedules and derived coefficients: hard-coded reference values and an independent oracle."""

import math

import numpy as np
import pytest

from ddpm.errors import ConfigError
from ddpm.schedules import NoiseSchedule, beta_schedule_names, make_betas, register_beta_schedule


def test_linear_schedule_reference_values():
    s = NoiseSchedule.from_name("linear", 1000)
    assert s.betas[0] == pytest.approx(1e-4) and s.betas[-1] == pytest.approx(0.02)
    # Posterior variance beta~_t = beta_t (1 - abar_{t-1}) / (1 - abar_t).
    assert s.posterior_variance[487] == pytest.approx(0.00979157, rel=1e-5)
    assert s.posterior_variance[999] == pytest.approx(0.0199999835, rel=1e-7)
    assert s.posterior_variance[0] == 0.0
    assert s.alphas_cumprod[-1] == pytest.approx(4.0358e-5, rel=1e-4)
    # The clipped log replaces log(0) at t = 0 by the log of the next variance.
    assert s.posterior_log_variance_clipped[0] == s.posterior_log_variance_clipped[1]
    assert np.isfinite(s.posterior_log_variance_clipped).all()


def test_linear_schedule_scales_with_T():
    s = NoiseSchedule.from_name("linear", 250)
    assert s.betas[0] == pytest.approx(4e-4) and s.betas[-1] == pytest.approx(0.08)


def test_cosine_schedule_matches_its_closed_form():
    T, s_off = 1000, 0.008
    sched = NoiseSchedule.from_name("cosine", T)
    f = lambda t: math.cos((t / T + s_off) / (1 + s_off) * math.pi / 2) ** 2  # noqa: E731
    # Away from the 0.999 clip, abar_t equals f(t + 1) / f(0) (abar is after t+1 noising steps).
    for t in (0, 10, 500, 900):
        assert sched.alphas_cumprod[t] == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert sched.betas.max() == pytest.approx(0.999)
    assert sched.betas[0] == pytest.approx(4.128422e-05, rel=1e-6)


def test_sigmoid_schedule_is_monotone_and_capped():
    s = NoiseSchedule.from_name("sigmoid", 1000)
    assert np.all(np.diff(s.alphas_cumprod) < 0)
    assert s.alphas_cumprod[499] == pytest.approx(0.5, abs=2e-3)  # symmetric around the midpoint
    assert s.betas.max() <= 0.999


@pytest.mark.parametrize("name", ["linear", "cosine", "sigmoid"])
def test_derived_coefficients_are_consistent(name):
    s = NoiseSchedule.from_name(name, 200)
    np.testing.assert_allclose(s.alphas_cumprod, np.cumprod(1 - s.betas), rtol=1e-12)
    np.testing.assert_allclose(s.sqrt_alphas_cumprod**2 + s.sqrt_one_minus_alphas_cumprod**2, 1.0, rtol=1e-12)
    # The posterior mean coefficients reproduce x_{t-1}'s mean when x_t is noise-free.
    abar_prev = s.alphas_cumprod_prev
    np.testing.assert_allclose(
        s.posterior_mean_coef1 + s.posterior_mean_coef2 * s.sqrt_alphas_cumprod, np.sqrt(abar_prev), rtol=1e-10
    )
    assert s.betas.dtype == np.float64 and not s.betas.flags.writeable


def test_registry_is_append_only_and_rejects_unknown_names():
    assert {"linear", "cosine", "sigmoid"} <= set(beta_schedule_names())
    with pytest.raises(ValueError, match="already registered"):
        register_beta_schedule("linear")(lambda T: np.full(T, 0.01))
    with pytest.raises(ConfigError, match="unknown beta schedule 'lineer'"):
        make_betas("lineer", 10)
