#!/usr/bin/env python3
"""Throughput of the project's DDPM U-Net against diffusers' UNet2DModel, configured identically.

Both networks are the CIFAR-10 U-Net of Ho et al. (35.7M parameters; diffusers: block_out_channels
128,256,256,256, layers_per_block 2, attention at 16x16, one attention head). Measured on one GPU:

* training images/s at batch 128, 32x32: forward, eps-MSE loss, backward, AdamW step;
* sampling forward images/s at batch 1024 (no gradients);
* FLOPs per image (torch.utils.flop_counter) and model-FLOPs utilisation against the bf16 peak;
* numerics: a 200-step loss curve of the fast path against an fp32 reference from the same start.

Usage: python bench/benchmark_unet.py [--quick] [--skip-diffusers] [--json out.json]
Prints one table at the end. Needs CUDA (and diffusers, unless --skip-diffusers).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ddpm.models.unet import UNet  # noqa: E402
from ddpm.runtime import maybe_compile  # noqa: E402

BF16_PEAK_DATASHEET = 989e12  # H100/H200 SXM dense bf16


def build_ours() -> torch.nn.Module:
    return UNet(3, (32, 32), base_channels=128, channel_mult=(1, 2, 2, 2), num_res_blocks=2, attention_resolutions=(16,), dropout=0.1)


def build_diffusers() -> torch.nn.Module:
    from diffusers import UNet2DModel

    net = UNet2DModel(
        sample_size=32,
        in_channels=3,
        out_channels=3,
        block_out_channels=(128, 256, 256, 256),
        layers_per_block=2,
        down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
        attention_head_dim=None,
        norm_eps=1e-6,
        dropout=0.1,
    )

    class Wrapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.net = net

        def forward(self, x, t):
            return self.net(x, t).sample

    return Wrapped()


def measure_matmul_peak() -> float:
    a = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(8192, 8192, device="cuda", dtype=torch.bfloat16)
    for _ in range(3):
        a @ b
    return 2 * 8192**3 / (time_cuda(lambda: a @ b, 20) )


def time_cuda(fn, iters: int, repeats: int = 3) -> float:
    """Median seconds per call over ``repeats`` timed blocks of ``iters`` calls (after the caller's warm-up)."""
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        for _ in range(iters):
            fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end) / 1000 / iters)
    return statistics.median(times)


def flops_per_image(model: torch.nn.Module) -> float:
    x = torch.randn(1, 3, 32, 32, device="cuda")
    t = torch.tensor([500], device="cuda")
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(x, t)
    return counter.get_total_flops()


class TrainStep:
    """One optimizer step of the eps-prediction loss, with the data and noise drawn on the GPU."""

    def __init__(self, model, batch: int, bf16: bool, channels_last: bool, compile_mode: str | None, seed: int = 0):
        self.model = model.cuda().train()
        if channels_last:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.forward = torch.compile(self.model, mode=compile_mode) if compile_mode else self.model
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=2e-4, fused=compile_mode is not None)
        self.batch, self.bf16, self.channels_last = batch, bf16, channels_last
        self.cuda_graphs = compile_mode == "reduce-overhead"
        self.generator = torch.Generator("cuda").manual_seed(seed)
        self.data = torch.rand(4096, 3, 32, 32, device="cuda", generator=self.generator) * 2 - 1
        self.abar = torch.cumprod(1 - torch.linspace(1e-4, 0.02, 1000, device="cuda", dtype=torch.float64), 0).float()

    def __call__(self) -> torch.Tensor:
        g = self.generator
        idx = torch.randint(0, len(self.data), (self.batch,), device="cuda", generator=g)
        x0 = self.data[idx]
        t = torch.randint(0, 1000, (self.batch,), device="cuda", generator=g)
        noise = torch.randn(x0.shape, device="cuda", generator=g)
        a = self.abar[t].view(-1, 1, 1, 1)
        x_t = a.sqrt() * x0 + (1 - a).sqrt() * noise
        if self.channels_last:
            x_t = x_t.contiguous(memory_format=torch.channels_last)
        if self.cuda_graphs:
            torch.compiler.cudagraph_mark_step_begin()
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.bf16):
            out = self.forward(x_t, t)
        loss = F.mse_loss(out.float(), noise)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.optimizer.step()
        return loss.detach()


def train_throughput(build, batch, bf16, channels_last, compile_mode, iters) -> tuple[float, float]:
    torch.manual_seed(0)
    step = TrainStep(build(), batch, bf16, channels_last, compile_mode)
    for _ in range(5):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    seconds = time_cuda(step, iters)
    return batch / seconds, torch.cuda.max_memory_allocated() / 2**30


def sample_throughput(build, batch, mode, iters) -> float:
    torch.manual_seed(0)
    model = build().cuda().eval()
    x = torch.randn(batch, 3, 32, 32, device="cuda")
    t = torch.full((batch,), 500, device="cuda")
    if mode == "bf16-autocast":
        def run():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                return model(x, t)
    elif mode == "fast":
        model = model.to(memory_format=torch.channels_last)
        fast = maybe_compile(model, torch.device("cuda"), "on")
        x = x.contiguous(memory_format=torch.channels_last)

        def run():
            with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
                return fast(x, t)
    else:
        raise ValueError(mode)
    for _ in range(3):
        run()
    torch.cuda.synchronize()
    return batch / time_cuda(run, iters)


def loss_curve(build, bf16, channels_last, compile_mode, steps) -> list[float]:
    torch.manual_seed(0)
    step = TrainStep(build(), 128, bf16, channels_last, compile_mode, seed=1)
    losses = [step() for _ in range(steps)]
    return [float(v) for v in torch.stack(losses).cpu()]


def window_means(values, width=20):
    return [statistics.fmean(values[i : i + width]) for i in range(0, len(values), width)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer timed iterations")
    parser.add_argument("--skip-diffusers", action="store_true")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--compile-mode", default="reduce-overhead", help="torch.compile mode of the fast training path (the trainer's: CUDA graphs)")
    args = parser.parse_args()
    iters = 10 if args.quick else 30

    rows: dict[str, dict] = {}
    device_name = torch.cuda.get_device_name()
    peak = measure_matmul_peak()
    print(f"{device_name}; torch {torch.__version__}; measured bf16 matmul peak {peak / 1e12:.0f} TFLOP/s", flush=True)

    nets = {"ours": build_ours}
    if not args.skip_diffusers:
        nets["diffusers"] = build_diffusers
    for name, build in nets.items():
        model = build().cuda()
        params = sum(p.numel() for p in model.parameters())
        flops = flops_per_image(model)
        del model
        rows[name] = {"parameters": params, "gflop_per_image": flops / 1e9}
        print(f"{name}: {params / 1e6:.2f}M parameters, {flops / 1e9:.2f} GFLOP per image forward", flush=True)

    def record(key, value):
        rows.setdefault(key[0], {})[key[1]] = value
        print(f"  {key[0]:10s} {key[1]:28s} {value:10.1f}", flush=True)

    t0 = time.time()
    if not args.skip_diffusers:
        record(("diffusers", "train_fp32"), train_throughput(build_diffusers, 128, False, False, None, iters)[0])
        record(("diffusers", "train_bf16"), train_throughput(build_diffusers, 128, True, False, None, iters)[0])
        record(("diffusers", "sample_bf16"), sample_throughput(build_diffusers, 1024, "bf16-autocast", iters))
    record(("ours", "train_fp32"), train_throughput(build_ours, 128, False, False, None, iters)[0])
    record(("ours", "train_bf16"), train_throughput(build_ours, 128, True, False, None, iters)[0])
    speed, mem = train_throughput(build_ours, 128, True, True, args.compile_mode, iters)
    record(("ours", "train_fast"), speed)
    record(("ours", "train_fast_peak_mem_gib"), mem)
    record(("ours", "sample_bf16"), sample_throughput(build_ours, 1024, "bf16-autocast", iters))
    record(("ours", "sample_fast"), sample_throughput(build_ours, 1024, "fast", iters))
    print(f"timings took {time.time() - t0:.0f} s", flush=True)

    reference = loss_curve(build_ours, False, False, None, 200)
    fast = loss_curve(build_ours, True, True, args.compile_mode, 200)
    ref_w, fast_w = window_means(reference), window_means(fast)
    worst = max(abs(a - b) / abs(a) for a, b in zip(ref_w, fast_w))
    rows["numerics"] = {"fp32_window_means": ref_w, "fast_window_means": fast_w, "max_relative_difference": worst}

    ours, theirs = rows["ours"], rows.get("diffusers", {})
    train_flops = 3 * ours["gflop_per_image"] * 1e9  # backward costs about twice the forward
    print("\n| measure | diffusers | ours | ratio |\n|---|---|---|---|")
    for label, key_theirs, key_ours in [
        ("train img/s fp32", "train_fp32", "train_fp32"),
        ("train img/s bf16 autocast", "train_bf16", "train_bf16"),
        ("train img/s (ours: fast path) vs diffusers bf16", "train_bf16", "train_fast"),
        ("sample fwd img/s bf16 autocast", "sample_bf16", "sample_bf16"),
        ("sample fwd img/s (ours: fast path) vs diffusers bf16", "sample_bf16", "sample_fast"),
    ]:
        a, b = theirs.get(key_theirs), ours[key_ours]
        ratio = f"{b / a:.2f}x" if a else "-"
        print(f"| {label} | {a if a is None else round(a)} | {b:.0f} | {ratio} |")
    print(
        f"\nMFU (fast path, against measured {peak / 1e12:.0f} / datasheet {BF16_PEAK_DATASHEET / 1e12:.0f} TFLOP/s): "
        f"train {ours['train_fast'] * train_flops / peak:.1%} / {ours['train_fast'] * train_flops / BF16_PEAK_DATASHEET:.1%}, "
        f"sampling {ours['sample_fast'] * ours['gflop_per_image'] * 1e9 / peak:.1%} / "
        f"{ours['sample_fast'] * ours['gflop_per_image'] * 1e9 / BF16_PEAK_DATASHEET:.1%}"
    )
    print(f"numerics: 200-step loss curve, fast path vs fp32, worst 20-step window: {worst:.2%} relative")
    print("fp32:", " ".join(f"{v:.4f}" for v in ref_w))
    print("fast:", " ".join(f"{v:.4f}" for v in fast_w))
    if args.json:
        args.json.write_text(json.dumps({"device": device_name, "torch": torch.__version__, "peak": peak, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
