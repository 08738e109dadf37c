#!/usr/bin/env python3
"""Does the trainer give the same weights, bit for bit, when the same training runs twice?

Each run is a separate process (as in the workflow): the project's trainer on synthetic data, a fixed
seed, with ``training.deterministic`` true ("deterministic") or false ("nondeterministic"). The
network is the MNIST U-Net (``--conditioning none`` or ``class``, 28x28 images) or the CAPTCHA one
(``text``: 32x128 images of 5-character strings, v-prediction, batch 64), as in config/config.yaml.
Each run prints its images/s, final loss and a SHA-256 of every tensor of the checkpoint and training
state it wrote; the runs of one mode agree when their digests do.

Usage: python bench/check_determinism.py [--modes deterministic deterministic nondeterministic ...]
       [--steps 300] [--conditioning none|class|text] [--strict] [--compile auto|off] [--quick]
       [--group-norm standard|channels_last]

``--group-norm channels_last``: the U-Net with ``model.group_norm: channels_last``
(:class:`ddpm.models.layers.ChannelsLastGroupNorm`, a speed lever that is not the default).
``--strict``: a kernel without a deterministic implementation stops the run with torch's warning as
the error, which names the operation (the trainer only warns). ``--quick``: a tiny U-Net, for a check
of the harness on the CPU (where every kernel is deterministic).
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import statistics
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, TrainingConfig
from ddpm.models.layers import GROUP_NORMS
from ddpm.training import TrainingData, TrainingFiles, train

MODES = ("deterministic", "nondeterministic")  # training.deterministic true / false


def tensor_digest(obj, digest) -> None:
    if isinstance(obj, torch.Tensor):
        digest.update(obj.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        for key in sorted(obj, key=str):
            tensor_digest(obj[key], digest)
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            tensor_digest(item, digest)


CAPTCHA_ALPHABET = "2345678bcdefgmnpwxy"  # the CAPTCHA dataset's 19 characters, 5 per image


def workload(conditioning: str, quick: bool) -> tuple[DataSpec, ModelConfig, DiffusionConfig, int]:
    """The data's shape, network, diffusion and batch size of one of the reference experiments."""
    if conditioning == "text":  # captcha_text
        spec = DataSpec(image_channels=1, image_size=(32, 128), alphabet=CAPTCHA_ALPHABET, text_length=5)
        diffusion, batch_size = DiffusionConfig(schedule="cosine", target="v"), 64
        if quick:
            model = ModelConfig(base_channels=8, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(16,), conditioning="text", num_heads=2, text_dim=16, text_layers=1)
        else:
            model = ModelConfig(base_channels=64, channel_mult=(1, 2, 2, 2), attention_resolutions=(8, 4), conditioning="text", num_heads=4)
    else:  # mnist_uncond / mnist_cond
        spec = DataSpec(image_channels=1, image_size=(28, 28), num_classes=10, class_names=tuple("0123456789"))
        diffusion, batch_size = DiffusionConfig(), 128
        if quick:
            model = ModelConfig(base_channels=8, channel_mult=(1, 2), num_res_blocks=1, attention_resolutions=(14,), conditioning=conditioning)
        else:
            model = ModelConfig(base_channels=64, channel_mult=(1, 2, 2), attention_resolutions=(14,), conditioning=conditioning)
    return spec, model, diffusion, 8 if quick else batch_size


def one_run(
    mode: str, steps: int, conditioning: str, quick: bool = False, strict: bool = False, compile_mode: str = "auto", group_norm: str = "standard"
) -> dict:
    """Train from seed 0 in this process; images/s, final loss and a digest of the files written."""
    if strict:  # torch warns once per op without a deterministic kernel; here that ends the run
        warnings.filterwarnings("error", message=".*determinis")
    spec, model, diffusion, batch_size = workload(conditioning, quick)
    model = dataclasses.replace(model, group_norm=group_norm)
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(6000, *spec.image_size, 1), dtype=np.uint8)
    if conditioning == "text":
        cond = torch.from_numpy(rng.integers(0, len(spec.alphabet), size=(6000, spec.text_length)))
    else:
        labels = torch.from_numpy(rng.integers(0, 10, size=6000))
        cond = labels if conditioning == "class" else None
    training = TrainingConfig(
        steps=steps,
        batch_size=batch_size,
        log_every=max(1, steps // 6),
        val_every=steps,
        checkpoint_every=steps,
        deterministic=mode == "deterministic",
        compile=compile_mode,
    )
    inputs = TrainingData(images[:5000], None if cond is None else cond[:5000], images[5000:], None if cond is None else cond[5000:])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        files = TrainingFiles(out / "model.pt", out / "state.pt", out / "log.csv", out / "provenance.json")
        summary = train(model, spec, diffusion, training, inputs, files, progress=False)
        digest = hashlib.sha256()
        for path in (files.checkpoint, files.state):  # EMA weights; raw weights and optimizer
            tensor_digest(torch.load(path, map_location="cpu", weights_only=False), digest)
    rows = [r for r in summary.rows[1:] if r["val_loss"] is None] or summary.rows
    return {
        "mode": mode,
        "images_per_s": statistics.median(r["images_per_s"] for r in rows),
        "final_loss": summary.final_train_loss,
        "sha256": digest.hexdigest()[:16],
    }


def agreement(results: list[dict]) -> list[str]:
    """One line per mode run more than once: did its runs write the same weights?"""
    lines = []
    for mode in MODES:
        runs = [r for r in results if r["mode"] == mode]
        if len(runs) > 1:
            hashes = {r["sha256"] for r in runs}
            verdict = "the same weights bit for bit" if len(hashes) == 1 else f"{len(hashes)} different weights"
            lines.append(f"{mode}: {len(runs)} runs, {verdict}")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--modes", nargs="+", choices=MODES, default=["deterministic", "deterministic", "nondeterministic", "nondeterministic"])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--conditioning", default="class", choices=["none", "class", "text"])
    parser.add_argument("--strict", action="store_true", help="a nondeterministic kernel ends the run, naming its op")
    parser.add_argument("--compile", default="auto", choices=["auto", "off"], help="training.compile (off: eager kernels)")
    parser.add_argument("--quick", action="store_true", help="a tiny U-Net (a check of the harness)")
    parser.add_argument("--group-norm", default="standard", choices=GROUP_NORMS, help="model.group_norm of the U-Net")
    parser.add_argument("--one", choices=MODES, help=argparse.SUPPRESS)
    parser.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        args.json.write_text(json.dumps(one_run(args.one, args.steps, args.conditioning, args.quick, args.strict, args.compile, args.group_norm)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, mode in enumerate(args.modes):
            out = Path(tmp) / f"{i}.json"
            cmd = [sys.executable, __file__, "--one", mode, "--steps", str(args.steps), "--conditioning", args.conditioning, "--json", str(out)]
            cmd += ["--compile", args.compile, "--group-norm", args.group_norm] + ["--quick"] * args.quick + ["--strict"] * args.strict
            subprocess.run(cmd, check=True)
            results.append(json.loads(out.read_text()))
            r = results[-1]
            print(f"run {i + 1} {r['mode']:>16}: {r['images_per_s']:8.0f} img/s  final loss {r['final_loss']:.6f}  weights {r['sha256']}", flush=True)
    for line in agreement(results):
        print(line)


if __name__ == "__main__":
    main()
