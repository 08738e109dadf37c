"""Checkpoint files.

*Model checkpoints* (the training's final output) hold the EMA weights and the complete model,
data and diffusion settings, so sampling and evaluation rebuild the network from this one file and
never read the experiment's YAML (as in nanoGPT). *Training states* hold everything needed to
resume a run exactly where it stopped: weights, EMA, optimizer, schedule, random generators and the
log so far. Both are written atomically and loaded with ``weights_only=True`` (no pickled code).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, from_dict, to_dict
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import DataError
from ddpm.factory import build_diffusion, build_model
from ddpm.io import atomic_path
from ddpm.toy_diffusion import ToyDiffusion

MODEL_FORMAT = "ddpm-pipeline/model/1"
STATE_FORMAT = "ddpm-pipeline/training-state/1"


@dataclass
class LoadedModel:
    model: nn.Module
    diffusion: GaussianDiffusion | ToyDiffusion
    model_config: ModelConfig
    data: DataSpec
    diffusion_config: DiffusionConfig
    meta: dict[str, Any]


def save_torch(path: str | Path, obj: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(obj, tmp)


def load_torch(path: str | Path, expected_format: str) -> dict:
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no such checkpoint; run the training rule first") from None
    except Exception as exc:  # a truncated or foreign file; torch raises many types
        raise DataError(f"{path}: not a readable checkpoint ({type(exc).__name__}: {exc}); delete it and retrain") from None
    if not isinstance(obj, dict) or obj.get("format") != expected_format:
        found = obj.get("format") if isinstance(obj, dict) else type(obj).__name__
        raise DataError(f"{path}: expected a {expected_format!r} file, found {found!r}")
    return obj


def save_model_checkpoint(
    path: str | Path,
    model: nn.Module,
    model_config: ModelConfig,
    data: DataSpec,
    diffusion_config: DiffusionConfig,
    meta: dict[str, Any],
) -> None:
    state = {k: v.detach().to("cpu", torch.float32) if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
    save_torch(
        path,
        {
            "format": MODEL_FORMAT,
            "model_config": to_dict(model_config),
            "data": to_dict(data),
            "diffusion_config": to_dict(diffusion_config),
            "meta": meta,
            "weights": state,
        },
    )


def load_model_checkpoint(path: str | Path, device: torch.device | str = "cpu") -> LoadedModel:
    ckpt = load_torch(path, MODEL_FORMAT)
    model_config = from_dict(ModelConfig, ckpt["model_config"], "checkpoint model_config")
    data = from_dict(DataSpec, ckpt["data"], "checkpoint data")
    diffusion_config = from_dict(DiffusionConfig, ckpt["diffusion_config"], "checkpoint diffusion_config")
    model = build_model(model_config, data)
    model.load_state_dict(ckpt["weights"])
    return LoadedModel(model.to(device).eval(), build_diffusion(diffusion_config), model_config, data, diffusion_config, ckpt["meta"])
