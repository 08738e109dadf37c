"""Tiny prepared datasets and training commands for tests that run scripts/train.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, TrainingConfig
from ddpm.data.prepared_files import PreparedDataset, write_prepared
from ddpm.factory import build_diffusion, build_model
from ddpm.training import LoadedModel, TrainingData, TrainingFiles

REPO = Path(__file__).resolve().parents[1]

# A tiny class-conditional model and data for tests that call the trainer directly.
MODEL = ModelConfig(base_channels=8, channel_mult=(1, 2), num_res_blocks=1, conditioning="class", dropout=0.1)
SPEC = DataSpec(1, (8, 8), num_classes=3, class_names=("a", "b", "c"))
DIFFUSION = DiffusionConfig(timesteps=50)


def tiny_loaded_model() -> LoadedModel:
    """An untrained MODEL as a sampling program loads one (no checkpoint metadata)."""
    return LoadedModel(build_model(MODEL, SPEC), build_diffusion(DIFFUSION), MODEL, SPEC, DIFFUSION, {})


def tiny_data(n=64, seed=0) -> TrainingData:
    rng = np.random.default_rng(seed)
    images = (rng.random((n, 8, 8, 1)) * 255).astype(np.uint8)
    labels = torch.from_numpy(rng.integers(0, 3, n))
    return TrainingData(images, labels, images[:16], labels[:16], fingerprint="tiny")


def tiny_files(folder: Path) -> TrainingFiles:
    return TrainingFiles(folder / "model.pt", folder / "state.pt", folder / "log.csv", folder / "provenance.json")


def tiny_training(**overrides) -> TrainingConfig:
    settings = dict(steps=12, batch_size=8, log_every=3, val_every=6, checkpoint_every=6, warmup_steps=2, seed=3)
    settings.update(overrides)
    return TrainingConfig(**settings)


def write_tiny_dataset(folder: Path, n: int = 64, size: int = 8, seed: int = 0) -> Path:
    """Random 8x8 grey images with 3 classes, as prepared train/val/test splits."""
    rng = np.random.default_rng(seed)

    def split(count):
        return (rng.random((count, size, size, 1)) * 255).astype(np.uint8), rng.integers(0, 3, count)

    prepared = PreparedDataset({"train": split(n), "val": split(16), "test": split(16)}, "class", ("a", "b", "c"))
    write_prepared(prepared, folder, dataset="tiny", source="synthetic_digits", sources={}, settings={})
    return folder


def train_command(
    data: Path, out: Path, *, steps: int, launcher: list[str] | None = None, dropout: float = 0.1, **training
) -> list[str]:
    model = {"base_channels": 8, "channel_mult": [1, 2], "num_res_blocks": 1, "conditioning": "class", "dropout": dropout}
    settings = {"steps": steps, "batch_size": 8, "log_every": 5, "val_every": 10, "checkpoint_every": 5, "warmup_steps": 2, "seed": 1}
    settings.update(training)
    return [
        *(launcher or [sys.executable]),
        str(REPO / "scripts/train.py"),
        "--train", str(data / "train.npz"),
        "--val", str(data / "val.npz"),
        "--model", json.dumps(model),
        "--diffusion", json.dumps({"timesteps": 50}),
        "--training", json.dumps(settings),
        "--checkpoint", str(out / "model.pt"),
        "--state", str(out / "state.pt"),
        "--train-log", str(out / "train_log.csv"),
        "--provenance", str(out / "provenance.json"),
        "--device", "cpu",
    ]


def run(command: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
