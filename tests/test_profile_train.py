"""bench/profile_train.py: its variants build what they say."""

import pytest
import torch

from bench_scripts import load_bench_script
from ddpm.models.layers import ChannelsLastGroupNorm, FusedGroupNorm, SubpixelUpsample, Upsample


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("profile_train")


@pytest.mark.parametrize("variant, kind", [("nhwc-groupnorm", ChannelsLastGroupNorm), ("fused-groupnorm", FusedGroupNorm), ("default", torch.nn.GroupNorm)])
def test_the_variant_swaps_every_group_norm(bench, variant, kind):
    model = bench.VARIANTS[variant]["build"]()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(type(m) is kind for m in norms)


@pytest.mark.parametrize("variant, kind", [("subpixel-upsample", SubpixelUpsample), ("fused-subpixel", SubpixelUpsample), ("default", Upsample)])
def test_the_variant_swaps_every_upsampling(bench, variant, kind):
    ups = [m for m in bench.VARIANTS[variant]["build"]().modules() if isinstance(m, Upsample)]
    assert ups and all(type(m) is kind for m in ups)
