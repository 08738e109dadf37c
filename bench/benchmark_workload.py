#!/usr/bin/env python3
"""What one GPU can do with a config's experiments: the numbers that plan a reproduction.

For each experiment asked for (its model, diffusion and training settings from the config, on random
images of its dataset's shape), in fresh processes, through the project's own trainer:

* training images/s after compilation, and the compilation time, with a cold and a warm
  inductor cache (one cache folder shared by the two processes, as the workflow shares one);
* the same step with K copies training side by side on the GPU (their summed images/s);
* optionally other batch sizes (same step, more images per step);
* sampling: network forward images/s at the sampling batch size, compiled as the sampling jobs do.

Then, for the whole config, the training images and sampling network evaluations it asks for and the
GPU time they take at the measured rates. Numbers are only meaningful on a GPU; ``--device cpu`` with
``--steps 20`` checks the script end to end.

Usage: python bench/benchmark_workload.py --config config/config.yaml \
           [--experiments mnist_uncond captcha_text] [--steps 400] [--concurrency 4] \
           [--batch-sizes 256] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import yaml

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, TrainingConfig, from_dict
from ddpm.factory import build_model
from ddpm.runtime import autocast, maybe_compile, place, resolve_device
from ddpm.training import TrainingData, TrainingFiles, train
from ddpm.workload import experiment_workload

# Shapes of the datasets the shipped configs use, when no prepared sidecar is at hand:
# (channels, height, width, classes, alphabet, text length).
KNOWN_SHAPES = {
    "mnist": (1, 28, 28, 10, "", 0),
    "fashion_mnist": (1, 28, 28, 10, "", 0),
    "hoda": (1, 28, 28, 10, "", 0),
    "persian_letters": (1, 32, 32, 36, "", 0),
    "captcha": (1, 32, 128, 0, "2345678bcdefgmnpwxy", 5),
    "cifar10": (3, 32, 32, 10, "", 0),
    "stanford_cars": (3, 64, 64, 0, "", 0),
    "synthetic_digits": (1, 16, 16, 10, "", 0),
}


def data_spec_for(config: dict, dataset: str, prepared: Path) -> DataSpec:
    sidecar = prepared / dataset / "train.json"
    if sidecar.exists():
        from ddpm.labels import data_spec

        return data_spec(json.loads(sidecar.read_text()))
    source = config["datasets"][dataset].get("source", dataset)
    if source not in KNOWN_SHAPES:
        raise SystemExit(f"no prepared {sidecar} and no known shape for source {source!r}")
    channels, height, width, classes, alphabet, length = KNOWN_SHAPES[source]
    if "image_size" in config["datasets"][dataset]:
        height, width = config["datasets"][dataset]["image_size"]
    return DataSpec(channels, (height, width), classes, tuple(map(str, range(classes))), alphabet, length)


def random_inputs(spec: DataSpec, model: ModelConfig, count: int, seed: int) -> TrainingData:
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, *spec.image_size, spec.image_channels), dtype=np.uint8)
    cond = None
    if model.conditioning == "class":
        cond = torch.from_numpy(rng.integers(0, spec.num_classes, count).astype(np.int64))
    elif model.conditioning == "text":
        from ddpm.factory import build_tokenizer

        texts = ["".join(rng.choice(list(spec.alphabet), spec.text_length)) for _ in range(count)]
        cond = build_tokenizer(spec).encode(texts)
    return TrainingData(images, cond, images[:256], None if cond is None else cond[:256], fingerprint="random")


def worker(job: dict) -> None:
    """One training run in this process; prints a JSON line with its timings."""
    model = from_dict(ModelConfig, job["model"], "model")
    diffusion = from_dict(DiffusionConfig, job["diffusion"], "diffusion")
    spec = DataSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in job["spec"].items()})
    training = from_dict(TrainingConfig, job["training"], "training")
    inputs = random_inputs(spec, model, max(4096, training.batch_size * 4), seed=job["seed"])
    out = Path(job["out"])
    files = TrainingFiles(out / "model.pt", out / "state.pt", out / "log.csv", out / "provenance.json")
    start = time.perf_counter()
    train(model, spec, diffusion, training, inputs, files, device=job["device"], progress=False)
    total = time.perf_counter() - start
    with open(files.log_csv) as f:
        rows = list(csv.DictReader(f))
    rates = [float(r["images_per_s"]) for r in rows[1:]] or [float(rows[-1]["images_per_s"])]
    steady = statistics.median(rates)
    first_elapsed = float(rows[0]["elapsed_s"])
    first_steps = int(rows[0]["step"])
    compile_s = max(0.0, first_elapsed - first_steps * training.batch_size / steady)
    print("RESULT " + json.dumps({"images_per_s": steady, "compile_s": compile_s, "total_s": total}), flush=True)


def launch(jobs: list[dict], cache_dir: Path) -> list[dict]:
    """Run jobs side by side, each in its own process; returns their RESULT lines."""
    env = dict(os.environ, TORCHINDUCTOR_CACHE_DIR=str(cache_dir), TQDM_DISABLE="1")
    procs = [
        subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(job)], env=env, stdout=subprocess.PIPE, text=True)
        for job in jobs
    ]
    results = []
    for proc in procs:
        out, _ = proc.communicate()
        if proc.returncode != 0:
            raise SystemExit(f"a training worker failed (exit {proc.returncode})")
        results.append(json.loads(next(line[7:] for line in out.splitlines() if line.startswith("RESULT "))))
    return results


def training_job(exp: dict, spec: DataSpec, steps: int, device: str, out: Path, seed: int, batch_size: int | None = None) -> dict:
    training = dict(exp.get("training", {}))
    training.update(steps=steps, log_every=max(1, steps // 8), checkpoint_every=steps, val_every=steps, val_batches=1, time_budget_s=None)
    if batch_size:
        training["batch_size"] = batch_size
    return {
        "model": exp.get("model", {}),
        "diffusion": exp.get("diffusion", {}),
        "training": training,
        "spec": dataclasses.asdict(spec),
        "device": device,
        "out": str(out),
        "seed": seed,
    }


def sampling_forward_rate(exp: dict, spec: DataSpec, device: torch.device, batch_size: int) -> float:
    """Forward images/s of the experiment's network at ``batch_size`` (bf16, compiled on CUDA)."""
    model_cfg = from_dict(ModelConfig, exp.get("model", {}), "model")
    net = maybe_compile(place(build_model(model_cfg, spec), device).eval(), device, "auto")
    x = torch.randn(batch_size, spec.image_channels, *spec.image_size, device=device)
    t = torch.randint(0, 1000, (batch_size,), device=device)
    kwargs = {}
    if model_cfg.conditioning == "class":
        kwargs["cond"] = torch.randint(0, spec.num_classes, (batch_size,), device=device)
    elif model_cfg.conditioning == "text":
        kwargs["cond"] = torch.randint(1, len(spec.alphabet) + 1, (batch_size, spec.text_length), device=device)

    def forward():
        with torch.no_grad(), autocast(device, "auto"):
            net(x, t, **kwargs) if model_cfg.architecture == "unet" else net(x)

    for _ in range(3):
        forward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    iters = 20 if device.type == "cuda" else 2
    start = time.perf_counter()
    for _ in range(iters):
        forward()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return batch_size * iters / (time.perf_counter() - start)


def config_workload(config: dict, names: list[str], prepared: Path) -> dict[str, dict]:
    """Training images and sampling network evaluations per experiment (ddpm.workload's count)."""
    work = {}
    for name in names:
        exp = config["experiments"][name]
        spec = data_spec_for(config, exp["dataset"], prepared)
        estimate = experiment_workload(name, exp, spec.image_size, channels=spec.image_channels)
        work[name] = {"training_images": estimate.training_images, "sampling_forwards": estimate.sampling_evaluations}
    return work


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="config/config.yaml", type=Path)
    parser.add_argument("--experiments", nargs="+", help="default: the config's `run` list")
    parser.add_argument("--steps", type=int, default=400, help="training steps per measurement")
    parser.add_argument("--concurrency", type=int, nargs="*", default=[4], help="copies trained side by side")
    parser.add_argument("--batch-sizes", type=int, nargs="*", default=[], help="extra training batch sizes to time")
    parser.add_argument("--sampling-batch", type=int, default=1000)
    parser.add_argument("--prepared", type=Path, default=Path("results/data"), help="prepared datasets (for shapes)")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return

    config = yaml.safe_load(args.config.read_text())
    names = args.experiments or list(config["run"])
    device = resolve_device(args.device)
    report: dict = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu", "experiments": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in names:
            exp = config["experiments"][name]
            spec = data_spec_for(config, exp["dataset"], args.prepared)
            row: dict = {}
            cache = tmp / f"cache-{name}"
            report["experiments"][name] = row

            def record(key: str, value: float) -> None:
                # Each number as soon as it is measured: a run cut short still reports what it got.
                row[key] = value
                print(f"{name}: {key} = {value:.1f}", flush=True)
                if args.json:
                    args.json.write_text(json.dumps(report, indent=2))

            cold = launch([training_job(exp, spec, args.steps, str(device), tmp / f"{name}-cold", 0)], cache)[0]
            record("compile_cold_s", cold["compile_s"])
            warm = launch([training_job(exp, spec, args.steps, str(device), tmp / f"{name}-warm", 1)], cache)[0]
            record("compile_warm_s", warm["compile_s"])
            record("images_per_s", warm["images_per_s"])
            record("sampling_forward_images_per_s", sampling_forward_rate(exp, spec, device, args.sampling_batch))
            for k in args.concurrency:
                jobs = [training_job(exp, spec, args.steps, str(device), tmp / f"{name}-k{k}-{i}", i) for i in range(k)]
                record(f"images_per_s_x{k}", sum(r["images_per_s"] for r in launch(jobs, cache)))
            for batch in args.batch_sizes:
                job = training_job(exp, spec, args.steps, str(device), tmp / f"{name}-b{batch}", 0, batch)
                record(f"images_per_s_b{batch}", launch([job], cache)[0]["images_per_s"])

    work = config_workload(config, list(config["run"]), args.prepared)
    report["workload"] = work
    print(f"\n{'experiment':24} {'train img/s':>11} {'x' + str(args.concurrency[0]) + ' img/s' if args.concurrency else '':>11} "
          f"{'compile cold/warm s':>20} {'fwd img/s':>10} {'train img':>10} {'fwd':>10}")
    for name, row in report["experiments"].items():
        shared = row.get(f"images_per_s_x{args.concurrency[0]}", float("nan")) if args.concurrency else float("nan")
        w = work.get(name, {"training_images": 0, "sampling_forwards": 0})
        if "images_per_s" not in row or "sampling_forward_images_per_s" not in row:
            continue
        print(f"{name:24} {row['images_per_s']:11.0f} {shared:11.0f} {row['compile_cold_s']:9.1f}/{row['compile_warm_s']:<9.1f} "
              f"{row['sampling_forward_images_per_s']:10.0f} {w['training_images']:10d} {w['sampling_forwards']:10d}")
        for key, value in row.items():
            if key.startswith("images_per_s_b"):
                print(f"{'':24} batch {key[14:]}: {value:.0f} img/s")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
