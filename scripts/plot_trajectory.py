#!/usr/bin/env python3
"""Record the denoising trajectory of a few images (x_t and the predicted x0 along the chain) and
animate it as a GIF.

Writes ``--npz`` (the frames as uint8 images, their timesteps, seeds and requested labels) and
``--gif``. The images are the sampling settings' first ``trajectory_images`` seeds.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from ddpm.cli import add_sampling_arguments, load_for_sampling, run
from ddpm.config import SamplerConfig, from_dict
from ddpm.generation import requested_labels, sample_trajectory
from ddpm.images import from_model_range
from ddpm.io import save_npz
from ddpm.report.animation import write_trajectory_gif
from ddpm.report.grids import label_titles
from ddpm.toy_diffusion import ToyDiffusion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_sampling_arguments(parser)
    parser.add_argument("--sampler", required=True, help="the sampler setting as JSON (sampler, steps, eta, ...)")
    parser.add_argument("--frames", type=int, default=40, help="snapshots along the chain (about)")
    parser.add_argument("--npz", required=True, type=Path, help="frames to write (.npz)")
    parser.add_argument("--gif", required=True, type=Path, help="animation to write (.gif)")
    args = parser.parse_args()

    sampler = from_dict(SamplerConfig, json.loads(args.sampler), "sampler")
    job = load_for_sampling(args)
    loaded, config = job.loaded, job.config
    labels = requested_labels(loaded, dataclasses.replace(config, num_images=config.trajectory_images), job.test_labels)
    images, trajectory = sample_trajectory(loaded, sampler, config, job.device, labels, frames=args.frames)
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
    save_npz(args.npz, **arrays)
    toy = isinstance(loaded.diffusion, ToyDiffusion)
    prefix = f"{loaded.meta.get('experiment') or 'samples'}, {sampler.label}: "
    frame_labels = [prefix + (f"{t} steps to go" if toy else f"t = {t}") for t in trajectory.timesteps]
    image_labels = None if labels is None else label_titles(labels, loaded.data.class_names, ())
    write_trajectory_gif(args.gif, x_t, x0, frame_labels, image_labels=image_labels)


if __name__ == "__main__":
    run(main)
