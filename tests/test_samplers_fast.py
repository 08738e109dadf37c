"""DPM-Solver++(2M) and Heun against the exact ODE solution for Gaussian data, and through generate()."""

import math
from pathlib import Path

import pytest
import torch
import yaml

from ddpm.config import SamplerConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError
from ddpm.samplers import SAMPLERS, SeededNoise, check_sampler, generate, run_chain
from ddpm.samplers.chain import visited_timesteps
from ddpm.samplers.ddim import ddim_step
from ddpm.samplers.dpm_solver import DPMSolverPP2M
from ddpm.samplers.spacing import SPACINGS
from ddpm.schedules import NoiseSchedule
from ddpm.targets import Target, target_value

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml").read_text())
SHAPE = (1, 4, 4)
SEEDS = [0, 1, 2]
FAST = ("dpmpp_2m", "heun")


class GaussianDenoiser:
    """The exact denoiser of data x0 ~ N(mu, c^2 I): E[x0 | x_t] = mu + a c^2 / (a^2 c^2 + s^2) (x_t - a mu).

    For such data the probability-flow ODE has a closed form: with sigma = s / a and x~ = x_t / a,
    x~ - mu grows like sqrt(c^2 + sigma^2), so every ODE solver can be checked against the exact path.
    """

    def __init__(self, diffusion: GaussianDiffusion, c: float = 0.5):
        self.diffusion, self.c = diffusion, c
        self.mu = torch.linspace(-0.6, 0.6, math.prod(SHAPE)).view(SHAPE)
        self.calls = 0

    def __call__(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        abar = torch.from_numpy(self.diffusion.schedule.alphas_cumprod.copy())[t].view(-1, 1, 1, 1)
        a, s = abar.sqrt(), (1 - abar).sqrt()
        x0 = self.mu + a * self.c**2 / (abar * self.c**2 + s**2) * (x.double() - a * self.mu)
        eps = (x.double() - a * x0) / s
        return target_value(self.diffusion.target, x0, eps, a, s).float()

    def exact_chain(self, x_start: torch.Tensor, t_start: int, t_end: int) -> torch.Tensor:
        """Exact ODE from t_start to t_end, then the denoiser there (the chain's last step is x0 = D)."""
        abar = self.diffusion.schedule.alphas_cumprod
        sigma = lambda t: math.sqrt((1 - abar[t]) / abar[t])  # noqa: E731
        scaled = x_start.double() / math.sqrt(abar[t_start])
        growth = math.sqrt(self.c**2 + sigma(t_end) ** 2) / math.sqrt(self.c**2 + sigma(t_start) ** 2)
        scaled_end = self.mu + (scaled - self.mu) * growth
        return self.mu + self.c**2 / (self.c**2 + sigma(t_end) ** 2) * (scaled_end - self.mu)


def _chain(algorithm: str, steps: int, target: str = "eps", spacing: str = "uniform") -> tuple[torch.Tensor, torch.Tensor]:
    """(sampled images, exact ODE result) for Gaussian data, with the denoiser given as ``target``."""
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000), target)
    model = GaussianDenoiser(diffusion)
    noise = SeededNoise(SEEDS, SHAPE, "cpu")
    images, _ = run_chain(model, diffusion, algorithm=algorithm, steps=steps, spacing=spacing, noise=noise, clip_x0=False)
    visited = visited_timesteps(algorithm, steps, 1000, spacing)
    exact = model.exact_chain(SeededNoise(SEEDS, SHAPE, "cpu").initial(), int(visited[0]), int(visited[-1]))
    return images, exact


def _chain_error(algorithm: str, steps: int, target: str = "eps", spacing: str = "uniform") -> float:
    images, exact = _chain(algorithm, steps, target, spacing)
    return (images.double() - exact).abs().max().item()


@pytest.mark.parametrize("algorithm, counts", [("dpmpp_2m", (40, 80, 160)), ("heun", (9, 17, 33, 65))])
def test_second_order_solvers_converge_at_second_order(algorithm, counts):
    errors = [_chain_error(algorithm, n) for n in counts]
    # Doubling the steps divides a second-order solver's error by about 4, a first-order one's by 2.
    ratios = [a / b for a, b in zip(errors, errors[1:])]
    assert min(ratios) > 3.3, (errors, ratios)
    ddim = [_chain_error("ddim", n) for n in (20, 40)]
    assert ddim[0] / ddim[1] < 2.2


@pytest.mark.parametrize("steps", [10, 20])
def test_dpm_solver_beats_ddim_at_few_trailing_steps(steps):
    # With uniform spacing the last steps jump from t = T/steps to t = 0, a step in log-SNR many times
    # the previous one, where the multistep extrapolation overshoots: trailing spacing suits it.
    dpm, ddim = _chain_error("dpmpp_2m", steps, spacing="trailing"), _chain_error("ddim", steps, spacing="trailing")
    assert dpm < ddim / 3, (dpm, ddim)


@pytest.mark.parametrize("algorithm", FAST)
def test_every_prediction_target_gives_the_same_chain(algorithm):
    eps_images, _ = _chain(algorithm, 9, "eps")
    for target in ("x0", "v"):
        torch.testing.assert_close(_chain(algorithm, 9, target)[0], eps_images, rtol=1e-4, atol=1e-4)


def test_dpm_solver_first_step_is_ddim_and_last_returns_x0():
    x, x0 = torch.randn(2, 3, generator=torch.Generator().manual_seed(0)), torch.rand(2, 3)
    abar_t, abar_s = 0.1, 0.4
    solver = DPMSolverPP2M()
    eps = (x - math.sqrt(abar_t) * x0) / math.sqrt(1 - abar_t)
    torch.testing.assert_close(solver.step(x, x0, abar_t, abar_s), ddim_step(x0, eps, abar_t, abar_s, 0.0, None))
    x0_next = torch.rand(2, 3)
    assert torch.equal(solver.step(x, x0_next, abar_s, 1.0), x0_next)


def test_dpm_solver_second_step_hand_computed():
    # Two steps through abar 0.2 -> 0.5 -> 0.8 with x0 predictions 1 and 2 (scalars, computed by hand):
    # lambda = log(abar / (1 - abar)) / 2: -0.693147, 0, 0.693147; h = 0.693147, r = 1, D = 2 + (2 - 1) / 2.
    solver = DPMSolverPP2M()
    x = torch.tensor([0.3])
    x1 = solver.step(x, torch.tensor([1.0]), 0.2, 0.5)
    expected_x1 = math.sqrt(0.5 / 0.8) * 0.3 + math.sqrt(0.5) * (1 - 0.5) * 1.0  # e^{-h} = 0.5
    torch.testing.assert_close(x1, torch.tensor([expected_x1]))
    x2 = solver.step(x1, torch.tensor([2.0]), 0.5, 0.8)
    expected_x2 = math.sqrt(0.2 / 0.5) * expected_x1 + math.sqrt(0.8) * (1 - 0.5) * 2.5
    torch.testing.assert_close(x2, torch.tensor([expected_x2]))


class _CountingClassModel(torch.nn.Module):
    """Output depends on the class (null class 4), so guidance changes the result; counts its calls."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, x, t, cond):
        self.calls += 1
        return 0.1 * torch.tanh(x) + cond.view(-1, 1, 1, 1).float() / 10 + t.view(-1, 1, 1, 1).float() / 5000

    def null_condition(self, cond):
        return torch.full_like(cond, 4)


@pytest.mark.parametrize("target", ["eps", "x0", "v"])
@pytest.mark.parametrize("algorithm, steps", [("dpmpp_2m", 10), ("heun", 9)])
def test_guided_generation_is_reproducible_and_counts_network_evaluations(algorithm, steps, target):
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100), target)
    cfg = SamplerConfig(algorithm, steps, spacing="trailing")
    cond = torch.tensor([0, 1, 2])

    def run(seeds, cond, scale):
        model = _CountingClassModel()
        images, _ = generate(model, diffusion, cfg, seeds, (1, 4, 4), device="cpu", cond=cond, guidance_scale=scale)
        assert model.calls == steps  # one (doubled) batch per evaluation
        return images

    a = run(SEEDS, cond, 2.0)
    assert torch.isfinite(a).all() and a.abs().max() <= 1.0
    torch.testing.assert_close(run(SEEDS, cond, 2.0), a, rtol=0, atol=0)
    torch.testing.assert_close(run(SEEDS[2:], cond[2:], 2.0), a[2:], rtol=0, atol=0)
    assert not torch.allclose(run(SEEDS, cond, 1.0), a)
    assert not torch.allclose(run([5, 6, 7], cond, 2.0), a)


@pytest.mark.parametrize("algorithm", FAST)
def test_trajectory_records_the_visited_timesteps(algorithm):
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("cosine", 100), "v")
    model = GaussianDenoiser(diffusion)
    _, traj = run_chain(model, diffusion, algorithm=algorithm, steps=9, spacing="uniform", noise=SeededNoise([0], SHAPE, "cpu"), record_every=1)
    assert traj.timesteps == visited_timesteps(algorithm, 9, 100, "uniform").tolist()
    assert len(traj.timesteps) == (5 if algorithm == "heun" else 9)


def test_heun_steps_count_network_evaluations():
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100))
    check_sampler(SamplerConfig("heun", 199), diffusion)  # 100 noise levels
    with pytest.raises(ConfigError, match="odd number of steps.*use 19 or 21"):
        check_sampler(SamplerConfig("heun", 20), diffusion)
    with pytest.raises(ConfigError, match="exceed"):
        check_sampler(SamplerConfig("heun", 201), diffusion)
    with pytest.raises(ConfigError, match="exceed"):
        check_sampler(SamplerConfig("dpmpp_2m", 101), diffusion)
    with pytest.raises(ConfigError, match="repeats"):
        check_sampler(SamplerConfig("dpmpp_2m", 90, spacing="quadratic"), diffusion)


def test_schema_lists_the_samplers_and_spacings():
    sampler = SCHEMA["$defs"]["sampler"]["properties"]
    assert sampler["sampler"]["enum"] == list(SAMPLERS)
    assert sampler["spacing"]["enum"] == list(SPACINGS)
