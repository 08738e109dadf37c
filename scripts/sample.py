#!/usr/bin/env python3
"""Sample N images (one generator per seed) from a trained model with one sampler setting.

Writes the images as uint8 ``.npz`` (images, seeds, requested labels), a grid PNG, and a JSON with
the settings and the sampling speed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from ddpm.cli import run
from ddpm.config import SamplerConfig, SamplingConfig, from_dict, to_dict
from ddpm.data import load_split
from ddpm.io import save_npz, write_json
from ddpm.report.grids import write_sample_grid
from ddpm.runtime import resolve_device
from ddpm.generation import requested_labels, sample_set
from ddpm.training import load_model_checkpoint
from ddpm.training.provenance import device_description


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--sampler", required=True, help="one sampler setting as JSON (sampler, steps, eta, ...)")
    parser.add_argument("--sampling", default="{}", help="sampling settings as JSON (num_images, seed_start, ...)")
    parser.add_argument("--test", type=Path, help="prepared test split: held-out strings for random_texts")
    parser.add_argument("--out", required=True, type=Path, help="samples .npz")
    parser.add_argument("--grid", required=True, type=Path, help="grid PNG")
    parser.add_argument("--info", required=True, type=Path, help="JSON with the settings and speed")
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    sampler = from_dict(SamplerConfig, json.loads(args.sampler), "sampler")
    config = from_dict(SamplingConfig, json.loads(args.sampling), "sampling")
    device = resolve_device(args.device)
    loaded = load_model_checkpoint(args.checkpoint, device)
    test_labels = load_split(args.test).labels if args.test else None
    labels = requested_labels(loaded, config, test_labels)

    start = time.perf_counter()
    samples = sample_set(loaded, sampler, config, device, labels)
    seconds = time.perf_counter() - start

    arrays = {"images": samples.images, "seeds": samples.seeds}
    if samples.labels is not None:
        arrays["labels"] = samples.labels
    save_npz(args.out, **arrays)
    title = f"{loaded.meta.get('experiment', '')}: {sampler.label}" + (f", guidance {config.guidance_scale}" if labels is not None else "")
    write_sample_grid(args.grid, samples.images, samples.labels, loaded.data.class_names, title)
    write_json(
        args.info,
        {
            "experiment": loaded.meta.get("experiment"),
            "run": sampler.label,
            "sampler": to_dict(sampler),
            "sampling": {k: v for k, v in to_dict(config).items() if k != "runs"},
            "num_images": int(len(samples.images)),
            "seconds": seconds,
            "images_per_s": len(samples.images) / seconds,
            "device": device_description(device),
            "requested": None if labels is None else sorted({str(x) for x in np.asarray(labels).tolist()}),
        },
    )


if __name__ == "__main__":
    run(main)
