"""Factories: every network, objective and tokenizer is built here from config dataclasses."""

from __future__ import annotations

from torch import nn

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError
from ddpm.models.conditioning import CharTokenizer
from ddpm.models.layers import GROUP_NORMS, UPSAMPLES, use_group_norm, use_upsample
from ddpm.models.toy_unet import ToyUNet
from ddpm.models.unet import UNet
from ddpm.schedules import NoiseSchedule
from ddpm.toy_diffusion import ToyDiffusion


def build_model(model: ModelConfig, data: DataSpec) -> nn.Module:
    for key, choices in (("group_norm", GROUP_NORMS), ("upsample", UPSAMPLES)):
        if getattr(model, key) not in choices:
            raise ConfigError(f"unknown model.{key} {getattr(model, key)!r}; use one of {', '.join(choices)}")
    network = _build_network(model, data)
    # The same parameters either way, so a checkpoint loads into every kind.
    return use_upsample(use_group_norm(network, model.group_norm), model.upsample)


def _build_network(model: ModelConfig, data: DataSpec) -> nn.Module:
    if model.architecture == "toy_unet":
        if model.conditioning != "none":
            raise ConfigError("the toy U-Net is unconditional: set model.conditioning to none")
        return ToyUNet(data.image_channels, data.image_size, model.toy_channels)
    if model.architecture != "unet":
        raise ConfigError(f"unknown model architecture {model.architecture!r}; use unet or toy_unet")
    text = {}
    num_classes = 0
    if model.conditioning == "class":
        if data.num_classes < 1:
            raise ConfigError("class conditioning needs a dataset with class labels")
        num_classes = data.num_classes
    elif model.conditioning == "text":
        tokenizer = build_tokenizer(data)
        text = dict(
            text_vocab_size=tokenizer.vocab_size,
            text_length=tokenizer.max_length,
            text_null_id=tokenizer.null_id,
            text_dim=model.text_dim,
            text_layers=model.text_layers,
        )
    elif model.conditioning != "none":
        raise ConfigError(f"unknown conditioning {model.conditioning!r}; use none, class or text")
    return UNet(
        data.image_channels,
        data.image_size,
        base_channels=model.base_channels,
        channel_mult=model.channel_mult,
        num_res_blocks=model.num_res_blocks,
        attention_resolutions=model.attention_resolutions,
        dropout=model.dropout,
        num_heads=model.num_heads,
        num_classes=num_classes,
        **text,
    )


def build_diffusion(config: DiffusionConfig) -> GaussianDiffusion | ToyDiffusion:
    if config.kind == "toy":
        return ToyDiffusion()
    if config.kind != "gaussian":
        raise ConfigError(f"unknown diffusion kind {config.kind!r}; use gaussian or toy")
    return GaussianDiffusion(NoiseSchedule.from_name(config.schedule, config.timesteps), config.target, config.min_snr_gamma)


def build_tokenizer(data: DataSpec) -> CharTokenizer:
    if not data.alphabet or data.text_length < 1:
        raise ConfigError("text conditioning needs a dataset with text labels (an alphabet and a text length)")
    return CharTokenizer(data.alphabet, data.text_length)
