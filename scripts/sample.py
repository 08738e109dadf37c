#!/usr/bin/env python3
"""Draw every sample set of one model in one process: one load, one compilation for all runs.

For each sampler setting (``--runs``, a JSON list) it writes ``<out-dir>/<label>.npz`` (uint8
images, seeds, requested labels), ``<label>.png`` (a grid) and ``<label>.json`` (the settings, N,
and the sampler's speed measured after warm-up, with start-up and compilation reported apart).
With ``--trajectory-npz``/``--trajectory-gif`` it also records the denoising trajectory of a few
images with the first setting. Files are written by a second thread while the GPU draws on.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

PROCESS_START = time.perf_counter()

from ddpm.cli import add_sampling_arguments, load_for_sampling, run  # noqa: E402
from ddpm.config import SamplerConfig, from_dict, to_dict  # noqa: E402
from ddpm.generation import prepare_model, requested_labels, sample_set, sample_trajectory  # noqa: E402
from ddpm.images import from_model_range  # noqa: E402
from ddpm.io import save_npz, write_json  # noqa: E402
from ddpm.report.animation import write_trajectory_gif  # noqa: E402
from ddpm.report.grids import label_titles, sample_grid_title, write_sample_grid  # noqa: E402
from ddpm.samplers import Trajectory  # noqa: E402
from ddpm.sanity import check_finite_samples  # noqa: E402
from ddpm.toy_diffusion import ToyDiffusion  # noqa: E402
from ddpm.training.provenance import device_description  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_sampling_arguments(parser)
    parser.add_argument("--runs", required=True, help="the sampler settings as a JSON list (sampler, steps, eta, name, ...)")
    parser.add_argument("--out-dir", required=True, type=Path, help="folder of the <label>.{npz,png,json} files")
    parser.add_argument("--trajectory-npz", type=Path, help="also record a denoising trajectory (first setting) here")
    parser.add_argument("--trajectory-gif", type=Path, help="... and its GIF here")
    parser.add_argument("--frames", type=int, default=40, help="trajectory snapshots along the chain (about)")
    parser.add_argument("--description", default="", help="the experiment's description, for the grids' titles")
    args = parser.parse_args()
    if (args.trajectory_npz is None) != (args.trajectory_gif is None):
        parser.error("--trajectory-npz and --trajectory-gif go together: give both or neither")

    runs = [from_dict(SamplerConfig, run_settings, "sampling run") for run_settings in json.loads(args.runs)]
    if not runs:
        raise SystemExit("error: --runs lists no sampler setting")
    job = load_for_sampling(args)
    loaded, config, device = job.loaded, job.config, job.device
    labels = requested_labels(loaded, config, job.test_labels)
    compiled = prepare_model(loaded, device, config.compile)
    startup = time.perf_counter() - PROCESS_START
    guidance = config.guidance_scale if labels is not None else None

    # The files of one set are written by a second thread while the GPU draws the next set; a failed
    # write stops the job when the next set is drawn, before its files are handed over.
    with ThreadPoolExecutor(max_workers=1) as writer:
        writing = None
        for sampler in runs:
            samples = sample_set(loaded, sampler, config, device, labels, compiled=compiled)
            # A diverged model draws saturated images: stop before any file or metric is written.
            check_finite_samples(samples.images, f"{args.checkpoint}: {sampler.label} samples")
            info = {
                "experiment": loaded.meta.get("experiment"),
                "run": sampler.label,
                "sampler": to_dict(sampler),
                "sampling": {k: v for k, v in to_dict(config).items() if k != "runs"},
                "num_images": int(len(samples.images)),
                **samples.timing.as_dict(),
                "startup_seconds": startup,
                "device": device_description(device),
                "requested": None if labels is None else sorted({str(x) for x in np.asarray(labels).tolist()}),
            }
            title = sample_grid_title(sampler, guidance, args.description)
            out = args.out_dir / sampler.label
            if writing is not None:
                writing.result()
            writing = writer.submit(write_set, out, samples, loaded.data.class_names, title, info)
        if args.trajectory_npz:
            trajectory_labels = requested_labels(loaded, dataclasses.replace(config, num_images=config.trajectory_images), job.test_labels)
            images, trajectory = sample_trajectory(loaded, runs[0], config, device, trajectory_labels, frames=args.frames)
            writing.result()
            writing = writer.submit(
                write_trajectory, args.trajectory_npz, args.trajectory_gif, loaded, runs[0], config, images, trajectory, trajectory_labels,
            )
        writing.result()


def write_set(out: Path, samples, class_names, title: str, info: dict) -> None:
    """``out``.npz (the images), .png and .pdf (a grid) and .json (settings and speed)."""
    arrays = {"images": samples.images, "seeds": samples.seeds}
    if samples.labels is not None:
        arrays["labels"] = samples.labels
    save_npz(out.with_suffix(".npz"), **arrays)
    # One row per class (up to 40: the Persian letters have 36) or string; 10x10 otherwise.
    write_sample_grid(out.with_suffix(".png"), samples.images, samples.labels, class_names, title, max_rows=40)
    write_json(out.with_suffix(".json"), info)


def write_trajectory(npz: Path, gif: Path, loaded, sampler: SamplerConfig, config, images, trajectory: Trajectory, labels) -> None:
    """The trajectory's frames (uint8 x_t and predicted x0, timesteps, seeds, labels) and its GIF."""
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
    save_npz(npz, **arrays)
    toy = isinstance(loaded.diffusion, ToyDiffusion)
    prefix = f"{loaded.meta.get('experiment') or 'samples'}, {sampler.label}: "
    frame_labels = [prefix + (f"{t} steps to go" if toy else f"t = {t}") for t in trajectory.timesteps]
    image_labels = None if labels is None else label_titles(labels, loaded.data.class_names, ())
    write_trajectory_gif(gif, x_t, x0, frame_labels, image_labels=image_labels)


if __name__ == "__main__":
    run(main)
