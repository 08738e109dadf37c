#!/usr/bin/env python3
"""Record the denoising trajectory of a few images (x_t and the predicted x0 along the chain).

Writes a ``.npz`` with ``x_t`` and ``x0`` as uint8 (frames, batch, H, W, C) (x_t clipped to the
data range), ``timesteps`` (frames,) (the toy sampler: steps still to go), ``seeds`` (batch,),
the final ``images`` (batch, H, W, C) and, for conditional models, the requested ``labels``; and a
GIF of the frames.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from ddpm.cli import run
from ddpm.data import load_split
from ddpm.config import SamplerConfig, SamplingConfig, from_dict
from ddpm.images import from_model_range
from ddpm.io import save_npz
from ddpm.report.animation import write_trajectory_gif
from ddpm.report.grids import label_titles
from ddpm.runtime import resolve_device
from ddpm.generation import TRAJECTORY_FRAMES, requested_labels, sample_trajectory
from ddpm.toy_diffusion import ToyDiffusion
from ddpm.training import load_model_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--checkpoint", required=True, type=Path)
    parser.add_argument("--sampler", required=True, help="one sampler setting as JSON (sampler, steps, eta, ...)")
    parser.add_argument("--sampling", default="{}", help="sampling settings as JSON (trajectory_images, seed_start, guidance_scale, texts, ...)")
    parser.add_argument("--test", type=Path, help="prepared test split: held-out strings for random_texts")
    parser.add_argument("--frames", type=int, default=TRAJECTORY_FRAMES, help="snapshots to record along the chain (about)")
    parser.add_argument("--out-npz", required=True, type=Path)
    parser.add_argument("--out-gif", required=True, type=Path)
    parser.add_argument("--device", default="auto")
    args = parser.parse_args()

    sampler = from_dict(SamplerConfig, json.loads(args.sampler), "sampler")
    config = from_dict(SamplingConfig, json.loads(args.sampling), "sampling")
    device = resolve_device(args.device)
    loaded = load_model_checkpoint(args.checkpoint, device)
    test_labels = load_split(args.test).labels if args.test else None
    labels = requested_labels(loaded, dataclasses.replace(config, num_images=config.trajectory_images), test_labels)

    images, trajectory = sample_trajectory(loaded, sampler, config, device, labels, frames=args.frames)
    x_t = np.stack([from_model_range(frame).numpy() for frame in trajectory.x_t])
    x0 = np.stack([from_model_range(frame).numpy() for frame in trajectory.x0])
    arrays = {
        "x_t": x_t,
        "x0": x0,
        "timesteps": np.array(trajectory.timesteps, dtype=np.int64),
        "seeds": np.arange(config.seed_start, config.seed_start + len(images), dtype=np.int64),
        "images": images,
    }
    if labels is not None:
        arrays["labels"] = labels
    save_npz(args.out_npz, **arrays)

    toy = isinstance(loaded.diffusion, ToyDiffusion)
    prefix = f"{loaded.meta.get('experiment') or 'samples'}, {sampler.label}: "
    frame_labels = [prefix + (f"{t} steps to go" if toy else f"t = {t}") for t in trajectory.timesteps]
    image_labels = None if labels is None else label_titles(labels, loaded.data.class_names, ())
    write_trajectory_gif(args.out_gif, x_t, x0, frame_labels, image_labels=image_labels)


if __name__ == "__main__":
    run(main)
