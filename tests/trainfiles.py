"""Tiny prepared datasets and training commands for tests that run scripts/train.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from ddpm.data.prepared_files import PreparedDataset, write_prepared

REPO = Path(__file__).resolve().parents[1]


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
