"""bench/profile_train.py: its variants build what they say."""

import pytest
import torch

from bench_scripts import load_bench_script
from ddpm.models.layers import ChannelsLastGroupNorm


@pytest.fixture(scope="module")
def bench():
    return load_bench_script("profile_train")


def test_the_variant_swaps_every_group_norm(bench):
    model = bench.build(channels_last_group_norm=True)()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(type(m) is ChannelsLastGroupNorm for m in norms)
