#!/usr/bin/env python3
"""The diffusion loss of a trained model on the whole test split (fixed seed: comparable across models)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddpm.cli import run
from ddpm.config import EvaluationConfig, from_dict
from ddpm.data import load_split
from ddpm.io import write_json
from ddpm.labels import conditions
from ddpm.runtime import place, resolve_device
from ddpm.training import load_model_checkpoint
from ddpm.training.validation import mean_loss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--test", required=True, type=Path, help="prepared test split (.npz)")
    parser.add_argument("--out", required=True, type=Path, help="JSON with the test loss")
    parser.add_argument("--evaluation", default="{}", help="evaluation settings as JSON (test_loss_seed, batch_size)")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    evaluation = from_dict(EvaluationConfig, json.loads(args.evaluation), "evaluation")
    device = resolve_device(args.device)
    loaded = load_model_checkpoint(args.checkpoint, device)
    split = load_split(args.test)
    loss = mean_loss(
        place(loaded.model, device),
        loaded.diffusion,
        split.images,
        conditions(split.labels, loaded.model_config, loaded.data),
        batch_size=evaluation.batch_size,
        seed=evaluation.test_loss_seed,
        device=device,
    )
    write_json(args.out, {"experiment": loaded.meta.get("experiment"), "test_loss": loss, "images": len(split.images), "seed": evaluation.test_loss_seed})


if __name__ == "__main__":
    run(main)
