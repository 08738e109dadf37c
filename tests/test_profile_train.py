"""bench/profile_train.py: its variants build what they say."""

import importlib.util
import sys
from pathlib import Path

import pytest
import torch

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "profile_train.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("profile_train", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_variant_swaps_every_group_norm(bench):
    from ddpm.models.layers import ChannelsLastGroupNorm

    model = bench.build(channels_last_group_norm=True)()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(type(m) is ChannelsLastGroupNorm for m in norms)
