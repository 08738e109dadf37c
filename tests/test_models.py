"""Networks keep the input shape, count the paper's parameters, and honour their conditioning."""

import dataclasses

import pytest
import torch
import torch.nn.functional as F

from ddpm.config import DataSpec, ModelConfig
from ddpm.errors import ConfigError
from ddpm.factory import build_model, build_tokenizer
from ddpm.models.conditioning import CharTokenizer
from ddpm.models.layers import (
    ChannelsLastGroupNorm,
    SubpixelUpsample,
    Upsample,
    subpixel_weight,
    timestep_embedding,
    upsample_conv_subpixel,
    upsample_nearest_2x,
    use_group_norm,
)
from ddpm.models.toy_unet import ToyUNet
from ddpm.models.unet import UNet
from small_unet import SMALL_DATA, SMALL_UNET, perturb


def _count(model):
    return sum(p.numel() for p in model.parameters())


def test_cifar10_unet_has_the_papers_35_7m_parameters():
    model = UNet(3, (32, 32), base_channels=128, channel_mult=(1, 2, 2, 2), num_res_blocks=2, attention_resolutions=(16,), dropout=0.1)
    assert _count(model) == 35_746_307  # Ho et al. 2020, Table 1: 35.7M


@pytest.mark.parametrize(
    "channels, size, mult, attn",
    [(1, (28, 28), (1, 2, 2), (14,)), (3, (32, 32), (1, 2, 2, 2), (16,)), (1, (32, 128), (1, 2, 2), (8,)), (3, (16, 16), (1, 2), ())],
)
def test_unet_keeps_the_input_shape(channels, size, mult, attn):
    model = UNet(channels, size, base_channels=32, channel_mult=mult, num_res_blocks=1, attention_resolutions=attn)
    x = torch.randn(2, channels, *size)
    assert model(x, torch.tensor([0, 999])).shape == x.shape


def test_unet_rejects_sizes_the_levels_cannot_halve():
    with pytest.raises(ConfigError, match="not divisible by 2\\^3"):
        UNet(1, (28, 28), channel_mult=(1, 2, 2, 2))


def test_output_starts_at_zero_and_class_condition_matters_after_training_step():
    model = build_model(ModelConfig(base_channels=32, conditioning="class"), DataSpec(1, (16, 16), num_classes=10))
    x, t = torch.randn(2, 1, 16, 16), torch.tensor([10, 10])
    # The zero-initialised output layer makes the untrained network output exactly 0.
    assert model(x, t, torch.tensor([1, 2])).abs().max() == 0
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.01 * torch.randn_like(p))
    same_x = x[:1].expand(2, -1, -1, -1)
    out = model(same_x, t, torch.tensor([3, model.null_condition(torch.tensor([0])).item()]))
    assert not torch.allclose(out[0], out[1])
    with pytest.raises(ValueError, match="pass cond"):
        model(x, t)


def test_text_conditional_unet_uses_every_character():
    data = DataSpec(1, (16, 32), alphabet="abc", text_length=3)
    model = build_model(ModelConfig(base_channels=32, conditioning="text", attention_resolutions=(8,), text_dim=32, text_layers=1), data)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.02 * torch.randn_like(p))
    tok = build_tokenizer(data)
    x = torch.randn(1, 1, 16, 32).expand(2, -1, -1, -1)
    out = model(x, torch.tensor([5, 5]), tok.encode(["abc", "abb"]))
    assert out.shape == x.shape and not torch.allclose(out[0], out[1])


def test_char_tokenizer_round_trip_and_errors():
    tok = CharTokenizer("2345678bcdefgmnpwxy", 5)
    ids = tok.encode(["fngff", "gnfcd", "23"])
    assert ids.shape == (3, 5) and ids[2, 2:].tolist() == [tok.pad_id] * 3
    assert tok.decode(ids) == ["fngff", "gnfcd", "23"]
    with pytest.raises(ConfigError, match="outside the alphabet"):
        tok.encode(["hello"])
    with pytest.raises(ConfigError, match="longer than"):
        tok.encode(["2345678"])


def test_timestep_embedding_reference_values():
    emb = timestep_embedding(torch.tensor([0, 1]), 4)
    # half = 2, freqs = [1, 1e-4]; sines then cosines.
    torch.testing.assert_close(emb[0], torch.tensor([0.0, 0.0, 1.0, 1.0]))
    torch.testing.assert_close(emb[1], torch.tensor([0.841471, 1e-4, 0.540302, 1.0]), rtol=1e-5, atol=1e-6)


def test_toy_unet_shape_and_factory_checks():
    model = build_model(ModelConfig(architecture="toy_unet"), DataSpec(1, (28, 28)))
    assert isinstance(model, ToyUNet) and model(torch.randn(3, 1, 28, 28)).shape == (3, 1, 28, 28)
    with pytest.raises(ConfigError, match="unconditional"):
        build_model(ModelConfig(architecture="toy_unet", conditioning="class"), DataSpec(1, (28, 28), num_classes=10))
    with pytest.raises(ConfigError, match="unknown model architecture"):
        build_model(ModelConfig(architecture="transformer"), DataSpec(1, (28, 28)))
    with pytest.raises(ConfigError, match="class labels"):
        build_model(ModelConfig(conditioning="class"), DataSpec(1, (28, 28)))


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_upsampling_matches_nearest_interpolation_and_keeps_the_memory_format(memory_format):
    """The broadcast upsampling gives F.interpolate's values and gradients (integer-valued, so the
    sums are exact) and keeps the layout, so channels-last networks need no copy around it."""
    x = torch.randn(2, 3, 4, 5).contiguous(memory_format=memory_format).requires_grad_(True)
    up = upsample_nearest_2x(x)
    reference = F.interpolate(x, scale_factor=2.0, mode="nearest")
    assert torch.equal(up, reference)
    assert up.is_contiguous(memory_format=memory_format)
    grad_out = torch.randint(-8, 8, up.shape, generator=torch.Generator().manual_seed(0)).float()
    assert torch.equal(torch.autograd.grad(up, x, grad_out)[0], torch.autograd.grad(reference, x, grad_out)[0])


def test_channels_last_group_norm_matches_group_norm_and_keeps_the_layout():
    torch.manual_seed(0)
    reference = torch.nn.GroupNorm(4, 16, eps=1e-6)
    torch.nn.init.normal_(reference.weight), torch.nn.init.normal_(reference.bias)
    candidate = ChannelsLastGroupNorm(4, 16, eps=1e-6)
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

def test_channels_last_group_norm_in_a_unet_keeps_its_outputs_and_weights():
    torch.manual_seed(0)
    model = UNet(1, (16, 16), 32, (1, 2), 1, (8,), dropout=0.0).eval().to(memory_format=torch.channels_last)
    x = torch.randn(2, 1, 16, 16).contiguous(memory_format=torch.channels_last)
    t = torch.tensor([3, 700])
    with torch.no_grad():
        before, state = model(x, t), {k: v.clone() for k, v in model.state_dict().items()}
        swapped = use_group_norm(model, "channels_last")
        after = swapped(x, t)
    assert swapped is model and any(type(m) is ChannelsLastGroupNorm for m in model.modules())
    assert not any(type(m) is torch.nn.GroupNorm for m in model.modules())
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    torch.testing.assert_close(after, before, rtol=1e-4, atol=1e-5)


def test_model_config_group_norm_chooses_the_kernel_and_checkpoints_load_either_way():
    data, config = SMALL_DATA, SMALL_UNET
    torch.manual_seed(0)
    standard = build_model(config, data).eval()
    swapped = build_model(dataclasses.replace(config, group_norm="channels_last"), data).eval()
    assert {type(m) for m in standard.modules() if isinstance(m, torch.nn.GroupNorm)} == {torch.nn.GroupNorm}
    assert {type(m) for m in swapped.modules() if isinstance(m, torch.nn.GroupNorm)} == {ChannelsLastGroupNorm}
    swapped.load_state_dict(standard.state_dict())  # the same parameters under the same names
    x = torch.randn(2, 1, 16, 16).contiguous(memory_format=torch.channels_last)
    t = torch.tensor([5, 900])
    with torch.no_grad():
        torch.testing.assert_close(swapped.to(memory_format=torch.channels_last)(x, t), standard(x, t), rtol=1e-4, atol=1e-5)


def test_subpixel_weight_sums_the_taps_each_output_phase_sees():
    # A 3x3 kernel with taps 1..9 (row-major): output row 2i sees input rows (i-1, i, i), so its 2x2
    # kernel's rows are (row 0, row 1 + row 2); row 2i+1 sees (i, i, i+1): (row 0 + row 1, row 2).
    weight = torch.arange(1.0, 10.0).view(1, 1, 3, 3)
    phases = subpixel_weight(weight).view(2, 2, 2, 2)  # (row phase, column phase, 2x2)
    assert phases[0, 0].tolist() == [[1, 2 + 3], [4 + 7, 5 + 6 + 8 + 9]]
    assert phases[0, 1].tolist() == [[1 + 2, 3], [4 + 5 + 7 + 8, 6 + 9]]
    assert phases[1, 0].tolist() == [[1 + 4, 2 + 3 + 5 + 6], [7, 8 + 9]]
    assert phases[1, 1].tolist() == [[1 + 2 + 4 + 5, 3 + 6], [7 + 8, 9]]


@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("size", [(4, 6), (1, 1), (5, 3)])
def test_subpixel_upsampling_is_nearest_upsampling_then_the_convolution(memory_format, size):
    """Against the direct computation in float64: values, every gradient, the memory format."""
    torch.manual_seed(0)
    x = torch.randn(2, 5, *size, dtype=torch.float64).contiguous(memory_format=memory_format).requires_grad_(True)
    weight = torch.randn(7, 5, 3, 3, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(7, dtype=torch.float64, requires_grad=True)
    reference = F.conv2d(F.interpolate(x, scale_factor=2.0, mode="nearest"), weight, bias, padding=1)
    candidate = upsample_conv_subpixel(x, weight, bias)
    torch.testing.assert_close(candidate, reference, rtol=1e-12, atol=1e-12)
    if size != (1, 1):  # a single pixel is laid out both ways
        assert candidate.is_contiguous(memory_format=memory_format)
    grad_out = torch.randn_like(reference)
    for a, b in zip(torch.autograd.grad(candidate, (x, weight, bias), grad_out), torch.autograd.grad(reference, (x, weight, bias), grad_out)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)


def test_model_config_upsample_chooses_subpixel_upsampling_with_the_same_parameters():
    torch.manual_seed(0)
    direct = perturb(build_model(SMALL_UNET, SMALL_DATA).eval())
    subpixel = build_model(dataclasses.replace(SMALL_UNET, upsample="subpixel"), SMALL_DATA).eval()
    assert {type(m) for m in direct.modules() if isinstance(m, Upsample)} == {Upsample}
    assert {type(m) for m in subpixel.modules() if isinstance(m, Upsample)} == {SubpixelUpsample}
    subpixel.load_state_dict(direct.state_dict())
    x = torch.randn(2, 1, 16, 16)
    t = torch.tensor([5, 900])
    with torch.no_grad():
        torch.testing.assert_close(subpixel(x, t), direct(x, t), rtol=1e-4, atol=1e-5)
