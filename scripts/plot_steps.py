#!/usr/bin/env python3
"""Plot samples of the same seeds drawn with different numbers of sampling steps (e.g. 5, 20 and all)."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import numpy as np

from ddpm.cli import add_sampling_arguments, load_for_sampling, run
from ddpm.config import SamplerConfig, from_dict
from ddpm.figure_data import resolve_step_counts, samples_by_steps
from ddpm.report.figures import plot_samples_by_steps
from ddpm.report.grids import label_titles
from ddpm.report.results import sampler_series
from ddpm.generation import requested_labels
from ddpm.toy_diffusion import ToyDiffusion


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_sampling_arguments(parser)
    parser.add_argument("--steps", nargs="+", required=True, help="step counts, e.g. 5 20 all; 'all' is T (toy diffusion: 100)")
    parser.add_argument("--sampler", help="sampler setting as JSON; its steps are replaced (default: DDIM with eta 0, or the toy sampler)")
    parser.add_argument("--num-images", type=int, default=8, help="seeds seed_start .. seed_start + N - 1")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    job = load_for_sampling(args)
    loaded, device = job.loaded, job.device
    toy = isinstance(loaded.diffusion, ToyDiffusion)
    default_sampler = {"sampler": "toy"} if toy else {"sampler": "ddim", "eta": 0.0}
    sampler = from_dict(SamplerConfig, json.loads(args.sampler) if args.sampler else default_sampler, "sampler")
    config = dataclasses.replace(job.config, num_images=args.num_images)
    labels = requested_labels(loaded, config, job.test_labels)
    seeds = np.arange(config.seed_start, config.seed_start + args.num_images)
    counts = resolve_step_counts(args.steps, loaded.diffusion)

    samples = samples_by_steps(loaded, sampler, counts, config, seeds, labels, device)
    guidance = f", guidance scale {config.guidance_scale:g}" if labels is not None else ""
    series = sampler_series(sampler.sampler, sampler.eta, sampler.variance, sampler.spacing)
    title = f"Samples by number of steps ({series} sampler{guidance}), one seed per column"
    columns = label_titles(labels, loaded.data.class_names, [f"seed {s}" for s in seeds])
    all_steps = None if toy else loaded.diffusion.num_timesteps
    plot_samples_by_steps(args.out, samples, counts, columns, all_steps=all_steps, title=title, description=args.description)


if __name__ == "__main__":
    run(main)
