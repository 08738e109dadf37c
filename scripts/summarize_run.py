#!/usr/bin/env python3
"""How well a finished run used its GPU: wall time, per-rule times, GPU-busy share, model FLOPs.

* wall time: from the run's start to its end (given by the workflow);
* the sum of the per-rule times of the jobs this run executed (Snakemake's benchmark files, ``s``
  column, of files written after the start), which exceeds the wall time where jobs overlapped;
* the share of the wall time the GPU was busy: the mean of the utilisation samples that
  ``scripts/gpu_monitor.py`` took during the run;
* model FLOPs: per experiment, the network's forward FLOPs for one image (counted by
  ``torch.utils.flop_counter`` on the checkpoint) times 3 for each training image (forward and
  backward) and times 1 for each network evaluation of sampling; the judge networks and the
  evaluation are left out, so this is a lower bound. Over wall time x the bf16 dense peak, it is
  the run's model-FLOPs utilisation.

Writes a JSON and prints a few lines. Usage (the workflow calls it when a run succeeds):
  python scripts/summarize_run.py --start UNIX --end UNIX --monitor results/run/gpu_utilisation.csv \
      --benchmarks benchmarks --experiment results/experiments/mnist_uncond ... --out results/run/summary.json
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from ddpm.cli import run
from ddpm.io import read_json, write_json
from ddpm.labels import conditions
from ddpm.training import load_model_checkpoint
from ddpm.toy_diffusion import ToyDiffusion

# Dense bf16 matrix peak by the vendors' datasheets (FLOP/s), matched on the GPU's name.
BF16_PEAKS = {"H200": 989e12, "H100": 989e12, "A100": 312e12, "L40S": 362e12, "RTX 4090": 165e12}


def forward_flops_per_image(checkpoint: Path) -> int:
    loaded = load_model_checkpoint(checkpoint, "cpu")
    model = loaded.model.eval()
    data = loaded.data
    x = torch.zeros(1, data.image_channels, *data.image_size)
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        if isinstance(loaded.diffusion, ToyDiffusion):
            model(x)
        else:
            kind = loaded.model_config.conditioning
            label = None if kind == "none" else (np.zeros(1, dtype=np.int64) if kind == "class" else np.array([data.alphabet[0] * data.text_length]))
            cond = None if label is None else conditions(label, loaded.model_config, data)
            model(x, torch.zeros(1, dtype=torch.long), *([] if cond is None else [cond]))
    return int(counter.get_total_flops())


def experiment_flops(folder: Path) -> dict:
    provenance = read_json(folder / "provenance.json")
    training = provenance["settings"]["training"]
    steps = int(provenance["meta"]["steps"])
    per_image = forward_flops_per_image(folder / "model.pt")
    sampling_evaluations = 0.0
    for info in sorted((folder / "samples").glob("*.json")):
        record = read_json(info)
        sampling_evaluations += record["num_images"] * record.get("network_evaluations_per_image", 0.0)
    return {
        "forward_flops_per_image": per_image,
        "training_images": steps * int(training["batch_size"]),
        "training_flops": 3.0 * per_image * steps * int(training["batch_size"]),
        "sampling_network_evaluations": sampling_evaluations,
        "sampling_flops": per_image * sampling_evaluations,
        "device": provenance.get("device", ""),
    }


def gpu_busy_share(monitor: Path, start: float, end: float) -> tuple[float | None, int]:
    if not monitor.exists():
        return None, 0
    with open(monitor) as f:
        values = [float(row["utilization_percent"]) for row in csv.DictReader(f) if start <= float(row["unix_time"]) <= end]
    return (sum(values) / len(values) / 100.0 if values else None), len(values)


def rule_seconds(benchmarks: Path, start: float) -> tuple[float, int]:
    total, count = 0.0, 0
    for path in benchmarks.rglob("*.tsv"):
        if path.stat().st_mtime < start:
            continue  # a job of an earlier run
        with open(path) as f:
            rows = list(csv.DictReader(f, delimiter="\t"))
        total += sum(float(row["s"]) for row in rows)
        count += 1
    return total, count


def bf16_peak(device: str) -> float | None:
    return next((peak for name, peak in BF16_PEAKS.items() if name in device), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--start", required=True, type=float, help="the run's start (Unix time)")
    parser.add_argument("--end", required=True, type=float, help="the run's end (Unix time)")
    parser.add_argument("--monitor", required=True, type=Path, help="gpu_monitor.py's CSV")
    parser.add_argument("--benchmarks", required=True, type=Path, help="Snakemake's benchmark folder")
    parser.add_argument("--experiment", nargs="*", default=[], type=Path, help="experiment folders (model.pt, provenance.json, samples/)")
    parser.add_argument("--gpu-sharing", default=None, help="how the run's jobs shared the GPU (mps, time_slicing)")
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()

    wall = args.end - args.start
    busy, samples = gpu_busy_share(args.monitor, args.start, args.end)
    rules_total, jobs = rule_seconds(args.benchmarks, args.start)
    experiments = {folder.name: experiment_flops(folder) for folder in args.experiment if (folder / "model.pt").exists()}
    total_flops = sum(e["training_flops"] + e["sampling_flops"] for e in experiments.values())
    devices = sorted({e["device"] for e in experiments.values()})
    peak = bf16_peak(devices[0]) if len(devices) == 1 else None
    summary = {
        "wall_seconds": wall,
        "benchmarked_jobs": jobs,
        "sum_of_rule_seconds": rules_total,
        "gpu_busy_share": busy,
        "gpu_monitor_samples": samples,
        "gpu_sharing": args.gpu_sharing,
        "model_flops": total_flops,
        "model_flops_per_second": total_flops / wall if wall > 0 else None,
        "device": devices[0] if len(devices) == 1 else devices,
        "bf16_peak_flops_per_second": peak,
        "fraction_of_bf16_peak": total_flops / (wall * peak) if peak and wall > 0 else None,
        "experiments": experiments,
    }
    write_json(args.out, summary)
    print(f"run: {wall / 60:.1f} min wall, {rules_total / 60:.1f} min summed over {jobs} benchmarked jobs")
    if busy is not None:
        sharing = f", jobs sharing it by {args.gpu_sharing.replace('_', ' ')}" if args.gpu_sharing else ""
        print(f"GPU busy {100 * busy:.0f}% of the wall time ({samples} samples){sharing}")
    if summary["fraction_of_bf16_peak"] is not None:
        print(f"model FLOPs {total_flops / 1e15:.1f} PFLOP: {total_flops / wall / 1e12:.0f} TFLOP/s, {100 * summary['fraction_of_bf16_peak']:.1f}% of the bf16 peak")


if __name__ == "__main__":
    run(main)
