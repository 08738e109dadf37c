"""What the figures show, computed: example picks, noise levels, noised images, the denoiser's
outputs and samples by step count, with tiny freshly built models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, SamplerConfig, SamplingConfig
from ddpm.errors import ConfigError, DataError
from ddpm.factory import build_diffusion, build_model
from ddpm.figure_data import denoiser_outputs, noise_levels, noised, pick_examples, resolve_step_counts, samples_by_steps
from ddpm.training import load_model_checkpoint, save_model_checkpoint

# Cosine allows a tiny T (the linear schedule needs T > 20), which keeps every chain short.
GAUSSIAN = DiffusionConfig(schedule="cosine", timesteps=10)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """One torch thread: for these tiny networks, waking a second thread costs more than it gains."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def class_model(tmp_path_factory):
    path = tmp_path_factory.mktemp("checkpoints") / "class.pt"
    config = ModelConfig(conditioning="class", base_channels=8, channel_mult=(1,), num_res_blocks=1, dropout=0.0)
    data = DataSpec(1, (8, 8), 3, ("zero", "one", "two"))
    torch.manual_seed(0)
    save_model_checkpoint(path, build_model(config, data), config, data, GAUSSIAN, {"experiment": "tiny_exp"})
    return load_model_checkpoint(path)


def test_pick_examples_prefers_distinct_labels():
    labels = np.array([0, 0, 0, 0, 1, 1, 2])
    picked = pick_examples(labels, 3, seed=0)
    assert sorted(labels[picked]) == [0, 1, 2]
    assert len(set(pick_examples(labels, 7, seed=1))) == 7
    with pytest.raises(ConfigError, match="cannot pick 8"):
        pick_examples(labels, 8, seed=0)


def test_noise_levels_follow_the_signal_left():
    diffusion = build_diffusion(DiffusionConfig(schedule="linear", timesteps=1000))
    levels = noise_levels(diffusion, (1.0, 0.5, 0.1), (), last_step=True)
    assert levels.values[0] == 0 and levels.values[-1] == 999 and list(levels.values) == sorted(levels.values)
    assert not levels.toy
    middle = int(levels.values[1])
    assert diffusion.schedule.sqrt_alphas_cumprod[middle] == pytest.approx(0.5, abs=0.01)
    toy = noise_levels(build_diffusion(DiffusionConfig(kind="toy")), (0.5,), (0.0, 0.5))
    assert toy.values == (0.0, 0.5) and toy.titles == ("noise share\na = 0", "noise share\na = 0.5") and toy.toy
    # Each Gaussian column names its timestep and the signal left there.
    assert levels.titles[1] == f"t = {middle}\n" + r"$\sqrt{\bar\alpha_t}$" + f" = {diffusion.schedule.sqrt_alphas_cumprod[middle]:.2f}"


def test_noised_uses_one_noise_draw_per_image():
    images = np.full((2, 4, 4, 1), 255, np.uint8)
    toy = noised(build_diffusion(DiffusionConfig(kind="toy")), images, (0.0, 0.5, 1.0), seed=3)
    assert toy.shape == (3, 2, 4, 4, 1) and toy.dtype == np.uint8
    np.testing.assert_array_equal(toy[0], images)  # amount 0: the image itself
    # One noise u along the row: x_0.5 = (x_0 + u) / 2 is the mean of the columns a = 0 and a = 1.
    mean = (toy[0].astype(float) + toy[2].astype(float)) / 2
    assert np.abs(toy[1] - mean).max() <= 1.0
    gaussian = build_diffusion(GAUSSIAN)
    a, b = noised(gaussian, images, (9.0,), seed=3), noised(gaussian, images, (9.0,), seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[0, 0], a[0, 1])  # images get different noise
    with pytest.raises(DataError, match="images to noise"):
        noised(gaussian, images[..., 0], (9.0,), seed=3)


def test_noised_follows_q_of_x_t_given_x0():
    """x_t = sqrt(alpha-bar_t) x0 + sqrt(1 - alpha-bar_t) eps, eps the seed's first normal draw."""
    diffusion = build_diffusion(GAUSSIAN)
    images = np.full((1, 4, 4, 1), 255, np.uint8)  # x0 = 1 in model units
    eps = torch.randn((1, 1, 4, 4), generator=torch.Generator().manual_seed(5)).numpy()
    t = 4
    expected = diffusion.schedule.sqrt_alphas_cumprod[t] + diffusion.schedule.sqrt_one_minus_alphas_cumprod[t] * eps
    expected_uint8 = (np.clip(expected, -1, 1) + 1) * 127.5
    got = noised(diffusion, images, (float(t),), seed=5)[0].transpose(0, 3, 1, 2)
    assert np.abs(got - expected_uint8).max() <= 1.0


def test_denoiser_outputs_shapes(class_model):
    images = np.zeros((2, 8, 8, 1), np.uint8)
    inputs, outputs = denoiser_outputs(class_model, images, np.array([0, 2]), (1.0, 5.0, 9.0), seed=0, device=torch.device("cpu"))
    assert inputs.shape == outputs.shape == (3, 2, 8, 8, 1) and outputs.dtype == inputs.dtype == np.uint8
    # The network sees exactly the forward-process images of the same seed.
    np.testing.assert_array_equal(inputs, noised(class_model.diffusion, images, (1.0, 5.0, 9.0), seed=0))


def test_resolve_step_counts():
    gaussian = build_diffusion(DiffusionConfig(schedule="linear", timesteps=50))
    toy = build_diffusion(DiffusionConfig(kind="toy"))
    assert resolve_step_counts(["5", "20", "all"], gaussian) == [5, 20, 50]
    assert resolve_step_counts(["5", "20", "all"], toy) == [5, 20, 100]
    assert resolve_step_counts(["5", "200", "all"], toy) == [5, 200]
    with pytest.raises(ConfigError, match="'five'"):
        resolve_step_counts(["five"], gaussian)


def test_samples_by_steps_keeps_the_seeds(class_model):
    config = SamplingConfig(num_images=2, guidance_scale=2.0)
    samples = samples_by_steps(class_model, SamplerConfig("ddim"), [2, 10, 10], config, [7, 8], np.array([0, 1]), torch.device("cpu"))
    assert samples.shape == (3, 2, 8, 8, 1)
    np.testing.assert_array_equal(samples[1], samples[2])  # same seeds and steps: the same images
