"""DPM-Solver++(2M) and Heun step by step against diffusers' schedulers on the same model outputs."""

import math

import numpy as np
import pytest
import torch

from ddpm.diffusion import GaussianDiffusion
from ddpm.samplers import SeededNoise, run_chain
from ddpm.samplers.chain import visited_timesteps
from ddpm.schedules import NoiseSchedule

diffusers = pytest.importorskip("diffusers")

SEEDS, SHAPE = [0, 1], (3, 4, 4)
PREDICTION_TYPES = [("epsilon", "eps"), ("sample", "x0"), ("v_prediction", "v")]


def fake_model(x: torch.Tensor, t) -> torch.Tensor:
    """A fixed deterministic function of (x_t, t) standing in for the network."""
    t = torch.as_tensor(t, dtype=torch.float32).reshape(-1, 1, 1, 1)
    return 0.8 * torch.tanh(1.3 * x + 0.2) + 0.3 * torch.cos(t / 150.0) - 0.1


def _ours(algorithm, target, steps, spacing, clip_x0):
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000), target)
    images, trajectory = run_chain(
        fake_model, diffusion, algorithm=algorithm, steps=steps, spacing=spacing, noise=SeededNoise(SEEDS, SHAPE, "cpu"), clip_x0=clip_x0, record_every=1
    )
    return images, trajectory, diffusion.schedule.alphas_cumprod


@pytest.mark.parametrize("spacing, option", [("karras", "use_karras_sigmas"), ("logsnr", "use_lu_lambdas")])
@pytest.mark.parametrize("steps", [5, 10, 20, 50])
def test_noise_level_spacings_match_diffusers(spacing, option, steps):
    abar = NoiseSchedule.from_name("linear", 1000).alphas_cumprod
    ref = diffusers.DPMSolverMultistepScheduler(num_train_timesteps=1000, beta_schedule="linear", beta_start=1e-4, beta_end=0.02, **{option: True})
    ref.set_timesteps(steps)
    expected = ref.timesteps.numpy()
    ours = visited_timesteps("ddim", steps, 1000, spacing, abar)
    if len(np.unique(expected)) == steps:
        np.testing.assert_array_equal(ours, expected)
    else:
        # diffusers keeps a repeated timestep; ours moves the upper of the two one step up.
        assert len(np.unique(ours)) == steps and ours[0] == expected[0] and ours[-1] == expected[-1]


@pytest.mark.parametrize("prediction_type, target", PREDICTION_TYPES)
@pytest.mark.parametrize("steps, spacing", [(10, "trailing"), (20, "trailing"), (20, "uniform"), (12, "quadratic")])
@pytest.mark.parametrize("clip_x0", [False, True])
def test_dpm_solver_matches_diffusers_step_by_step(prediction_type, target, steps, spacing, clip_x0):
    images, trajectory, _ = _ours("dpmpp_2m", target, steps, spacing, clip_x0)
    ref = diffusers.DPMSolverMultistepScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        beta_start=1e-4,
        beta_end=0.02,
        algorithm_type="dpmsolver++",
        solver_order=2,
        prediction_type=prediction_type,
        lower_order_final=True,
        final_sigmas_type="zero",
        # Dynamic thresholding with a maximum of 1 is clamping x0 to [-1, 1].
        thresholding=clip_x0,
        sample_max_value=1.0,
    )
    if spacing == "trailing":
        ref.register_to_config(timestep_spacing="trailing")
        ref.set_timesteps(steps)
    else:
        # diffusers' own "leading"/"linspace" drop a step of an (N+1)-step grid; give it ours instead.
        ref.set_timesteps(timesteps=visited_timesteps("dpmpp_2m", steps, 1000, spacing).tolist())
    np.testing.assert_array_equal(ref.timesteps.numpy(), trajectory.timesteps)
    x = SeededNoise(SEEDS, SHAPE, "cpu").initial()
    for i, t in enumerate(ref.timesteps):
        torch.testing.assert_close(trajectory.x_t[i], x, rtol=1e-4, atol=1e-4, msg=f"before step {i} (t={int(t)})")
        x = ref.step(fake_model(x, t), t, x).prev_sample
    torch.testing.assert_close(images, x, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("prediction_type, target", PREDICTION_TYPES)
@pytest.mark.parametrize("steps, spacing, diffusers_spacing", [(9, "uniform", "leading"), (19, "trailing", "trailing"), (39, "uniform", "leading")])
@pytest.mark.parametrize("clip_x0", [False, True])
def test_heun_matches_diffusers_step_by_step(prediction_type, target, steps, spacing, diffusers_spacing, clip_x0):
    images, trajectory, abar = _ours("heun", target, steps, spacing, clip_x0)
    ref = diffusers.HeunDiscreteScheduler(
        num_train_timesteps=1000,
        beta_schedule="linear",
        # Ho et al.'s betas; this scheduler's defaults are Stable Diffusion's.
        beta_start=1e-4,
        beta_end=0.02,
        prediction_type=prediction_type,
        timestep_spacing=diffusers_spacing,
        clip_sample=clip_x0,
        clip_sample_range=1.0,
    )
    levels = (steps + 1) // 2
    ref.set_timesteps(levels)
    # diffusers repeats every timestep after the first: one Euler and one correction evaluation each.
    assert len(ref.timesteps) == steps
    np.testing.assert_array_equal(ref.timesteps[::2].numpy(), trajectory.timesteps)
    # diffusers' state is x~ = x_t / sqrt(abar_t) (EDM's variance-exploding variable); ours is x_t.
    x = SeededNoise(SEEDS, SHAPE, "cpu").initial() / math.sqrt(abar[trajectory.timesteps[0]])
    for k, t in enumerate(ref.timesteps):
        if k % 2 == 0:
            i = k // 2
            ours = trajectory.x_t[i] / math.sqrt(abar[trajectory.timesteps[i]])
            torch.testing.assert_close(ours, x, rtol=1e-4, atol=1e-4, msg=f"at level {i} (t={int(t)})")
        x = ref.step(fake_model(ref.scale_model_input(x, t), t), t, x).prev_sample
    torch.testing.assert_close(images, x, rtol=1e-4, atol=1e-4)
