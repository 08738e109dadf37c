#!/usr/bin/env python3
"""Sample the run's GPUs' utilisation once a second into a CSV, until the process that started it ends.

The workflow starts it when a run begins (``onstart``) and reads the CSV when the run ends: the mean
utilisation is the share of the run's wall time the GPUs were busy (NVML's utilisation is the share
of the last sample period during which a kernel was running). The run's GPUs are those that
``CUDA_VISIBLE_DEVICES`` names (indices in NVML's PCI-bus order, or UUIDs), else every GPU, so two
runs side by side on one machine each record their own. Without NVML or a GPU it writes nothing and
exits 0: a CPU run or a SLURM login node has nothing to monitor.

Usage: python scripts/gpu_monitor.py --out results/run/gpu_utilisation.csv --parent PID [--interval 1]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import os
import subprocess
import time
from pathlib import Path
from typing import Callable

from ddpm.processes import alive


Reader = Callable[[], list[tuple[int, int]]]  # per GPU: (utilisation %, memory used MiB)


def visible_gpus(environ: dict[str, str] = os.environ) -> list[str] | None:
    """The GPUs ``CUDA_VISIBLE_DEVICES`` names (index or UUID strings), or None for all of them.

    Like CUDA, the list ends at the first entry that names no device (so "" or "-1" hides every GPU).
    """
    value = environ.get("CUDA_VISIBLE_DEVICES")
    if value is None:
        return None
    names = []
    for entry in (e.strip() for e in value.split(",")):
        if not (entry.isdigit() or entry.startswith(("GPU-", "MIG-"))):
            break
        names.append(entry)
    return names


def nvml_reader(gpus: list[str] | None) -> Reader | None:
    try:
        import pynvml

        pynvml.nvmlInit()
        if gpus is None:
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        else:
            handles = [
                pynvml.nvmlDeviceGetHandleByIndex(int(g)) if g.isdigit() else pynvml.nvmlDeviceGetHandleByUUID(g) for g in gpus
            ]
    except Exception:  # no NVML bindings, no driver, no GPU, or one it does not know
        return None
    if not handles:
        return None
    return lambda: [
        (pynvml.nvmlDeviceGetUtilizationRates(h).gpu, pynvml.nvmlDeviceGetMemoryInfo(h).used // 2**20) for h in handles
    ]


def nvidia_smi_reader(gpus: list[str] | None) -> Reader | None:
    command = ["nvidia-smi", "--query-gpu=utilization.gpu,memory.used", "--format=csv,noheader,nounits"]
    if gpus is not None:
        command.append(f"--id={','.join(gpus)}")

    def read() -> list[tuple[int, int]]:
        out = subprocess.run(command, capture_output=True, text=True, timeout=10, check=True).stdout
        return [tuple(int(v) for v in line.split(",")) for line in out.strip().splitlines()]

    try:
        return read if read() else None
    except (OSError, subprocess.SubprocessError, ValueError):
        return None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--parent", required=True, type=int, help="stop when this process has ended")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between samples")
    args = parser.parse_args()
    gpus = visible_gpus()
    if gpus == []:
        return
    read = nvml_reader(gpus) or nvidia_smi_reader(gpus)
    if read is None:
        return
    args.out.parent.mkdir(parents=True, exist_ok=True)
    start = time.time()
    with open(args.out, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["unix_time", "elapsed_s", "gpu", "utilization_percent", "memory_used_mib"])
        while alive(args.parent):
            now = time.time()
            for name, (utilization, memory_mib) in zip(gpus or itertools.count(), read()):
                writer.writerow([f"{now:.3f}", f"{now - start:.3f}", name, utilization, memory_mib])
            f.flush()
            time.sleep(max(0.0, args.interval - (time.time() - now)))

if __name__ == "__main__":
    main()
