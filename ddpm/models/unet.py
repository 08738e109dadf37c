"""The DDPM U-Net of Ho et al. 2020 (Appendix B), with optional class or text conditioning.

Layout, for L = len(channel_mult) levels:

* a 3x3 input convolution to ``base_channels``;
* down path: at level i, ``num_res_blocks`` residual blocks of ``base_channels * channel_mult[i]``
  channels (each followed by self-attention if the feature map's height is in
  ``attention_resolutions``), then a stride-2 convolution except at the last level;
* middle: residual block, attention, residual block;
* up path: mirror of the down path with ``num_res_blocks + 1`` blocks per level, each fed the
  concatenation of the features and one skip connection, and nearest-neighbour upsampling;
* GroupNorm, SiLU, and a zero-initialised 3x3 output convolution.

The timestep enters through a sinusoidal embedding of ``base_channels`` dimensions and a two-layer
MLP to ``4 * base_channels``, added (after SiLU and a projection) inside every residual block.
The CIFAR-10 configuration (128 channels, mult 1,2,2,2, 2 blocks, attention at 16x16, dropout 0.1)
has 35.7M parameters, as in the paper. Conditioning is described in :mod:`ddpm.models.conditioning`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from ddpm.config import ModelConfig
from ddpm.errors import ConfigError
from ddpm.models.conditioning import ClassEmbedding, TextEncoder
from ddpm.models.layers import AttentionBlock, Downsample, OutputHead, ResBlock, Upsample, timestep_embedding

# The architecture's defaults are ModelConfig's: one home for them.
_DEFAULTS = ModelConfig()


class UNet(nn.Module):
    """Predicts eps, x0 or v (the diffusion's choice) from (x_t, t[, condition]).

    Args:
        image_channels: channels of the images (1 grey, 3 RGB); also the output channels.
        image_size: (height, width); each must be divisible by 2 ** (len(channel_mult) - 1).
        base_channels, channel_mult, num_res_blocks, attention_resolutions, dropout: as in Ho et al.;
            ``attention_resolutions`` lists feature-map *heights* at which to attend.
        num_heads: attention heads (Ho et al. use 1).
            Left out, each of these takes :class:`ddpm.config.ModelConfig`'s default.
        num_classes: >0 for class conditioning (adds a null class for guidance).
        text_vocab_size, text_length: >0 for text conditioning (see :class:`CharTokenizer`).
        text_dim, text_layers: width and depth of the text encoder.
    """

    def __init__(
        self,
        image_channels: int,
        image_size: tuple[int, int],
        base_channels: int = _DEFAULTS.base_channels,
        channel_mult: Sequence[int] = _DEFAULTS.channel_mult,
        num_res_blocks: int = _DEFAULTS.num_res_blocks,
        attention_resolutions: Sequence[int] = _DEFAULTS.attention_resolutions,
        dropout: float = _DEFAULTS.dropout,
        num_heads: int = _DEFAULTS.num_heads,
        num_classes: int = 0,
        text_vocab_size: int = 0,
        text_length: int = 0,
        text_null_id: int = 0,
        text_dim: int = _DEFAULTS.text_dim,
        text_layers: int = _DEFAULTS.text_layers,
    ):
        super().__init__()
        height, width = image_size
        factor = 2 ** (len(channel_mult) - 1)
        if height % factor or width % factor:
            raise ConfigError(
                f"image size {height}x{width} is not divisible by 2^{len(channel_mult) - 1} = {factor}, "
                f"which {len(channel_mult)} U-Net levels need; use fewer levels or resize the data"
            )
        if num_classes and text_vocab_size:
            raise ConfigError("a U-Net is conditioned on classes or on text, not both")
        self.image_channels = image_channels
        self.base_channels = base_channels
        emb_dim = 4 * base_channels
        self.time_mlp = nn.Sequential(nn.Linear(base_channels, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))

        self.class_embedding = ClassEmbedding(num_classes, emb_dim) if num_classes else None
        self.text_encoder = None
        context_dim = None
        if text_vocab_size:
            self.text_encoder = TextEncoder(text_vocab_size, text_length, text_dim, text_layers, num_heads=4, null_id=text_null_id)
            self.text_pool = nn.Linear(text_dim, emb_dim)
            context_dim = text_dim

        def attention(channels: int, size: tuple[int, int]) -> AttentionBlock:
            return AttentionBlock(channels, num_heads, context_dim, size if context_dim else None)

        self.input_conv = nn.Conv2d(image_channels, base_channels, 3, padding=1)
        self.down = nn.ModuleList()
        skip_channels = [base_channels]
        channels = base_channels
        size = (height, width)
        for level, mult in enumerate(channel_mult):
            out_channels = base_channels * mult
            for _ in range(num_res_blocks):
                blocks = [ResBlock(channels, out_channels, emb_dim, dropout)]
                channels = out_channels
                if size[0] in attention_resolutions:
                    blocks.append(attention(channels, size))
                self.down.append(nn.ModuleList(blocks))
                skip_channels.append(channels)
            if level != len(channel_mult) - 1:
                self.down.append(nn.ModuleList([Downsample(channels)]))
                skip_channels.append(channels)
                size = (size[0] // 2, size[1] // 2)

        self.middle = nn.ModuleList(
            [ResBlock(channels, channels, emb_dim, dropout), attention(channels, size), ResBlock(channels, channels, emb_dim, dropout)]
        )

        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(channel_mult))):
            out_channels = base_channels * mult
            for block in range(num_res_blocks + 1):
                blocks = [ResBlock(channels + skip_channels.pop(), out_channels, emb_dim, dropout)]
                channels = out_channels
                if size[0] in attention_resolutions:
                    blocks.append(attention(channels, size))
                if level != 0 and block == num_res_blocks:
                    blocks.append(Upsample(channels))
                    size = (size[0] * 2, size[1] * 2)
                self.up.append(nn.ModuleList(blocks))

        self.output = OutputHead(channels, image_channels)

    @property
    def conditioning(self) -> str:
        if self.class_embedding is not None:
            return "class"
        return "text" if self.text_encoder is not None else "none"

    def null_condition(self, cond: torch.Tensor) -> torch.Tensor:
        """The 'no condition' input of the same shape as ``cond`` (for guidance and label dropout)."""
        if self.class_embedding is not None:
            return self.class_embedding.null_like(cond)
        if self.text_encoder is not None:
            return self.text_encoder.null_like(cond)
        raise ValueError("an unconditional U-Net has no null condition")

    def forward(self, x: torch.Tensor, t: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        emb = self.time_mlp(timestep_embedding(t, self.base_channels).to(x.dtype))
        context = None
        if self.conditioning != "none":
            if cond is None:
                raise ValueError(f"this U-Net is {self.conditioning}-conditional: pass cond (use null_condition for none)")
            if self.class_embedding is not None:
                emb = emb + self.class_embedding(cond)
            else:
                context = self.text_encoder(cond)
                emb = emb + self.text_pool(context.mean(dim=1))
        elif cond is not None:
            raise ValueError("this U-Net is unconditional but a condition was passed")

        h = self.input_conv(x)
        skips = [h]
        for blocks in self.down:
            h = self._run(blocks, h, emb, context)
            skips.append(h)
        h = self._run(self.middle, h, emb, context)
        for blocks in self.up:
            h = torch.cat([h, skips.pop()], dim=1)
            h = self._run(blocks, h, emb, context)
        return self.output(h)

    @staticmethod
    def _run(blocks: nn.ModuleList, h: torch.Tensor, emb: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        for block in blocks:
            if isinstance(block, ResBlock):
                h = block(h, emb)
            elif isinstance(block, AttentionBlock):
                h = block(h, context)
            else:
                h = block(h)
        return h
