"""bench/profile_train.py's candidate GroupNorm: the same numbers as nn.GroupNorm, in channels-last."""

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


def test_channels_last_group_norm_matches_group_norm_and_keeps_the_layout(bench):
    torch.manual_seed(0)
    reference = torch.nn.GroupNorm(4, 16, eps=1e-6)
    torch.nn.init.normal_(reference.weight), torch.nn.init.normal_(reference.bias)
    candidate = bench.ChannelsLastGroupNorm(4, 16, eps=1e-6)
    candidate.load_state_dict(reference.state_dict())
    x = (torch.randn(3, 16, 5, 6) * 3 + 1).contiguous(memory_format=torch.channels_last).requires_grad_(True)
    out, expected = candidate(x), reference(x)
    torch.testing.assert_close(out, expected, rtol=1e-5, atol=1e-5)
    assert out.is_contiguous(memory_format=torch.channels_last) and not out.is_contiguous()
    grad = torch.randn_like(out)
    got = torch.autograd.grad(out, [x, candidate.weight, candidate.bias], grad)
    want = torch.autograd.grad(expected, [x, reference.weight, reference.bias], grad)
    for a, b in zip(got, want):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_the_variant_swaps_every_group_norm(bench):
    model = bench.build(channels_last_group_norm=True)()
    norms = [m for m in model.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(type(m) is bench.ChannelsLastGroupNorm for m in norms)
