#!/usr/bin/env python3
"""Plot a trained denoiser's input (a test image noised at several levels) and the x0 it predicts."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import add_model_arguments, load_model, run
from ddpm.data import load_split
from ddpm.figure_data import DENOISER_AMOUNTS, DENOISER_SIGNAL, denoiser_outputs, noise_levels, pick_examples
from ddpm.report.figures import plot_denoiser
from ddpm.report.grids import label_titles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_model_arguments(parser)
    parser.add_argument("--data", required=True, type=Path, help="the prepared test split (.npz, its .json beside it)")
    parser.add_argument("--num-images", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0, help="picks the images and draws the noise")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    loaded, device = load_model(args)
    split = load_split(args.data)
    chosen = pick_examples(split.labels, args.num_images, args.seed)
    labels = None if loaded.model_config.conditioning == "none" else split.labels[chosen]
    names = label_titles(labels, loaded.data.class_names, [f"test #{i}" for i in chosen])
    images = split.images[chosen]
    levels = noise_levels(loaded.diffusion, DENOISER_SIGNAL, DENOISER_AMOUNTS)
    inputs, outputs = denoiser_outputs(loaded, images, labels, levels.values, seed=args.seed, device=device)
    plot_denoiser(args.out, images, inputs, outputs, levels, image_names=names, description=args.description)


if __name__ == "__main__":
    run(main)
