"""A small U-Net (16x16 grey images, two levels, attention at 8x8, no dropout) for the tests that
compare a model setting (GroupNorm kind, upsampling) against the default network."""

import torch

from ddpm.config import DataSpec, ModelConfig

SMALL_DATA = DataSpec(image_channels=1, image_size=(16, 16))
SMALL_UNET = ModelConfig(base_channels=32, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(8,), dropout=0.0)


def perturb(model: torch.nn.Module, scale: float = 0.05) -> torch.nn.Module:
    """Add noise to every parameter (in place): the zero-initialised output convolutions of the
    residual branches would otherwise hide what comes before them."""
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * scale)
    return model
