"""The sampling loop through a captured predictor gives the same images as without it."""

import numpy as np
import pytest
import torch

from ddpm import figure_data, generation
from ddpm.config import SamplerConfig, SamplingConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.models.unet import UNet
from ddpm.runtime import deterministic_kernels
from ddpm.samplers import generate, use_sampling_graphs
from ddpm.samplers.graphs import MAX_GRAPH_BATCH, CapturedPredictor
from ddpm.schedules import NoiseSchedule

from trainfiles import tiny_loaded_model


class _ClassModel(torch.nn.Module):
    """Depends on x, t and the class (null class 4), so stale buffers would change the images."""

    def __init__(self):
        super().__init__()
        self.scale = torch.nn.Parameter(torch.tensor(0.7))

    def forward(self, x, t, cond):
        return self.scale * torch.tanh(x) + cond.view(-1, 1, 1, 1).float() / 10 + torch.cos(t.view(-1, 1, 1, 1).float() / 30)

    def null_condition(self, cond):
        return torch.full_like(cond, 4)


def _images(device, sampler, target, cuda_graphs):
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 100), target)
    model = _ClassModel().to(device)
    cond = torch.tensor([0, 1, 2], device=device)
    images, traj = generate(
        model, diffusion, sampler, [3, 4, 5], (1, 4, 4), device=device, cond=cond, guidance_scale=2.0, record_every=1, cuda_graphs=cuda_graphs
    )
    return images, traj


SAMPLER_SETTINGS = [SamplerConfig("dpmpp_2m", 10, spacing="trailing"), SamplerConfig("heun", 7), SamplerConfig("ddim", 10, eta=0.5), SamplerConfig("ddpm", 20)]


@pytest.mark.parametrize("target", ["eps", "x0"])
@pytest.mark.parametrize("sampler", SAMPLER_SETTINGS, ids=lambda s: s.label)
def test_captured_predictor_gives_the_same_images_on_the_cpu(sampler, target):
    plain, plain_traj = _images("cpu", sampler, target, cuda_graphs=False)
    graphed, graphed_traj = _images("cpu", sampler, target, cuda_graphs=True)
    torch.testing.assert_close(graphed, plain, rtol=0, atol=0)
    torch.testing.assert_close(graphed_traj.x0, plain_traj.x0, rtol=0, atol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("target", ["eps", "x0"])
@pytest.mark.parametrize("sampler", SAMPLER_SETTINGS, ids=lambda s: s.label)
def test_cuda_graphs_give_the_same_images_on_the_gpu(sampler, target):
    plain, plain_traj = _images("cuda", sampler, target, cuda_graphs=False)
    graphed, graphed_traj = _images("cuda", sampler, target, cuda_graphs=True)
    torch.testing.assert_close(graphed, plain)
    # x0 predictions kept along the chain are not overwritten by later replays.
    torch.testing.assert_close(graphed_traj.x0, plain_traj.x0)


def test_captured_predictor_refuses_another_shape():
    predict = CapturedPredictor(lambda x, t: x * t.view(-1, 1))
    predict(torch.ones(2, 3), torch.tensor([1, 2]))
    with pytest.raises(ValueError, match="one shape"):
        predict(torch.ones(3, 3), torch.tensor([1, 2, 3]))


def test_graphs_follow_the_compile_setting_on_cuda_at_small_batches():
    assert use_sampling_graphs("auto", "cuda", 16)
    assert use_sampling_graphs("on", "cuda:0", MAX_GRAPH_BATCH)
    assert not use_sampling_graphs("auto", "cuda", MAX_GRAPH_BATCH + 1)
    assert not use_sampling_graphs("off", "cuda", 16)
    assert not use_sampling_graphs("on", "cpu", 16)


def test_sampling_jobs_replay_graphs_where_use_sampling_graphs_says(monkeypatch):
    """sample_set, the trajectory and the steps figure (whose network is not compiled) pass the
    decision on to the sampling loop, per batch size."""
    passed, asked = [], []
    real_generate = generation.generate

    def generate(*args, **kwargs):
        passed.append(kwargs["cuda_graphs"])
        return real_generate(*args, **kwargs)

    def graphs_pay(compile_setting, device, batch_size):
        asked.append((compile_setting, batch_size))
        return compile_setting != "off" and batch_size <= 2

    monkeypatch.setattr(generation, "generate", generate)
    monkeypatch.setattr(generation, "use_sampling_graphs", graphs_pay)
    monkeypatch.setattr(figure_data, "use_sampling_graphs", graphs_pay)
    loaded = tiny_loaded_model()
    sampler, cpu, labels = SamplerConfig("ddim", 2), torch.device("cpu"), np.array([0, 1, 2, 0])

    generation.sample_set(loaded, sampler, SamplingConfig(num_images=4, batch_size=2), cpu, labels, progress=False)
    assert (passed, asked) == ([True, True], [("auto", 2)])
    generation.sample_set(loaded, sampler, SamplingConfig(num_images=4, batch_size=4), cpu, labels, progress=False)
    generation.sample_set(loaded, sampler, SamplingConfig(num_images=4, batch_size=2, compile="off"), cpu, labels, progress=False)
    assert passed[2:] == [False, False, False]
    passed.clear()
    generation.sample_trajectory(loaded, sampler, SamplingConfig(trajectory_images=2), cpu, labels, frames=2)
    # The steps figure runs its network uncompiled but keeps the graphs its setting allows.
    figure_data.samples_by_steps(loaded, sampler, [1, 2], SamplingConfig(), [5, 6], labels[:2], cpu)
    assert passed == [True, True, True]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA graphs need a GPU")
@pytest.mark.parametrize("conditioning", ["class", "text"])
def test_cuda_graphs_of_an_uncompiled_unet_under_autocast_give_the_same_images(conditioning):
    """The trajectory's and the steps figure's path: eager U-Net, bf16 autocast, deterministic kernels."""
    if conditioning == "class":
        model = UNet(1, (28, 28), 32, (1, 2), 1, (14,), num_classes=10)
        cond = torch.arange(6, device="cuda") % 10
    else:
        model = UNet(1, (28, 28), 32, (1, 2), 1, (14,), text_vocab_size=20, text_length=5)
        cond = torch.randint(1, 20, (6, 5), device="cuda", generator=torch.Generator("cuda").manual_seed(0))
    model = model.cuda().eval().to(memory_format=torch.channels_last)
    diffusion = GaussianDiffusion(NoiseSchedule.from_name("linear", 1000))

    def images(cuda_graphs):
        with deterministic_kernels("cuda"), torch.autocast("cuda", dtype=torch.bfloat16):
            return generate(
                model, diffusion, SamplerConfig("ddpm", 1000), list(range(6)), (1, 28, 28), device="cuda",
                cond=cond, guidance_scale=2.0, record_every=25, cuda_graphs=cuda_graphs,
            )

    plain, plain_trajectory = images(False)
    graphed, graphed_trajectory = images(True)
    torch.testing.assert_close(graphed, plain, rtol=0, atol=0)
    torch.testing.assert_close(graphed_trajectory.x0, plain_trajectory.x0, rtol=0, atol=0)
