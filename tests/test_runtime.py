"""Deterministic kernels: the settings hold inside the block, are restored after, and the trainer and
the sampler run inside them when their config asks."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch._inductor import config as inductor_config

from ddpm.config import SamplerConfig, SamplingConfig
from ddpm.runtime import deterministic_kernels, tf32
from ddpm.training import train

from trainfiles import DIFFUSION, MODEL, SPEC, tiny_data, tiny_files, tiny_loaded_model, tiny_training


def kernel_settings() -> dict[str, bool]:
    cuda = torch.backends.cuda
    return {
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "warn only": torch.is_deterministic_algorithms_warn_only_enabled(),
        "cudnn deterministic": torch.backends.cudnn.deterministic,
        "cudnn benchmark": torch.backends.cudnn.benchmark,
        "inductor deterministic": inductor_config.deterministic,
        "flash attention": cuda.flash_sdp_enabled(),
        "memory-efficient attention": cuda.mem_efficient_sdp_enabled(),
        "cudnn attention": cuda.cudnn_sdp_enabled(),
        "fill uninitialized memory": torch.utils.deterministic.fill_uninitialized_memory,
    }


DETERMINISTIC = {
    "deterministic algorithms": True,
    "warn only": True,
    "cudnn deterministic": True,
    "cudnn benchmark": False,
    "inductor deterministic": True,
    "flash attention": False,
    "memory-efficient attention": False,
    "cudnn attention": False,
    "fill uninitialized memory": False,
}


@pytest.fixture
def fast_settings(monkeypatch):
    """The process in its fast settings (cuDNN and Inductor may tune by timing), restored after the test."""
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    with inductor_config.patch(deterministic=False):
        yield kernel_settings()


def test_deterministic_kernels_hold_inside_the_block_and_are_restored_after(fast_settings):
    assert fast_settings != DETERMINISTIC
    with deterministic_kernels("cpu"):
        assert kernel_settings() == DETERMINISTIC
    assert kernel_settings() == fast_settings


def test_settings_are_restored_when_the_block_raises(fast_settings):
    with pytest.raises(RuntimeError, match="boom"), deterministic_kernels("cpu"):
        raise RuntimeError("boom")
    assert kernel_settings() == fast_settings


def test_switched_off_the_block_changes_nothing(fast_settings):
    with deterministic_kernels("cpu", on=False):
        assert kernel_settings() == fast_settings


@pytest.mark.parametrize("deterministic", [True, False])
def test_training_runs_in_deterministic_kernels_when_its_config_asks(tmp_path, monkeypatch, fast_settings, deterministic):
    from ddpm.training import loop

    seen = []
    monkeypatch.setattr(loop._Run, "run", lambda self: seen.append(kernel_settings()))
    train(MODEL, SPEC, DIFFUSION, tiny_training(deterministic=deterministic), tiny_data(), tiny_files(tmp_path), device="cpu", progress=False)
    assert seen == [DETERMINISTIC if deterministic else fast_settings]
    assert kernel_settings() == fast_settings


@pytest.mark.parametrize("deterministic", [True, False])
def test_sampling_runs_in_deterministic_kernels_when_its_config_asks(monkeypatch, fast_settings, deterministic):
    from ddpm import generation

    seen = []
    real_generate = generation.generate

    def generate(*args, **kwargs):
        seen.append(kernel_settings())
        return real_generate(*args, **kwargs)

    monkeypatch.setattr(generation, "generate", generate)
    loaded = tiny_loaded_model()
    config = SamplingConfig(num_images=4, batch_size=2, deterministic=deterministic, compile="off")
    labels = np.array([0, 1, 2, 0])
    generation.sample_set(loaded, SamplerConfig("ddim", 2), config, torch.device("cpu"), labels, progress=False)
    generation.sample_trajectory(loaded, SamplerConfig("ddim", 2), SamplingConfig(trajectory_images=2, deterministic=deterministic), torch.device("cpu"), labels, frames=2)
    assert seen == [DETERMINISTIC if deterministic else fast_settings] * 3
    assert kernel_settings() == fast_settings


@pytest.mark.parametrize("enabled", [True, False])
def test_tf32_holds_inside_the_block_and_is_restored_after_a_raise(enabled):
    def tf32_settings():
        return torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32

    before = tf32_settings()
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = not enabled
    try:
        with pytest.raises(RuntimeError, match="boom"), tf32(enabled):
            assert tf32_settings() == (enabled, enabled)
            raise RuntimeError("boom")
        assert tf32_settings() == (not enabled, not enabled)
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = before
