"""The toy U-Net's layout: two 3x3 convolutions per level, as the Diffusion Playground seed describes."""

from __future__ import annotations

import torch

from ddpm.models.toy_unet import ToyUNet


def test_toy_unet_has_two_3x3_convolutions_per_level():
    model = ToyUNet(1, (28, 28), (4, 8, 8))
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(conv.kernel_size == (3, 3) for conv in convs)
    assert not any(isinstance(m, torch.nn.ModuleList) for m in model.modules())
    # Down 1 -> 4 -> 8 -> 8, up 8 -> 8 -> 4 -> 1, two convolutions per level.
    widths = [(1, 4), (4, 4), (4, 8), (8, 8), (8, 8), (8, 8), (8, 8), (8, 8), (8, 4), (4, 4), (4, 1), (1, 1)]
    assert [(conv.in_channels, conv.out_channels) for conv in convs] == widths
    assert sum(p.numel() for p in model.parameters()) == sum(9 * i * o + o for i, o in widths)


def test_toy_unet_skips_carry_the_input_through():
    """With the deepest level silenced, the output still depends on the input (through the skips)."""
    torch.manual_seed(0)
    model = ToyUNet(1, (8, 8), (4, 4, 4)).eval()
    torch.nn.init.zeros_(model.down3[2].weight)
    torch.nn.init.zeros_(model.down3[2].bias)
    x = torch.randn(2, 1, 8, 8)
    out = model(x)
    assert out.shape == x.shape and not torch.allclose(out[0], out[1])
