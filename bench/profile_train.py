#!/usr/bin/env python3
"""Where a fast-path training step of the CIFAR-10 U-Net spends its GPU time (torch.profiler).

Usage: python bench/profile_train.py [--variants default,no-dropout,...]
Prints, per variant, img/s and the top CUDA kernels of a few profiled steps.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchmark_unet import TrainStep, time_cuda  # noqa: E402

from ddpm.models.unet import UNet  # noqa: E402


def build(dropout=0.1, attention=(16,)):
    return lambda: UNet(3, (32, 32), 128, (1, 2, 2, 2), 2, attention, dropout=dropout)


VARIANTS = {
    "eager-bf16-cl": dict(build=build(), compile_mode=None),
    "default": dict(build=build(), compile_mode="default"),
    "no-dropout": dict(build=build(dropout=0.0), compile_mode="default"),
    "no-attention": dict(build=build(attention=()), compile_mode="default"),
    "max-autotune-no-cudagraphs": dict(build=build(), compile_mode="max-autotune-no-cudagraphs"),
    "reduce-overhead": dict(build=build(), compile_mode="reduce-overhead"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="default,no-dropout,no-attention,eager-bf16-cl")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--copies", action="store_true", help="also list the ATen ops behind copy kernels, by input shape")
    args = parser.parse_args()
    for name in args.variants.split(","):
        v = VARIANTS[name]
        torch.manual_seed(0)
        step = TrainStep(v["build"](), 128, True, True, v["compile_mode"])
        for _ in range(6):
            step()
        torch.cuda.synchronize()
        seconds = time_cuda(step, 20)
        print(f"\n=== {name}: {128 / seconds:.0f} img/s ({seconds * 1e3:.1f} ms/step)", flush=True)
        with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU], record_shapes=args.copies, with_stack=False) as prof:
            for _ in range(5):
                step()
            torch.cuda.synchronize()
        events = [e for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA]
        total = sum(e.self_device_time_total for e in events) / 5
        launches = sum(e.count for e in events) / 5
        print(f"GPU busy {total / 1e3:.1f} ms/step over {launches:.0f} kernels/step", flush=True)
        for e in sorted(events, key=lambda e: -e.self_device_time_total)[: args.top]:
            print(f"{e.self_device_time_total / 5 / 1e3:8.2f} ms {e.count // 5:5d}x  {e.key[:110]}")
        if args.copies:
            ops = [e for e in prof.key_averages(group_by_input_shape=True) if e.key in ("aten::copy_", "aten::clone", "aten::contiguous", "aten::cat", "aten::_to_copy")]
            for e in sorted(ops, key=lambda e: -e.device_time_total)[:15]:
                print(f"  {e.device_time_total / 5 / 1e3:7.2f} ms {e.count // 5:4d}x {e.key:12s} {str(e.input_shapes)[:150]}")


if __name__ == "__main__":
    main()
