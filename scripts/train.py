#!/usr/bin/env python3
"""Train one experiment's diffusion model on a prepared dataset (resumes a saved state if present).

With several processes (``torchrun --nproc-per-node N scripts/train.py ...``) it trains with
DistributedDataParallel; the global batch size stays the configured one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddpm.cli import run
from ddpm.config import DiffusionConfig, ModelConfig, TrainingConfig, from_dict
from ddpm.data import load_split
from ddpm.labels import conditions, data_spec
from ddpm.training import TrainingData, TrainingFiles, train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True, type=Path, help="prepared train split (.npz)")
    parser.add_argument("--val", required=True, type=Path, help="prepared validation split (.npz)")
    parser.add_argument("--model", default="{}", help="model settings as JSON")
    parser.add_argument("--diffusion", default="{}", help="diffusion settings as JSON")
    parser.add_argument("--training", default="{}", help="training settings as JSON")
    parser.add_argument("--checkpoint", required=True, type=Path, help="final model checkpoint to write")
    parser.add_argument("--state", required=True, type=Path, help="resumable training state")
    parser.add_argument("--train-log", required=True, type=Path, help="CSV training log")
    parser.add_argument("--provenance", required=True, type=Path, help="provenance JSON")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--experiment", default="", help="experiment name, recorded in the checkpoint")
    args = parser.parse_args()

    model = from_dict(ModelConfig, json.loads(args.model), "model")
    diffusion = from_dict(DiffusionConfig, json.loads(args.diffusion), "diffusion")
    training = from_dict(TrainingConfig, json.loads(args.training), "training")
    train_split, val_split = load_split(args.train), load_split(args.val)
    spec = data_spec(train_split.meta)
    inputs = TrainingData(
        train_split.images,
        conditions(train_split.labels, model, spec),
        val_split.images,
        conditions(val_split.labels, model, spec),
        fingerprint=json.dumps(train_split.meta, sort_keys=True),
    )
    meta = {"experiment": args.experiment, "dataset": train_split.meta.get("dataset")}
    train(model, spec, diffusion, training, inputs, TrainingFiles(args.checkpoint, args.state, args.train_log, args.provenance), device=args.device, meta=meta)


if __name__ == "__main__":
    run(main)
