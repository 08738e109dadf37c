"""The fused GroupNorm + SiLU + dropout kernels (ddpm.models.fused_group_norm) against float64 PyTorch.

The tensors live on the GPU where there is one, so that the kernels run there; without one the
kernels run in Triton's interpreter on the CPU (tests/conftest.py sets TRITON_INTERPRET), so these
tests check the kernels' own code either way (on a GPU, CPU tensors would take PyTorch's operations
and test nothing of the kernels). The shapes are small but cover several programs per sample,
partial tiles and channel counts that are not powers of two.
"""

import dataclasses
import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from ddpm.factory import build_model
from ddpm.models import fused_group_norm
from ddpm.models.fused_group_norm import fused_kernels_apply, group_norm_act
from ddpm.models.layers import FusedGroupNorm
from ddpm.processes import env_with_package
from ddpm.runtime import tf32
from small_unet import SMALL_DATA, SMALL_UNET, perturb

pytestmark = pytest.mark.skipif(fused_group_norm.triton is None, reason="Triton is not installed")
# Where the kernels run: the GPU, else the CPU under Triton's interpreter.
DEVICE = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def on_device(values):
    """CPU-drawn ``values`` (the same draws on every machine) moved to DEVICE."""
    return values.to(DEVICE)


def channels_last(*shape, scale=1.0, offset=0.0, dtype=torch.float32, seed=0):
    x = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)) * scale + offset
    x = on_device(x).to(dtype).contiguous(memory_format=torch.channels_last)
    assert fused_kernels_apply(x), "these tests' inputs must take the kernels, not PyTorch's operations"
    return x


def affine(channels, seed=1):
    g = torch.Generator().manual_seed(seed)
    weight, bias = 1 + 0.5 * torch.randn(channels, generator=g), 0.5 * torch.randn(channels, generator=g)
    return on_device(weight).requires_grad_(), on_device(bias).requires_grad_()


def reference(x, weight, bias, groups, silu, mask=None, keep_prob=1.0, shift=None):
    """float64 PyTorch: the same function, the dropout given as a mask."""
    x = x.double() if shift is None else x.double() + shift.double()[:, :, None, None]
    y = F.group_norm(x, groups, weight.double(), bias.double(), 1e-6)
    y = F.silu(y) if silu else y
    return y if mask is None else y * mask / keep_prob


def grads(out, inputs, grad):
    return torch.autograd.grad(out, inputs, grad.to(out.device, out.dtype))


@pytest.mark.parametrize(
    "shape, groups, silu",
    [
        ((2, 64, 8, 8), 32, True),  # several programs per sample (C=64: 64-row tiles)
        ((3, 48, 5, 7), 16, False),  # 35 pixels: a partial tile; 3 channels per group
        ((1, 96, 15, 13), 32, True),  # 96 channels: a tile padded to 128; four programs, the last partial
        ((2, 8, 4, 4), 8, True),  # one channel per group
    ],
)
def test_forward_and_gradients_match_float64_pytorch(shape, groups, silu):
    x = channels_last(*shape, scale=2.0, offset=0.5).requires_grad_()
    weight, bias = affine(shape[1])
    out = group_norm_act(x, weight, bias, groups, 1e-6, silu=silu)
    assert out.dtype == x.dtype and out.is_contiguous(memory_format=torch.channels_last)
    expected = reference(x, weight, bias, groups, silu)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    grad = torch.randn(shape, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    got = grads(out, [x, weight, bias], grad)
    want = grads(expected, [x, weight, bias], grad)
    assert got[0].is_contiguous(memory_format=torch.channels_last)
    for name, a, b in zip(("dx", "dweight", "dbias"), got, want):
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-4, atol=1e-4, msg=lambda m: f"{name}: {m}")


def test_a_shift_per_sample_and_channel_is_added_before_the_norm_and_gets_its_gradient():
    x = channels_last(3, 64, 9, 7, scale=2.0).requires_grad_()
    weight, bias = affine(64)
    shift = on_device(3 * torch.randn(3, 64, generator=torch.Generator().manual_seed(5))).requires_grad_()
    out = group_norm_act(x, weight, bias, 16, 1e-6, shift=shift)
    expected = reference(x, weight, bias, 16, True, shift=shift)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    grad = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(6))
    got, want = grads(out, [x, weight, bias, shift], grad), grads(expected, [x, weight, bias, shift], grad)
    for name, a, b in zip(("dx", "dweight", "dbias", "dshift"), got, want):
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-4, atol=1e-4, msg=lambda m: f"{name}: {m}")


def test_statistics_stay_accurate_when_the_mean_dwarfs_the_spread():
    """Sums of x - (the sample's first pixel): E[x^2] - E[x]^2 in float32 would lose every digit of a
    variance of 1 under a mean of 10^4 (float32 resolves 10^8 only to 8: it gives -16, 0, -8, ...).
    What remains is float32's resolution of x and its mean near 10^4 (~1e-3)."""
    x = channels_last(2, 32, 8, 8, offset=1e4)
    weight, bias = torch.ones(32, device=DEVICE), torch.zeros(32, device=DEVICE)
    out = group_norm_act(x, weight, bias, 8, 1e-6, silu=False)
    torch.testing.assert_close(out.double(), reference(x, weight, bias, 8, False), rtol=0, atol=5e-3)


def test_bf16_inputs_give_bf16_outputs_within_their_rounding():
    x = channels_last(2, 64, 8, 8, scale=2.0, dtype=torch.bfloat16).requires_grad_()
    weight, bias = affine(64)
    out = group_norm_act(x, weight, bias, 32, 1e-6)
    assert out.dtype == torch.bfloat16 and out.is_contiguous(memory_format=torch.channels_last)
    expected = reference(x, weight, bias, 32, True)
    torch.testing.assert_close(out.double(), expected, rtol=2**-7, atol=2**-7)
    grad = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    (dx, dweight, dbias), want = grads(out, [x, weight, bias], grad), grads(expected, [x, weight, bias], grad)
    assert dx.dtype == torch.bfloat16 and dweight.dtype == torch.float32
    torch.testing.assert_close(dx.double(), want[0].double(), rtol=0.02, atol=0.02 * want[0].abs().max().item())
    torch.testing.assert_close(dweight.double(), want[1].double(), rtol=0.02, atol=0.02 * want[1].abs().max().item())
    torch.testing.assert_close(dbias.double(), want[2].double(), rtol=0.02, atol=0.02 * want[2].abs().max().item())


def test_dropout_zeroes_its_share_scales_the_rest_and_backpropagates_through_the_same_mask():
    x = channels_last(4, 64, 16, 16).requires_grad_()
    weight, bias = affine(64)
    torch.manual_seed(7)
    out = group_norm_act(x, weight, bias, 32, 1e-6, dropout=0.25)
    kept = (out != 0).double()
    assert 0.23 < 1 - kept.mean().item() < 0.27
    expected = reference(x, weight, bias, 32, True, mask=kept, keep_prob=0.75)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)
    grad = torch.randn(out.shape, dtype=torch.float64, generator=torch.Generator().manual_seed(4))
    for a, b in zip(grads(out, [x, weight, bias], grad), grads(expected, [x, weight, bias], grad)):
        torch.testing.assert_close(a.double(), b.double(), rtol=1e-4, atol=1e-4)


def test_a_seeded_generator_draws_the_same_masks_and_another_seed_others():
    x = channels_last(2, 32, 8, 8)
    weight, bias = affine(32)

    def masks(seed):
        return group_norm_act(x, weight, bias, 8, 1e-6, dropout=0.5, generator=torch.Generator(DEVICE).manual_seed(seed)) != 0

    assert torch.equal(masks(1), masks(1))
    assert not torch.equal(masks(1), masks(2))
    # Different samples of one batch draw different masks (the seed is offset by the sample).
    same_image = x[:1].expand(2, -1, -1, -1).contiguous(memory_format=torch.channels_last)
    out = group_norm_act(same_image, weight, bias, 8, 1e-6, dropout=0.5, generator=torch.Generator(DEVICE).manual_seed(1))
    assert not torch.equal(out[0] != 0, out[1] != 0)


def test_the_same_input_gives_the_same_bits():
    x = channels_last(3, 96, 15, 13).requires_grad_()
    weight, bias = affine(96)
    runs = []
    for _ in range(2):
        out = group_norm_act(x, weight, bias, 32, 1e-6)
        runs.append((out, *torch.autograd.grad(out.square().sum(), [x, weight, bias])))
    assert all(torch.equal(a, b) for a, b in zip(*runs))


def test_other_layouts_take_pytorchs_operations():
    x = on_device(torch.randn(2, 16, 4, 4))  # NCHW
    weight, bias = affine(16)
    assert not fused_kernels_apply(x) and fused_kernels_apply(x.contiguous(memory_format=torch.channels_last))
    torch.testing.assert_close(group_norm_act(x, weight, bias, 4, 1e-6), F.silu(F.group_norm(x, 4, weight, bias, 1e-6)))


@pytest.mark.parametrize(
    "dropout, groups, shift, message",
    [(1.0, 4, None, "dropout must be in"), (0.1, 5, None, "cannot be split into 5 groups"), (0.0, 4, torch.zeros(16), r"shift must be \(N, C\) = \(1, 16\)")],
)
def test_bad_arguments_are_errors(dropout, groups, shift, message):
    with pytest.raises(ValueError, match=message):
        group_norm_act(channels_last(1, 16, 2, 2), torch.ones(16), torch.zeros(16), groups, 1e-6, dropout=dropout, shift=shift)


@pytest.fixture
def full_float32():
    """Convolutions and matmuls in full float32 on a GPU (not TF32), so that two networks that differ
    only in their norms give results as close as the norms' own."""
    with tf32(False):
        yield


def test_a_unet_with_fused_group_norms_gives_the_standard_outputs_gradients_and_checkpoints(full_float32):
    data, config = SMALL_DATA, SMALL_UNET
    torch.manual_seed(0)

    def placed(model):
        return model.to(DEVICE, memory_format=torch.channels_last)

    standard = perturb(placed(build_model(config, data)))  # every bias shapes the output
    fused = placed(build_model(dataclasses.replace(config, group_norm="fused"), data))
    assert {type(m) for m in fused.modules() if isinstance(m, torch.nn.GroupNorm)} == {FusedGroupNorm}
    fused.load_state_dict(standard.state_dict())
    x = channels_last(2, 1, 16, 16)
    t = on_device(torch.tensor([5, 900]))
    for model in (standard, fused):
        model(x, t).square().mean().backward()
    with torch.no_grad():
        torch.testing.assert_close(fused.eval()(x, t), standard.eval()(x, t), rtol=1e-4, atol=1e-5)
    for (name, p), q in zip(standard.named_parameters(), fused.parameters()):
        torch.testing.assert_close(q.grad, p.grad, rtol=1e-4, atol=1e-6, msg=name)
    # With dropout the mask is drawn in the kernels, and the loss backpropagates to every parameter.
    fused = placed(build_model(dataclasses.replace(config, group_norm="fused", dropout=0.1), data))
    fused.load_state_dict(standard.state_dict())
    fused.train()(x, t).square().mean().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in fused.parameters())


# Compiles each kernel for an H100 (sm_90) with the argument types Inductor gives a user kernel
# (Python floats as float64 scalars), without a GPU: Triton's front end and ptxas run on the CPU.
# Triton's interpreter (TRITON_INTERPRET, set for the test session) does not check the types, so a
# child process without it does the compiling.
COMPILE_FOR_SM90 = """
import inspect, json, sys
import triton
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource
from ddpm.models import fused_group_norm as kernels

def signature(kernel):
    types = {}
    for name in inspect.signature(kernel.fn).parameters:
        if name.isupper():
            types[name] = "constexpr"
        elif name == "seed_ptr":
            types[name] = "*i64"
        elif name in ("x_ptr", "y_ptr", "g_ptr", "dx_ptr"):
            types[name] = "*bf16"
        elif name.endswith("_ptr"):
            types[name] = "*fp32"
        else:
            types[name] = "fp64" if name in ("keep_prob", "inv_keep") else "i32"
    return types

compiled = {}
for name in ("_forward_sums", "_forward_apply", "_backward_sums", "_backward_apply"):
    kernel = getattr(kernels, name)
    constants = {"BLOCK_ROWS": 32, "BLOCK_C": 128}
    if "SILU" in signature(kernel):
        constants.update(SILU=True, DROPOUT=True)
    binary = triton.compile(ASTSource(fn=kernel, signature=signature(kernel), constexprs=constants), target=GPUTarget("cuda", 90, 32))
    compiled[name] = sorted(binary.asm)
json.dump(compiled, sys.stdout)
"""


@pytest.mark.slow  # ten seconds of compiling on 2 cores
def test_the_kernels_compile_for_sm90_with_the_argument_types_inductor_passes():
    env = {**env_with_package(), "TRITON_INTERPRET": "0"}
    result = subprocess.run([sys.executable, "-c", COMPILE_FOR_SM90], capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    compiled = json.loads(result.stdout)
    assert set(compiled) == {"_forward_sums", "_forward_apply", "_backward_sums", "_backward_apply"}
    assert all("cubin" in stages for stages in compiled.values())
