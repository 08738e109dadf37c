#!/usr/bin/env python3
"""GroupNorm + SiLU + dropout, forward and backward, on the CIFAR-10 U-Net's activations: the fused
Triton kernels (``model.group_norm: fused``) against what ``torch.compile`` makes of the same PyTorch
operations, in one process.

Each row is one activation shape of the U-Net at batch 128 (bf16, channels-last, 32 groups,
dropout 0.1 as in its second GroupNorm of a residual block). Columns: microseconds per forward +
backward (median of repeats, the device synchronised around each) of

* compiled: ``F.dropout(F.silu(F.group_norm(x)))`` under bf16 autocast, through ``torch.compile``
  (the standard model's code);
* compiled, NHWC: the same with ``ChannelsLastGroupNorm`` (``model.group_norm: channels_last``);
* fused: :func:`ddpm.models.fused_group_norm.group_norm_act`, inside ``torch.compile`` as the model
  runs it;

and the bytes the fused kernels must move (x read twice and y written forward; x and the gradient
read twice and the input gradient written backward) over its time, as a fraction of a memory copy's
bandwidth measured in the same run. Before timing, each shape's fused forward and gradients are
checked against float64 PyTorch (the run stops with an error if they are off).

Usage: python bench/benchmark_group_norm.py [--batch 128] [--json out.json]
The numbers are only meaningful on a GPU; ``--quick --device cpu`` checks the harness in Triton's
interpreter on tiny shapes.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
from pathlib import Path

import torch
import torch.nn.functional as F

from ddpm.runtime import seconds_per_call

# The channel counts and sizes at which the CIFAR-10 U-Net (128 channels, mult 1,2,2,2) normalises.
SHAPES = ((128, 32), (256, 32), (384, 32), (256, 16), (512, 16), (256, 8), (256, 4))
GROUPS = 32
DROPOUT = 0.1
EPS = 1e-6


def microseconds(fn, repeats: int, iters: int, device: torch.device) -> float:
    """Median microseconds per call of ``fn`` after two warm-up calls (NaN off the GPU)."""
    fn()
    fn()
    return seconds_per_call(fn, device, iters, repeats) * 1e6 if device.type == "cuda" else float("nan")


def copy_bandwidth(device: torch.device) -> float:
    """Bytes per second of a device-to-device copy of 512 MiB (read + write)."""
    if device.type != "cuda":
        return float("nan")
    src = torch.empty(256 * 2**20, dtype=torch.bfloat16, device=device)
    dst = torch.empty_like(src)
    us = microseconds(lambda: dst.copy_(src), 5, 10, device)
    return 2 * src.numel() * 2 / (us * 1e-6)


def print_kernels(title: str, step, calls: int = 5) -> None:
    """The GPU time per call of each kernel that ``step`` launches (torch.profiler)."""
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(calls):
            step()
        torch.cuda.synchronize()
    events = [e for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA and e.self_device_time_total > 0]
    print(f"  {title}: {sum(e.self_device_time_total for e in events) / calls:.0f} us of kernels per call")
    for e in sorted(events, key=lambda e: -e.self_device_time_total)[:10]:
        print(f"    {e.self_device_time_total / calls:7.1f} us {e.count // calls:3d}x {e.key[:90]}")


def check(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> None:
    """The fused kernels against float64 PyTorch (no dropout; rounding of bf16 allowed)."""
    from ddpm.models.fused_group_norm import group_norm_act

    x = x.detach().requires_grad_()
    w, b = weight.detach().requires_grad_(), bias.detach().requires_grad_()
    y = group_norm_act(x, w, b, GROUPS, EPS, silu=True)
    grad = torch.randn_like(y)
    y.backward(grad)
    ref = [t.detach().double().requires_grad_() for t in (x, weight, bias)]
    ref_y = F.silu(F.group_norm(ref[0], GROUPS, ref[1], ref[2], EPS))
    ref_y.backward(grad.double())
    for name, ours, theirs in (("y", y, ref_y), ("dx", x.grad, ref[0].grad), ("dweight", w.grad, ref[1].grad), ("dbias", b.grad, ref[2].grad)):
        error = (ours.double() - theirs).abs().max().item() / max(theirs.abs().max().item(), 1e-12)
        if not error < 0.02:  # bf16 has 8 significant bits
            raise SystemExit(f"error: the fused kernels' {name} is off by {error:.3g} (relative to its largest value) for shape {tuple(x.shape)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--quick", action="store_true", help="tiny shapes, a check of the harness")
    parser.add_argument("--shapes", type=int, nargs="+", help="rows by index into SHAPES (default: all)")
    parser.add_argument("--profile", action="store_true", help="also list each column's kernels (torch.profiler)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("error: no CUDA device here; the numbers are only meaningful on a GPU (try --quick --device cpu)")
    if device.type == "cpu":
        os.environ.setdefault("TRITON_INTERPRET", "1")  # before ddpm.models imports Triton's kernels
    from ddpm.models.layers import norm_silu, use_group_norm

    torch.backends.cudnn.benchmark = True
    batch, shapes, repeats, iters = (args.batch, SHAPES, 5, 20) if not args.quick else (2, ((64, 8), (96, 4)), 1, 1)
    if args.shapes:
        shapes = [shapes[i] for i in args.shapes]
    dtype = torch.bfloat16
    bandwidth = copy_bandwidth(device)

    # On the CPU only the tracing is exercised (Inductor's C++ build would take minutes).
    backend = "inductor" if device.type == "cuda" else "eager"
    kinds = {"compiled": "standard", "compiled, NHWC": "channels_last", "fused": "fused"}

    def compiled(norm: torch.nn.GroupNorm, dropout: torch.nn.Dropout):
        """The model's code path (:func:`norm_silu`) for ``norm``, compiled for one shape."""

        def run(x):
            with torch.autocast(device.type, dtype=dtype, enabled=device.type == "cuda"):
                return norm_silu(norm, x, dropout)

        torch._dynamo.reset()  # a fresh compile per shape and kind: no recompile limit, no dynamic shapes
        return torch.compile(run, backend=backend, dynamic=False)

    rows = []
    print(f"{torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu'}; torch {torch.__version__}; copy bandwidth {bandwidth / 1e9:.0f} GB/s")
    print("| shape (N, C, H, W) | " + " | ".join(f"{c} (us)" for c in kinds) + " | fused / compiled | fused, share of copy bandwidth |")
    print("|---|" + "---:|" * (len(kinds) + 2))
    for channels, size in shapes:
        torch.manual_seed(0)
        x = torch.randn(batch, channels, size, size, device=device, dtype=dtype).to(memory_format=torch.channels_last)
        norm = torch.nn.GroupNorm(GROUPS, channels, eps=EPS).to(device)
        with torch.no_grad():
            norm.weight.normal_(1, 0.1)
            norm.bias.normal_(0, 0.1)
        check(x, norm.weight, norm.bias)
        x.requires_grad_()
        grad = torch.randn_like(x)
        row = {"shape": [batch, channels, size, size]}
        for name, kind in kinds.items():
            fn = compiled(use_group_norm(copy.deepcopy(norm), kind), torch.nn.Dropout(DROPOUT))

            def step(fn=fn):
                fn(x).backward(grad)

            row[name] = microseconds(step, repeats, iters, device)
            if args.profile and device.type == "cuda":
                print_kernels(f"{name} {tuple(row['shape'])}", step)
        moved = x.numel() * x.element_size() * 8  # forward: 2 reads + 1 write; backward: 2 x 2 reads + 1 write
        row["fused share of copy bandwidth"] = moved / (row["fused"] * 1e-6) / bandwidth
        rows.append(row)
        cells = " | ".join(f"{row[c]:.0f}" for c in kinds)
        print(f"| {tuple(row['shape'])} | {cells} | {row['compiled'] / row['fused']:.2f}x faster | {row['fused share of copy bandwidth']:.0%} |", flush=True)
    total = {c: sum(r[c] for r in rows) for c in kinds}
    print("| all shapes | " + " | ".join(f"{total[c]:.0f}" for c in kinds) + f" | {total['compiled'] / total['fused']:.2f}x faster | |")
    if args.json:
        args.json.write_text(json.dumps({"device": str(device), "torch": torch.__version__, "copy_bandwidth": bandwidth, "rows": rows}, indent=1))


if __name__ == "__main__":
    sys.exit(main())
