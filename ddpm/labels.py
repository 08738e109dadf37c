"""Dataset labels -> network conditions, and the data description a network is built for."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ddpm.config import DataSpec, ModelConfig
from ddpm.errors import ConfigError
from ddpm.factory import build_tokenizer


def data_spec(meta: dict[str, Any]) -> DataSpec:
    """The :class:`DataSpec` of a prepared split, from its JSON sidecar."""
    height, width, channels = meta["image_shape"]
    return DataSpec(
        image_channels=int(channels),
        image_size=(int(height), int(width)),
        num_classes=int(meta.get("num_classes") or 0) if meta.get("label_kind") == "class" else 0,
        class_names=tuple(meta.get("class_names") or ()) if meta.get("label_kind") == "class" else (),
        alphabet=meta.get("alphabet") or "",
        text_length=int(meta.get("text_length") or 0),
    )


def conditions(labels: np.ndarray | list, model: ModelConfig, data: DataSpec) -> torch.Tensor | None:
    """Class ids (B,) or text token ids (B, L) for ``labels``; None for an unconditional model."""
    if model.conditioning == "none":
        return None
    if model.conditioning == "class":
        ids = np.asarray(labels)
        if ids.dtype.kind not in "iu":
            raise ConfigError("class conditioning needs integer class labels; this dataset has text labels (use conditioning: text)")
        if len(ids) and (ids.min() < 0 or ids.max() >= data.num_classes):
            raise ConfigError(f"class labels must lie in [0, {data.num_classes}), got {ids.min()}..{ids.max()}")
        return torch.from_numpy(ids.astype(np.int64))
    if model.conditioning == "text":
        return build_tokenizer(data).encode([str(text) for text in labels])
    raise ConfigError(f"unknown conditioning {model.conditioning!r}")
