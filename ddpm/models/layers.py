"""Building blocks of the DDPM U-Net (Ho et al. 2020, Appendix B; their `diffusion_tf/models/unet.py`)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ddpm.models.fused_group_norm import group_norm_act


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (0-based) timesteps, as in the Transformer (Vaswani et al. 2017, Sec. 3.5).

    Frequencies follow Ho et al.'s ``get_timestep_embedding``: exp(-log(max_period) * i / (half - 1)),
    sines first, then cosines. Computed in float32 whatever the autocast dtype, because bf16 cannot
    resolve t * freq for t near 1000.
    """
    half = dim // 2
    exponent = -math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / max(half - 1, 1)
    args = t.to(torch.float32)[:, None] * torch.exp(exponent)[None, :]
    emb = torch.cat([torch.sin(args), torch.cos(args)], dim=1)
    if dim % 2:
        emb = F.pad(emb, (0, 1))
    return emb


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with 32 groups (Ho et al.), or the largest divisor of 32 that divides ``channels``."""
    return nn.GroupNorm(math.gcd(32, channels), channels, eps=1e-6)


class ChannelsLastGroupNorm(nn.GroupNorm):
    """GroupNorm computed on the NHWC memory of a channels-last input, returning a channels-last result.

    ``F.group_norm`` on CUDA returns NCHW-contiguous tensors whatever its input's layout, so most
    convolutions of a channels-last U-Net receive NCHW inputs, and cuDNN's NHWC kernels make ATen
    copy them (and their gradients) first: 15% of a CIFAR-10 U-Net's training step on an H100
    (docs/benchmarks.md). Statistics in float32, as autocast's group_norm computes them; the same
    values as :class:`torch.nn.GroupNorm` up to rounding. Inputs in another layout take the
    standard kernel. Chosen by ``model.group_norm: channels_last``; not the default, because swapping
    it in changes a trained model's last bits.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not is_channels_last(x):
            return super().forward(x)
        b, c, h, w = x.shape
        groups = x.float().permute(0, 2, 3, 1).reshape(b, h * w, self.num_groups, c // self.num_groups)
        var, mean = torch.var_mean(groups, dim=(1, 3), keepdim=True, correction=0)
        y = ((groups - mean) * torch.rsqrt(var + self.eps)).reshape(b, h, w, c)
        if self.affine:
            y = y * self.weight + self.bias
        return y.permute(0, 3, 1, 2)


class FusedGroupNorm(nn.GroupNorm):
    """GroupNorm whose channels-last CUDA inputs take fused Triton kernels (:mod:`ddpm.models.fused_group_norm`).

    :func:`norm_silu` hands it the SiLU and the dropout that follow it, so the three take two passes
    over the activation each way (statistics, then the output; sums, then the input gradient).
    Chosen by ``model.group_norm: fused``; the same function as :class:`torch.nn.GroupNorm` up to
    rounding, but other dropout masks.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(x, silu=False)

    def act(self, x: torch.Tensor, silu: bool = True, dropout: float = 0.0, shift: torch.Tensor | None = None) -> torch.Tensor:
        """``dropout(silu(self(x + shift)))``; ``dropout`` is the probability of zeroing (0 in
        evaluation), ``shift`` (N, C) a value per sample and channel."""
        if self.affine:
            weight, bias = self.weight, self.bias
        else:
            weight, bias = torch.ones(self.num_channels, device=x.device), torch.zeros(self.num_channels, device=x.device)
        return group_norm_act(x, weight, bias, self.num_groups, self.eps, silu, dropout, shift)


def norm_silu(norm: nn.GroupNorm, x: torch.Tensor, dropout: nn.Dropout | None = None, shift: torch.Tensor | None = None) -> torch.Tensor:
    """``dropout(silu(norm(x + shift)))`` (``shift``: (N, C), or None), in one fused pass where
    ``norm`` is a :class:`FusedGroupNorm`."""
    if isinstance(norm, FusedGroupNorm):
        p = dropout.p if dropout is not None and dropout.training else 0.0
        return norm.act(x, silu=True, dropout=p, shift=shift)
    if shift is not None:
        x = x + shift[:, :, None, None]
    h = F.silu(norm(x))
    return h if dropout is None else dropout(h)


# model.group_norm: nn.GroupNorm, ChannelsLastGroupNorm or FusedGroupNorm.
GROUP_NORM_CLASSES = {"standard": nn.GroupNorm, "channels_last": ChannelsLastGroupNorm, "fused": FusedGroupNorm}
GROUP_NORMS = tuple(GROUP_NORM_CLASSES)


def use_group_norm(model: nn.Module, kind: str) -> nn.Module:
    """Make every GroupNorm of ``model`` the ``kind`` of :data:`GROUP_NORM_CLASSES` (in place; same
    parameters and state dict)."""
    return _swap_classes(model, nn.GroupNorm, GROUP_NORM_CLASSES[kind])


def use_upsample(model: nn.Module, kind: str) -> nn.Module:
    """Make every :class:`Upsample` of ``model`` the ``kind`` of :data:`UPSAMPLE_CLASSES` (in place;
    same parameters and state dict)."""
    return _swap_classes(model, Upsample, UPSAMPLE_CLASSES[kind])


def _swap_classes(model: nn.Module, base: type, cls: type) -> nn.Module:
    for module in model.modules():
        if isinstance(module, base):
            module.__class__ = cls
    return model


def zero_init(module: nn.Module) -> nn.Module:
    """Zero the weights and bias, so a residual branch starts as the identity (Ho et al.: init_scale=0)."""
    for p in module.parameters():
        nn.init.zeros_(p)
    return module


class ResBlock(nn.Module):
    """GN-SiLU-conv, plus a projection of the embedding, then GN-SiLU-dropout-conv, with a skip."""

    def __init__(self, in_channels: int, out_channels: int, emb_dim: int, dropout: float):
        super().__init__()
        self.norm1 = group_norm(in_channels)
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.emb_proj = nn.Linear(emb_dim, out_channels)
        self.norm2 = group_norm(out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = zero_init(nn.Conv2d(out_channels, out_channels, 3, padding=1))
        self.skip = nn.Conv2d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        if isinstance(self.norm2, FusedGroupNorm):
            # The fused norm adds a shift per sample and channel in float32: conv1's bias joins the
            # embedding's there, instead of costing a pass over conv1's output (Inductor peels a
            # convolution's bias off into a kernel of its own) and a reduction over its gradient.
            h = self.conv1._conv_forward(norm_silu(self.norm1, x), self.conv1.weight, None)
            shift = self.emb_proj(F.silu(emb)) + self.conv1.bias
        else:
            h = self.conv1(norm_silu(self.norm1, x))
            shift = self.emb_proj(F.silu(emb))
        h = self.conv2(norm_silu(self.norm2, h, self.dropout, shift=shift))
        return self.skip(x) + h


def _tokens(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, H*W, C); a free view when x is channels-last (as on CUDA)."""
    b, c, h, w = x.shape
    return x.permute(0, 2, 3, 1).reshape(b, h * w, c)


def _image(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """(B, H*W, C) -> (B, C, H, W) in channels-last memory, without a copy."""
    b, n, c = x.shape
    return x.reshape(b, h, w, c).permute(0, 3, 1, 2)


def _heads(x: torch.Tensor, num_heads: int) -> torch.Tensor:
    """(B, N, C) -> (B, heads, N, C/heads)."""
    b, n, c = x.shape
    return x.view(b, n, num_heads, c // num_heads).transpose(1, 2)


def _merge_heads(x: torch.Tensor) -> torch.Tensor:
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


class AttentionBlock(nn.Module):
    """Spatial self-attention (Ho et al.), optionally followed by cross-attention to a text context.

    The cross-attention queries are the image's positions: a learned positional embedding of the
    feature map is added to them, so that a position can learn which character of the string it
    should draw (plain convolutional features carry little absolute position). Both attentions use
    ``scaled_dot_product_attention`` (flash / memory-efficient kernels on CUDA).
    """

    def __init__(
        self,
        channels: int,
        num_heads: int = 1,
        context_dim: int | None = None,
        feature_size: tuple[int, int] | None = None,
    ):
        super().__init__()
        if channels % num_heads:
            raise ValueError(f"{channels} channels cannot be split into {num_heads} attention heads")
        self.num_heads = num_heads
        self.norm = group_norm(channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = zero_init(nn.Conv2d(channels, channels, 1))
        self.cross = context_dim is not None
        if self.cross:
            if feature_size is None:
                raise ValueError("cross-attention needs the feature map size for its positional embedding")
            self.cross_norm = group_norm(channels)
            self.position = nn.Parameter(torch.randn(1, channels, *feature_size) * 0.02)
            self.cross_q = nn.Linear(channels, channels)
            self.cross_kv = nn.Linear(context_dim, 2 * channels)
            self.cross_proj = zero_init(nn.Linear(channels, channels))

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = _tokens(self.qkv(self.norm(x))).chunk(3, dim=2)
        out = F.scaled_dot_product_attention(*(_heads(z, self.num_heads) for z in (q, k, v)))
        x = x + self.proj(_image(_merge_heads(out), h, w))
        if self.cross:
            if context is None:
                raise ValueError("this attention block needs a text context")
            k, v = self.cross_kv(context).chunk(2, dim=2)
            q = self.cross_q(_tokens(self.cross_norm(x) + self.position))
            out = F.scaled_dot_product_attention(*(_heads(z, self.num_heads) for z in (q, k, v)))
            x = x + _image(self.cross_proj(_merge_heads(out)), h, w)
        return x


class Downsample(nn.Module):
    """Halve the resolution with a stride-2 3x3 convolution (Ho et al.: resamp_with_conv=True)."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class OutputHead(nn.Sequential):
    """GroupNorm, SiLU, convolution (Ho et al.'s output layers), the first two fused where they can be
    (:func:`norm_silu`); an ``nn.Sequential`` for the parameters' names."""

    def __init__(self, channels: int, out_channels: int):
        super().__init__(group_norm(channels), nn.SiLU(), zero_init(nn.Conv2d(channels, out_channels, 3, padding=1)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self[2](norm_silu(self[0], x))


def is_channels_last(x: torch.Tensor) -> bool:
    """Whether ``x`` is laid out NHWC (and not also NCHW, as a tensor of one channel or pixel is)."""
    return x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()


def upsample_nearest_2x(x: torch.Tensor) -> torch.Tensor:
    """Nearest-neighbour 2x upsampling of (B, C, H, W) as a broadcast, in ``x``'s memory format.

    The same values as ``F.interpolate(x, scale_factor=2, mode="nearest")``, but the backward is a sum
    over each 2x2 block (a reduction, which compiles into a fused deterministic kernel) instead of a
    scatter with atomic adds, which is nondeterministic on CUDA or falls back to a slow sort.
    """
    b, c, h, w = x.shape
    if is_channels_last(x):
        nhwc = x.permute(0, 2, 3, 1)
        return nhwc[:, :, None, :, None, :].expand(b, h, 2, w, 2, c).reshape(b, 2 * h, 2 * w, c).permute(0, 3, 1, 2)
    return x[:, :, :, None, :, None].expand(b, c, h, 2, w, 2).reshape(b, c, 2 * h, 2 * w)


class Upsample(nn.Module):
    """Double the resolution: nearest-neighbour upsampling, then a 3x3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(upsample_nearest_2x(x))


class SubpixelUpsample(Upsample):
    """:class:`Upsample`'s function computed on the low-resolution input (:func:`upsample_conv_subpixel`):
    the same parameters, 2.25x fewer convolution FLOPs, no upsampled copy; other rounding. Chosen by
    ``model.upsample: subpixel``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return upsample_conv_subpixel(x, self.conv.weight, self.conv.bias)


def _phase_taps(weight: torch.Tensor, dim: int) -> torch.Tensor:
    """The 3 taps of ``weight`` along ``dim`` -> the 2 taps that act on the low-resolution input for
    output phase 0 and 1, stacked in a new first dimension. Nearest upsampling repeats input row i as
    rows 2i and 2i+1, so output row 2i sees input rows (i-1, i, i) and row 2i+1 sees (i, i, i+1)."""
    t0, t1, t2 = weight.unbind(dim)
    return torch.stack([torch.stack([t0, t1 + t2], dim), torch.stack([t0 + t1, t2], dim)])


def subpixel_weight(weight: torch.Tensor) -> torch.Tensor:
    """(O, I, 3, 3) -> (4 O, I, 2, 2): the kernel of each output phase (row phase a, column phase b),
    in the order (a, b, O). The taps are summed in the weight's dtype (additions: autocast leaves them
    in float32)."""
    out_channels, in_channels = weight.shape[:2]
    per_row = _phase_taps(weight, 2)  # (a, O, I, 2, 3)
    per_pixel = _phase_taps(per_row, 4)  # (b, a, O, I, 2, 2)
    return per_pixel.transpose(0, 1).reshape(4 * out_channels, in_channels, 2, 2)


def upsample_conv_subpixel(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
    """``F.conv2d(upsample_nearest_2x(x), weight, bias, padding=1)`` for a 3x3 ``weight``, computed as
    one 2x2 convolution of ``x`` with four times the output channels (one kernel per output pixel
    phase), interleaved into the 2H x 2W result: a sub-pixel convolution (Shi et al. 2016) whose
    kernels are tied to the 3x3 one, as in Aitken et al. 2017. Output row 2i + a comes from the 2x2
    window whose top row is input row i - 1 + a, i.e. row i + a of the padded convolution's H + 1
    rows (columns alike). Returned in ``x``'s memory format."""
    b, _, h, w = x.shape
    out_channels = weight.shape[0]
    y = F.conv2d(x, subpixel_weight(weight), None if bias is None else bias.repeat(4), padding=1)  # (B, 4 O, H+1, W+1)
    y = y.permute(0, 2, 3, 1).reshape(b, h + 1, w + 1, 2, 2, out_channels)
    rows = [torch.stack([y[:, a : a + h, c : c + w, a, c] for c in (0, 1)], dim=3) for a in (0, 1)]  # (B, H, W, 2, O) each
    out = torch.stack(rows, dim=2).reshape(b, 2 * h, 2 * w, out_channels).permute(0, 3, 1, 2)
    return out if is_channels_last(x) else out.contiguous()


# model.upsample: Upsample (nearest-neighbour upsampling, then the 3x3 convolution) or SubpixelUpsample.
UPSAMPLE_CLASSES = {"direct": Upsample, "subpixel": SubpixelUpsample}
UPSAMPLES = tuple(UPSAMPLE_CLASSES)
