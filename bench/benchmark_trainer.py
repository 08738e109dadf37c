#!/usr/bin/env python3
"""The project trainer's real images/s on a prepared dataset against its bare step.

The bare step is forward + loss + backward + AdamW on one fixed batch already on the GPU, with the
same model, precision and compilation. The trainer adds everything a real run does: drawing batches
from the device-resident dataset, condition dropout, EMA, logging, validation. A ratio near 1 means
no input stalls.

Usage: python bench/benchmark_trainer.py --data results/data/mnist [--steps 1500] [--conditioning class]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from ddpm.config import DiffusionConfig, ModelConfig, TrainingConfig
from ddpm.data import load_split
from ddpm.factory import build_diffusion, build_model
from ddpm.labels import conditions, data_spec
from ddpm.runtime import autocast, mark_step, maybe_compile, place
from ddpm.training import TrainingData, TrainingFiles, train


def bare_step_images_per_s(model_cfg, spec, diffusion_cfg, batch_size, cond, iters=50) -> float:
    device = torch.device("cuda")
    raw = place(build_model(model_cfg, spec), device)
    model = maybe_compile(raw, device, "on", cuda_graphs=True)
    objective = build_diffusion(diffusion_cfg)
    optimizer = torch.optim.AdamW(raw.parameters(), lr=1e-4, fused=True)
    g = torch.Generator(device).manual_seed(0)
    x = (torch.rand(batch_size, spec.image_channels, *spec.image_size, device=device, generator=g) * 2 - 1).contiguous(
        memory_format=torch.channels_last
    )
    draws = objective.draw_training_randomness(batch_size, tuple(x.shape[1:]), device, g)
    kwargs = {} if cond is None else {"cond": cond[:batch_size].to(device)}

    def step():
        mark_step()
        with autocast(device, "auto"):
            loss = objective.training_losses(model, x, **draws, **kwargs).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(raw.parameters(), 1.0)
        optimizer.step()

    for _ in range(10):
        step()
    torch.cuda.synchronize()
    times = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(iters):
            step()
        torch.cuda.synchronize()
        times.append((time.perf_counter() - start) / iters)
    return batch_size / statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="prepared dataset folder (train.npz, val.npz)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--conditioning", default="none")
    args = parser.parse_args()

    train_split, val_split = load_split(args.data / "train.npz"), load_split(args.data / "val.npz")
    spec = data_spec(train_split.meta)
    model_cfg = ModelConfig(base_channels=64, channel_mult=(1, 2, 2), attention_resolutions=(14,), conditioning=args.conditioning)
    diffusion_cfg = DiffusionConfig()
    training = TrainingConfig(steps=args.steps, batch_size=args.batch_size, log_every=100, val_every=500, checkpoint_every=args.steps)
    cond = conditions(train_split.labels, model_cfg, spec)
    bare = bare_step_images_per_s(model_cfg, spec, diffusion_cfg, args.batch_size, cond)

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        summary = train(
            model_cfg,
            spec,
            diffusion_cfg,
            training,
            TrainingData(train_split.images, cond, val_split.images, conditions(val_split.labels, model_cfg, spec)),
            TrainingFiles(out / "model.pt", out / "state.pt", out / "log.csv", out / "provenance.json"),
            progress=False,
        )
    # Throughput of the intervals without validation (validation time is not training time).
    rows = [r for r in summary.rows[1:] if r["val_loss"] is None] or summary.rows
    trainer = statistics.median(r["images_per_s"] for r in rows)
    print(f"{torch.cuda.get_device_name()}, {args.data.name}, batch {args.batch_size}, {sum(p.numel() for p in build_model(model_cfg, spec).parameters()) / 1e6:.2f}M parameters")
    print(f"bare step: {bare:.0f} img/s; trainer: {trainer:.0f} img/s; ratio {trainer / bare:.2f}; final loss {summary.final_train_loss:.4f} (val {summary.final_val_loss:.4f}) after {summary.steps} steps in {summary.train_time_s:.0f} s")


if __name__ == "__main__":
    main()
