#!/usr/bin/env python3
"""Plot a few real images noised at increasing levels by a diffusion's forward process (fixed seed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddpm.cli import run
from ddpm.data import load_split
from ddpm.config import DiffusionConfig, from_dict
from ddpm.factory import build_diffusion
from ddpm.figure_data import FORWARD_AMOUNTS, FORWARD_SIGNAL, noise_levels, noised, pick_examples
from ddpm.report.figures import plot_forward_process
from ddpm.training import load_model_checkpoint


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, type=Path, help="a prepared split (.npz, its .json beside it)")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--diffusion", help="diffusion settings as JSON (kind, schedule, timesteps, ...)")
    source.add_argument("--checkpoint", type=Path, help="a model checkpoint, whose diffusion is shown")
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="picks the images and draws the noise")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    if args.checkpoint:
        diffusion = load_model_checkpoint(args.checkpoint).diffusion
    else:
        diffusion = build_diffusion(from_dict(DiffusionConfig, json.loads(args.diffusion), "diffusion"))
    split = load_split(args.data)
    chosen = pick_examples(split.labels, args.num_images, args.seed)
    levels = noise_levels(diffusion, FORWARD_SIGNAL, FORWARD_AMOUNTS, last_step=True)
    frames = noised(diffusion, split.images[chosen], levels.values, args.seed)
    plot_forward_process(args.out, frames, levels, description=args.description)


if __name__ == "__main__":
    run(main)
