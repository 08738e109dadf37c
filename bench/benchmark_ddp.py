#!/usr/bin/env python3
"""Training throughput of the pipeline's trainer on 1 GPU against N GPUs (DDP), same global batch.

Run under torchrun, once per GPU count:
    torchrun --standalone --nproc-per-node 1 bench/benchmark_ddp.py --global-batch 256
    torchrun --standalone --nproc-per-node 2 bench/benchmark_ddp.py --global-batch 256
The model is the CIFAR-10 U-Net (35.7M parameters) on random 32x32 images: the images/s of the
trainer itself (its CSV log), median over log intervals after the first (compilation).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, TrainingConfig
from ddpm.training import TrainingData, TrainingFiles, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--global-batch", type=int, default=256)
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()

    images = np.random.default_rng(0).integers(0, 256, (10_000, 32, 32, 3), dtype=np.uint8)
    model = ModelConfig(base_channels=128, channel_mult=(1, 2, 2, 2), num_res_blocks=2, attention_resolutions=(16,), dropout=0.1)
    training = TrainingConfig(steps=args.steps, batch_size=args.global_batch, log_every=50, val_every=10**9, checkpoint_every=10**9)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        summary = train(
            model,
            DataSpec(3, (32, 32)),
            DiffusionConfig(),
            training,
            TrainingData(images, None, images[:256], None),
            TrainingFiles(out / "model.pt", out / "state.pt", out / "log.csv", out / "provenance.json"),
            progress=False,
        )
    if int(os.environ.get("RANK", "0")) == 0:
        speeds = [row["images_per_s"] for row in summary.rows[1:]]
        world = int(os.environ.get("WORLD_SIZE", "1"))
        print(f"GPUS={world} global_batch={args.global_batch} images_per_s={statistics.median(speeds):.0f} (intervals: {', '.join(f'{s:.0f}' for s in speeds)})")


if __name__ == "__main__":
    main()
