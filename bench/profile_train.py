#!/usr/bin/env python3
"""Where a fast-path training step of the CIFAR-10 U-Net spends its GPU time (torch.profiler).

Usage: python bench/profile_train.py [--variants default,no-dropout,...] [--top N] [--copies] [--sample | --full-step]
Prints, per variant, img/s, the GPU time per step by kind of kernel and the top CUDA kernels of a
few profiled steps. ``--sample`` profiles the sampling forward instead (eval mode, no gradients,
bf16, batch 1024: the sampling row of bench/benchmark_unet.py; a variant's CUDA graphs are left out,
as the sampler leaves them out at that batch). The training step is the one bench/benchmark_unet.py
times (bench/train_step.py), under the same backend settings (cudnn.benchmark, TF32), without its
gradient clipping and EMA update unless ``--full-step``. The ``deterministic`` variant runs the default one inside
``ddpm.runtime.deterministic_kernels`` (the trainer's default), to see what determinism costs;
``nhwc-groupnorm`` tries GroupNorm on the channels-last memory
(:class:`ddpm.models.layers.ChannelsLastGroupNorm`), ``fused-groupnorm`` (and with CUDA graphs,
``fused-groupnorm-reduce-overhead``) the fused Triton kernels (``model.group_norm: fused``);
``subpixel-upsample`` the upsampling convolutions on the low-resolution input (``model.upsample:
subpixel``), ``fused-subpixel`` (and ``-reduce-overhead``) both.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import re

import torch
from torch.profiler import ProfilerActivity, profile

from ddpm.config import DataSpec, ModelConfig
from ddpm.factory import build_model
from ddpm.runtime import deterministic_kernels, place, seconds_per_call
from train_step import Prepared, TrainStep, benchmark_backends
from workflow_config import DEFAULT_CONFIG, UNET_EXPERIMENT, UNET_IMAGE_SHAPE, load_experiment

BATCH = 128
SAMPLE_BATCH = 1024


def build(**changes):
    """A maker of the speed benchmarks' U-Net (workflow_config.UNET_EXPERIMENT's model) through the
    project's factory, with the variant's ``changes`` to its ModelConfig; model.group_norm and
    model.upsample are the dataclass's defaults unless changed."""

    def make():
        defaults = dict(group_norm=ModelConfig.group_norm, upsample=ModelConfig.upsample)
        config = dataclasses.replace(load_experiment(DEFAULT_CONFIG, UNET_EXPERIMENT).read("model", ModelConfig), **{**defaults, **changes})
        return build_model(config, DataSpec(UNET_IMAGE_SHAPE[0], UNET_IMAGE_SHAPE[1:]))

    return make


def train_step(model: torch.nn.Module, compile_mode: str | None, full_step: bool) -> TrainStep:
    """bench/benchmark_unet.py's training step (bench/train_step.py) for a variant: channels-last,
    compiled in ``compile_mode`` (eager where None; CUDA graphs with ``reduce-overhead``), at batch
    128; without ``full_step`` it leaves out the gradient clipping and the EMA update."""
    device = torch.device("cuda")
    raw = place(model, device).train()
    forward = torch.compile(raw, mode=compile_mode) if compile_mode else raw
    prepared = Prepared(raw, forward, torch.channels_last, cuda_graphs=compile_mode == "reduce-overhead")
    return TrainStep(prepared, device, UNET_IMAGE_SHAPE, BATCH, clip_and_ema=full_step)


class SampleForward:
    """One bf16, channels-last forward of the eval-mode network on a batch of noise, no gradients."""

    batch = SAMPLE_BATCH

    def __init__(self, model: torch.nn.Module, compile_mode: str | None, seed: int = 0):
        self.model = place(model, torch.device("cuda")).eval()
        mode = "default" if compile_mode == "reduce-overhead" else compile_mode
        self.forward = torch.compile(self.model, mode=mode) if mode else self.model
        generator = torch.Generator("cuda").manual_seed(seed)
        self.x = torch.randn(SAMPLE_BATCH, *UNET_IMAGE_SHAPE, device="cuda", generator=generator).contiguous(memory_format=torch.channels_last)
        self.t = torch.randint(0, 1000, (SAMPLE_BATCH,), device="cuda", generator=generator)

    def __call__(self) -> None:
        with torch.no_grad(), torch.autocast("cuda", dtype=torch.bfloat16):
            self.forward(self.x, self.t)


# Kernel kinds, by the first pattern that a kernel's name matches.
KERNEL_KINDS = (
    ("convolutions, matmuls, attention (cuDNN, cuBLAS)", r"xmma|cutlass|cudnn|implicit_gemm|nvjet|gemm|sdpa|flash"),
    ("layout copies (ATen copy kernels)", r"direct_copy|Memcpy"),
    ("optimizer", r"multi_tensor|FusedAdam"),
    ("fused GroupNorm kernels (ddpm.models.fused_group_norm)", r"^_forward_|^_backward_"),
    ("Inductor kernels with dropout", r"^triton.*dropout"),
    ("Inductor kernels with GroupNorm", r"^triton.*group_norm"),
    ("other Inductor kernels", r"^triton"),
    ("other", r""),
)


def is_range(event) -> bool:
    """An annotated range ("## Call CompiledFxGraph ...", "Optimizer.step#AdamW.step"): the profiler
    gives it the device time of the kernels inside it, which would count them twice."""
    return getattr(event, "is_user_annotation", False) or event.key.startswith(("## ", "Optimizer."))


def kernel_kind(name: str) -> str:
    return next(kind for kind, pattern in KERNEL_KINDS if re.search(pattern, name))


VARIANTS = {
    "eager-bf16-cl": dict(build=build(), compile_mode=None),
    "default": dict(build=build(), compile_mode="default"),
    "deterministic": dict(build=build(), compile_mode="default", deterministic=True),
    "nhwc-groupnorm": dict(build=build(group_norm="channels_last"), compile_mode="default"),
    "nhwc-groupnorm-deterministic": dict(build=build(group_norm="channels_last"), compile_mode="default", deterministic=True),
    "fused-groupnorm": dict(build=build(group_norm="fused"), compile_mode="default"),
    "fused-groupnorm-reduce-overhead": dict(build=build(group_norm="fused"), compile_mode="reduce-overhead"),
    "subpixel-upsample": dict(build=build(upsample="subpixel"), compile_mode="default"),
    "fused-subpixel": dict(build=build(group_norm="fused", upsample="subpixel"), compile_mode="default"),
    "fused-subpixel-reduce-overhead": dict(build=build(group_norm="fused", upsample="subpixel"), compile_mode="reduce-overhead"),
    "no-dropout": dict(build=build(dropout=0.0), compile_mode="default"),
    "no-attention": dict(build=build(attention_resolutions=()), compile_mode="default"),
    "max-autotune-no-cudagraphs": dict(build=build(), compile_mode="max-autotune-no-cudagraphs"),
    "reduce-overhead": dict(build=build(), compile_mode="reduce-overhead"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--variants", default="default,no-dropout,no-attention,eager-bf16-cl")
    parser.add_argument("--top", type=int, default=18)
    parser.add_argument("--copies", action="store_true", help="also list the ATen ops behind copy kernels, by input shape")
    parser.add_argument("--sample", action="store_true", help="profile the sampling forward (batch 1024, no gradients) instead of the training step")
    parser.add_argument("--full-step", action="store_true", help="the training step with gradient clipping and the EMA update, as the trainer and the benchmark run it")
    args = parser.parse_args()
    benchmark_backends(torch.device("cuda"))  # as bench/benchmark_unet.py times every column
    for name in args.variants.split(","):
        v = VARIANTS[name]
        with deterministic_kernels("cuda") if v.get("deterministic") else contextlib.nullcontext():
            profile_variant(name, v, args)


def profile_variant(name: str, v: dict, args: argparse.Namespace) -> None:
    torch.manual_seed(0)
    if args.sample:
        step = SampleForward(v["build"](), v["compile_mode"])
    else:
        step = train_step(v["build"](), v["compile_mode"], args.full_step)
    for _ in range(6):
        step()
    torch.cuda.synchronize()
    seconds = seconds_per_call(step, torch.device("cuda"), 20, 3)
    what = "sampling forward" if args.sample else "training step"
    print(f"\n=== {name}, {what} at batch {step.batch}: {step.batch / seconds:.0f} img/s ({seconds * 1e3:.1f} ms/step)", flush=True)
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU], record_shapes=args.copies, with_stack=False) as prof:
        for _ in range(5):
            step()
        torch.cuda.synchronize()
    events = [e for e in prof.key_averages() if e.device_type == torch.autograd.DeviceType.CUDA and not is_range(e)]
    total = sum(e.self_device_time_total for e in events) / 5
    launches = sum(e.count for e in events) / 5
    print(f"GPU busy {total / 1e3:.1f} ms/step over {launches:.0f} kernels/step", flush=True)
    kinds: dict[str, float] = {}
    for e in events:
        kinds[kernel_kind(e.key)] = kinds.get(kernel_kind(e.key), 0.0) + e.self_device_time_total / 5
    for kind, microseconds in sorted(kinds.items(), key=lambda kv: -kv[1]):
        print(f"{microseconds / 1e3:8.2f} ms {100 * microseconds / total:5.1f}%  {kind}")
    print("top kernels:")
    for e in sorted(events, key=lambda e: -e.self_device_time_total)[: args.top]:
        print(f"{e.self_device_time_total / 5 / 1e3:8.2f} ms {e.count // 5:5d}x  {e.key[:110]}")
    if args.copies:
        ops = [e for e in prof.key_averages(group_by_input_shape=True) if e.key in ("aten::copy_", "aten::clone", "aten::contiguous", "aten::cat", "aten::_to_copy")]
        for e in sorted(ops, key=lambda e: -e.device_time_total)[:15]:
            print(f"  {e.device_time_total / 5 / 1e3:7.2f} ms {e.count // 5:4d}x {e.key:12s} {str(e.input_shapes)[:150]}")


if __name__ == "__main__":
    main()
