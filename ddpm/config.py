"""Experiment settings as frozen dataclasses: the one home of every default.

A YAML experiment (validated for keys and types by the workflow's schema) reaches a script as a dict;
:func:`from_dict` turns each section into its dataclass, filling defaults and refusing unknown keys
again, so ``ddpm`` stays safe when used without the workflow. :class:`DataSpec` is not user-set: it is
read from the prepared dataset. A checkpoint stores all of them (:func:`to_dict`), so sampling never
needs the YAML.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any, TypeVar

from ddpm.errors import ConfigError

T = TypeVar("T")


@dataclass(frozen=True)
class ModelConfig:
    """Network architecture (:class:`ddpm.models.unet.UNet` or :class:`ddpm.models.toy_unet.ToyUNet`)."""

    architecture: str = "unet"  # "unet" | "toy_unet"
    base_channels: int = 64
    channel_mult: tuple[int, ...] = (1, 2, 2)
    num_res_blocks: int = 2
    attention_resolutions: tuple[int, ...] = ()  # feature-map heights with self-attention
    dropout: float = 0.1
    num_heads: int = 1
    conditioning: str = "none"  # "none" | "class" | "text"
    text_dim: int = 128
    text_layers: int = 2
    toy_channels: tuple[int, ...] = (32, 64, 64)
    group_norm: str = "standard"  # a key of ddpm.models.layers.GROUP_NORM_CLASSES
    upsample: str = "direct"  # a key of ddpm.models.layers.UPSAMPLE_CLASSES


@dataclass(frozen=True)
class DataSpec:
    """What the network must know about the data; taken from the prepared dataset's sidecar."""

    image_channels: int
    image_size: tuple[int, int]  # (height, width)
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    alphabet: str = ""
    text_length: int = 0


@dataclass(frozen=True)
class DiffusionConfig:
    kind: str = "gaussian"  # "gaussian" (DDPM) | "toy" (Diffusion Playground's direct denoiser)
    schedule: str = "linear"
    timesteps: int = 1000
    target: str = "eps"  # "eps" | "x0" | "v"
    min_snr_gamma: float | None = None


@dataclass(frozen=True)
class TrainingConfig:
    steps: int = 10_000
    batch_size: int = 128
    lr: float = 2e-4
    weight_decay: float = 0.0
    adam_betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 500
    grad_clip: float = 1.0
    ema_decay: float = 0.9999
    # EMA decay min(ema_decay, (1 + n) / (10 + n)) at update n, so short runs get a useful average.
    ema_warmup: bool = True
    cond_dropout: float = 0.1  # probability of the null condition, for classifier-free guidance
    hflip: bool = False  # random horizontal flips (natural images; never for digits or text)
    time_budget_s: float | None = None  # stop (and finish normally) after this much training time
    checkpoint_every: int = 1000
    log_every: int = 100
    val_every: int = 1000
    val_batches: int = 4
    seed: int = 0
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA) | "fp32" | "bf16"
    compile: str = "auto"  # "auto" (on CUDA) | "on" | "off"
    # Only kernels that give the same bits on every run (ddpm.runtime.deterministic_kernels), so the
    # same command trains the same weights; false trades that for speed.
    deterministic: bool = True


@dataclass(frozen=True)
class SamplerConfig:
    """One sampler setting; ``steps`` is the number of network evaluations (per guidance pass).

    Every sampler but heun visits ``steps`` timesteps; heun visits (steps + 1) / 2 and needs odd steps
    (ddpm.samplers.chain). ``spacing`` picks the visited timesteps for all of them.
    """

    sampler: str = "ddim"  # one of ddpm.samplers.SAMPLERS: "ddpm" | "ddim" | "dpmpp_2m" | "heun" | "toy"
    steps: int = 50
    eta: float = 0.0  # DDIM only
    variance: str = "small"  # DDPM only: "small" (posterior) | "large" (beta)
    spacing: str = "uniform"  # "uniform" | "quadratic" | "trailing" | "linspace" | "karras" | "logsnr"
    name: str | None = None  # label in file names and tables; default f"{sampler}{steps}"

    @property
    def label(self) -> str:
        return self.name or f"{self.sampler}{self.steps}"


@dataclass(frozen=True)
class SamplingConfig:
    runs: tuple[SamplerConfig, ...] = (SamplerConfig("ddim", 50),)
    num_images: int = 64
    seed_start: int = 0  # image i gets seed seed_start + i
    batch_size: int = 256
    guidance_scale: float = 1.0
    clip_x0: bool = True
    texts: tuple[str, ...] = ()  # text models: strings to draw (each num_images // len times)
    random_texts: int = 0  # text models: also this many random held-out strings of the test split
    trajectory_images: int = 16
    precision: str = "auto"  # "auto" (bf16 autocast on CUDA) | "fp32" | "bf16"
    compile: str = "auto"  # "auto" (on CUDA) | "on" | "off"
    deterministic: bool = True  # as TrainingConfig.deterministic, for the same images from one model


@dataclass(frozen=True)
class EvaluationConfig:
    """The test-set loss (FID and KID settings are ddpm.evaluation.fid.MetricConfig's)."""

    test_loss_seed: int = 0  # timesteps and noise of the test loss: the same for every model
    batch_size: int = 500


def from_dict(cls: type[T], data: dict[str, Any] | None, where: str = "") -> T:
    """Build dataclass ``cls`` from a plain dict, with defaults for missing keys and type checks."""
    data = {} if data is None else data
    where = where or cls.__name__
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"unknown key(s) {unknown} in {where}; allowed: {sorted(fields)}")
    hints = typing.get_type_hints(cls)
    values = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:  # a required field is missing
        raise ConfigError(f"{where}: {exc}") from None


def to_dict(obj: Any) -> Any:
    """Plain JSON-able form of a config dataclass (tuples become lists)."""
    if dataclasses.is_dataclass(obj):
        return {f.name: to_dict(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, (tuple, list)):
        return [to_dict(v) for v in obj]
    return obj


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(inner, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where} must be a list, got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(args[0], v, f"{where}[{i}]") for i, v in enumerate(value))
        if len(value) != len(args):
            raise ConfigError(f"{where} must have {len(args)} items, got {value!r}")
        return tuple(_coerce(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
    if dataclasses.is_dataclass(hint):
        return value if isinstance(value, hint) else from_dict(hint, value, where)
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (type(value) is not hint):
        raise ConfigError(f"{where} must be of type {hint.__name__}, got {value!r}")
    return value


__all__ = [
    "DataSpec",
    "DiffusionConfig",
    "EvaluationConfig",
    "ModelConfig",
    "SamplerConfig",
    "SamplingConfig",
    "TrainingConfig",
    "from_dict",
    "to_dict",
]
