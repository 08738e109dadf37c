#!/usr/bin/env python3
"""The project's DDPM U-Net against diffusers' UNet2DModel at its best, in one run.

Both networks are the U-Net of the ``cifar10_ddpm`` experiment of config/config.yaml (``--unet-experiment``),
the CIFAR-10 U-Net of Ho et al. (35.7M parameters; diffusers: block_out_channels 128,256,256,256,
layers_per_block 2, attention at 16x16, one head); ours with that experiment's settings of
``model.group_norm`` and ``model.upsample`` unless the options below say otherwise. Every configuration runs the same
training step (bench/train_step.py): bf16 autocast, the eps-MSE loss of ``GaussianDiffusion.training_losses``, backward,
gradient clipping at 1, fused AdamW, an EMA update; cudnn.benchmark and TF32 are on for everyone.
Columns:

* diffusers eager: the module as is (NCHW);
* diffusers compiled: ``torch.compile`` (default mode), channels-last weights and inputs;
* diffusers compiled + CUDA graphs: channels-last, ``torch.compile(mode="reduce-overhead")``, the
  mechanism the project's trainer uses (``--graph-mode max-autotune`` adds kernel autotuning on top,
  at minutes of extra compile time);
* ours: the fast path exactly as the trainer and the sampler set it up (``ddpm.runtime.place`` and
  ``maybe_compile``: channels-last, compiled, CUDA graphs for training).

Rows: training images/s at batch 128 and 256 (32x32), sampling-forward images/s at batch 1024 (no
gradients). The headline ratio is ours against the best diffusers column of each row. Also printed:
model-FLOPs utilisation against a bf16 matmul peak measured in the same run (FLOPs counted by
``torch.utils.flop_counter``, training = 3x forward); a 200-step loss curve of our fast path against an
eager fp32 (TF32 off) reference from the same weights and draws, as 20-step window means; and the GPU
time to draw 10,000 MNIST samples with the model of the ``mnist_uncond`` experiment (config/config.yaml)
with DPM-Solver++ 20 steps against DDIM 100, after compilation, through ``ddpm.samplers.generate``.

Usage: python bench/benchmark_unet.py [--json out.json] [--skip-diffusers] [--batches 128 256]
       [--group-norm standard] [--upsample direct]   # our column with another model.group_norm, model.upsample
       python bench/benchmark_unet.py --quick --device cpu   # a tiny end-to-end check of the harness
Where one command may run only minutes, measure in parts (same machine, one process each) and merge:
       python bench/benchmark_unet.py --parts train --columns eager compiled graphs --batches 128 --json a.json
       python bench/benchmark_unet.py --parts train sample --columns ours --batches 128 --json b.json
       python bench/benchmark_unet.py --parts sample --columns eager compiled graphs --json c.json
       python bench/benchmark_unet.py --parts loss mnist --columns ours --json d.json
       python bench/benchmark_unet.py --merge a.json b.json c.json d.json --json unet.json
The numbers are only meaningful on a GPU. Full mode spends most of its time compiling (a graph per
configuration and batch size); ``--batches 128`` leaves out the second training row. On the CPU the compiled columns trace through ``torch.compile(backend="eager")`` and
our fast path is what the trainer uses there (eager, fp32): it checks the harness, not the speed.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import statistics
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, SamplerConfig, SamplingConfig
from ddpm.factory import build_diffusion, build_model
from ddpm.io import write_json
from ddpm.models.layers import GROUP_NORMS, UPSAMPLES
from ddpm.runtime import autocast, mark_step, maybe_compile, memory_format, place, resolve_device, seconds_per_call, synchronize, tf32, uses_bf16
from ddpm.samplers import generate, use_sampling_graphs
from train_step import Prepared, TrainStep, benchmark_backends
from workflow_config import DEFAULT_CONFIG, UNET_EXPERIMENT, UNET_IMAGE_SHAPE, load_experiment

MNIST_SHAPE = (1, 28, 28)  # MNIST's native size; the mnist dataset of config/config.yaml keeps it
FAST_SAMPLER = SamplerConfig("dpmpp_2m", 20, spacing="trailing")
BASELINE_SAMPLER = SamplerConfig("ddim", 100)
DIFFUSERS_COLUMNS = ("diffusers eager", "diffusers compiled", "diffusers compiled + CUDA graphs")
OURS = "ours"
# Short names for --columns, in the table's order.
COLUMN_NAMES = dict(zip(("eager", "compiled", "graphs", "ours"), (*DIFFUSERS_COLUMNS, OURS)))
COLUMN_HELP = ", ".join(f"{short} = {name}" for short, name in COLUMN_NAMES.items())
# What a run measures; a machine whose commands may run only minutes runs the parts in separate
# processes (each compiles its own graphs) and prints one table with --merge.
PARTS = ("train", "sample", "loss", "mnist")
# The model settings our column can take (fields of UNetSpec and ModelConfig); reports record each as ours_<name>.
OURS_SETTINGS = ("group_norm", "upsample")
PART_HELP = (
    "train = training images/s per batch size, sample = sampling-forward images/s, "
    "loss = the fast path's loss curve against fp32, mnist = the time to draw the MNIST samples"
)


@dataclass(frozen=True)
class UNetSpec:
    """One U-Net shape, built both ways: ours through the project's factory, and diffusers'."""

    base_channels: int
    channel_mult: tuple[int, ...]
    num_res_blocks: int
    attention_resolutions: tuple[int, ...]  # feature-map heights with self-attention
    size: int = UNET_IMAGE_SHAPE[1]
    channels: int = UNET_IMAGE_SHAPE[0]
    dropout: float = ModelConfig.dropout
    group_norm: str = ModelConfig.group_norm  # ours only: model.group_norm (ddpm.models.layers.GROUP_NORM_CLASSES)
    upsample: str = ModelConfig.upsample  # ours only: model.upsample (ddpm.models.layers.UPSAMPLE_CLASSES)

    @classmethod
    def from_experiment(cls, config_path: Path, experiment: str, size: int = UNET_IMAGE_SHAPE[1], channels: int = UNET_IMAGE_SHAPE[0]) -> UNetSpec:
        """The U-Net of an experiment of the workflow's config (its ``model`` section), on images of
        ``channels`` x ``size`` x ``size``; diffusers' UNet2DModel has a peer only for an
        unconditional U-Net with one attention head."""
        source = load_experiment(config_path, experiment)
        model = source.read("model", ModelConfig)
        if (model.architecture, model.conditioning, model.num_heads) != ("unet", "none", 1):
            raise SystemExit(
                f"error: {source.where('model')} is a {model.architecture} with conditioning {model.conditioning!r} and {model.num_heads} "
                "attention head(s); the diffusers peer is built only for an unconditional unet with one head: choose another experiment"
            )
        fields = ("base_channels", "channel_mult", "num_res_blocks", "attention_resolutions", "dropout", *OURS_SETTINGS)
        return cls(size=size, channels=channels, **{name: getattr(model, name) for name in fields})

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.channels, self.size, self.size

    def ours(self) -> torch.nn.Module:
        config = ModelConfig(
            base_channels=self.base_channels,
            channel_mult=self.channel_mult,
            num_res_blocks=self.num_res_blocks,
            attention_resolutions=self.attention_resolutions,
            dropout=self.dropout,
            group_norm=self.group_norm,
            upsample=self.upsample,
        )
        return build_model(config, DataSpec(self.channels, (self.size, self.size)))

    def diffusers(self) -> torch.nn.Module:
        from diffusers import UNet2DModel

        heights = [self.size // 2**i for i in range(len(self.channel_mult))]
        net = UNet2DModel(
            sample_size=self.size,
            in_channels=self.channels,
            out_channels=self.channels,
            block_out_channels=tuple(self.base_channels * m for m in self.channel_mult),
            layers_per_block=self.num_res_blocks,
            down_block_types=tuple("AttnDownBlock2D" if h in self.attention_resolutions else "DownBlock2D" for h in heights),
            up_block_types=tuple("AttnUpBlock2D" if h in self.attention_resolutions else "UpBlock2D" for h in reversed(heights)),
            attention_head_dim=None,
            norm_eps=1e-6,
            dropout=self.dropout,
        )
        return DiffusersAdapter(net)


class DiffusersAdapter(torch.nn.Module):
    """``model(x, t)`` returning a tensor, the interface of the project's networks."""

    def __init__(self, net: torch.nn.Module):
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.net(x, t).sample


TINY_UNET = UNetSpec(32, (1, 2), 1, (16,))


@dataclass(frozen=True)
class Settings:
    device: torch.device
    spec: UNetSpec
    train_batches: tuple[int, ...]
    sample_batch: int
    iters: int
    repeats: int
    loss_steps: int
    loss_window: int
    mnist_images: int
    small_batch: int  # the sampling-loop CUDA-graph comparison: batch size and number of images
    small_batch_images: int
    graph_mode: str


# -- timing ------------------------------------------------------------------------------------


def matmul_peak(device: torch.device, quick: bool) -> float:
    """FLOP/s of a large matmul in the training precision (bf16 on CUDA): the reference for MFU."""
    n = 8192 if device.type == "cuda" and not quick else 512
    dtype = torch.bfloat16 if uses_bf16(device, "auto") else torch.float32
    a, b = (torch.randn(n, n, device=device, dtype=dtype) for _ in range(2))
    for _ in range(3):
        a @ b
    return 2 * n**3 / seconds_per_call(lambda: a @ b, device, 20 if device.type == "cuda" else 3, 3)


def forward_flops(model: torch.nn.Module, spec: UNetSpec) -> float:
    x = torch.randn(1, *spec.image_shape)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        copy.deepcopy(model).cpu().eval()(x, torch.tensor([500]))
    return float(counter.get_total_flops())


# -- the configurations --------------------------------------------------------------------------


def compile_options(device: torch.device, mode: str | None) -> dict:
    # On the CPU only the tracing is exercised: inductor's C++ build would take minutes per graph.
    return {"mode": mode, "dynamic": False} if device.type == "cuda" else {"backend": "eager", "dynamic": False}


def prepare(column: str, net: torch.nn.Module, settings: Settings, training: bool) -> Prepared:
    device = settings.device
    # Each configuration compiles afresh; a shared cache would make a second batch size dynamic.
    torch._dynamo.reset()
    if column == OURS:
        raw = place(net, device).train(training)
        graphs = training and device.type == "cuda"  # the trainer's choice (ddpm.training.loop)
        return Prepared(raw, maybe_compile(raw, device, "auto", cuda_graphs=graphs), memory_format(device), graphs)
    raw = net.to(device).train(training)
    if column == "diffusers eager":
        return Prepared(raw, raw, torch.contiguous_format, False)
    raw = raw.to(memory_format=torch.channels_last)
    graphs = column == "diffusers compiled + CUDA graphs" and device.type == "cuda"
    mode = settings.graph_mode if graphs else None
    return Prepared(raw, torch.compile(raw, **compile_options(device, mode)), torch.channels_last, graphs)


def train_images_per_s(step: TrainStep, settings: Settings) -> float:
    for _ in range(3):
        step()
    return step.batch / seconds_per_call(step, settings.device, settings.iters, settings.repeats)


def sample_images_per_s(prepared: Prepared, settings: Settings) -> float:
    spec, device, batch = settings.spec, settings.device, settings.sample_batch
    x = torch.randn(batch, *spec.image_shape, device=device).contiguous(memory_format=prepared.layout)
    t = torch.randint(0, 1000, (batch,), device=device)

    def forward():
        if prepared.cuda_graphs:
            mark_step()
        with torch.no_grad(), autocast(device, "auto"):
            return prepared.forward(x, t)

    for _ in range(3):
        forward()
    return batch / seconds_per_call(forward, device, settings.iters, settings.repeats)


def window_means(values: list[float], width: int) -> list[float]:
    return [statistics.fmean(values[i : i + width]) for i in range(0, len(values), width)]


# -- MNIST sampling ------------------------------------------------------------------------------


def mnist_sampling_seconds(config_path: Path, experiment: str, settings: Settings) -> dict[str, float | int]:
    """GPU seconds to draw MNIST samples, after a compiling warm-up batch of each setting.

    ``settings.mnist_images`` at the experiment's sampling batch size with DPM-Solver++ 20 and DDIM 100;
    then a small-batch run of DPM-Solver++ 20 without and with CUDA graphs for the sampling loop.
    """
    device = settings.device
    source = load_experiment(config_path, experiment)
    model_config = source.read("model", ModelConfig)
    diffusion = build_diffusion(source.read("diffusion", DiffusionConfig))
    torch.manual_seed(0)
    torch._dynamo.reset()
    model = maybe_compile(place(build_model(model_config, DataSpec(MNIST_SHAPE[0], MNIST_SHAPE[1:])), device).eval(), device, "auto")

    def seconds(sampler: SamplerConfig, images: int, batch: int, graphs: bool) -> float:
        def draw(seeds: range) -> None:
            with autocast(device, "auto"):
                generate(model, diffusion, sampler, list(seeds), MNIST_SHAPE, device=device, cuda_graphs=graphs)

        draw(range(batch))
        synchronize(device)
        start = time.perf_counter()
        for first in range(0, images, batch):
            draw(range(first, min(first + batch, images)))
        synchronize(device)
        return time.perf_counter() - start

    batch = min(source.read("sampling", SamplingConfig).batch_size, settings.mnist_images)
    graphs = use_sampling_graphs("auto", device, batch)
    result: dict[str, float | int] = {"images": settings.mnist_images, "batch_size": batch}
    for sampler in (FAST_SAMPLER, BASELINE_SAMPLER):
        result[sampler.label] = seconds(sampler, settings.mnist_images, batch, graphs)
    small = settings.small_batch
    result["small_batch"] = small
    result["small_batch_images"] = settings.small_batch_images
    result["small_batch_no_graphs"] = seconds(FAST_SAMPLER, settings.small_batch_images, small, False)
    result["small_batch_graphs"] = seconds(FAST_SAMPLER, settings.small_batch_images, small, True)
    return result


# -- the run -------------------------------------------------------------------------------------


def fast_path_with_curve(net: torch.nn.Module, settings: Settings) -> tuple[TrainStep, dict, list[float]]:
    """Our fast path's training step at the first batch size, the weights it starts from, and its
    first ``loss_steps`` losses from them (the loss curve compared with the fp32 reference)."""
    initial = copy.deepcopy(net.state_dict())
    step = TrainStep(prepare(OURS, net, settings, training=True), settings.device, settings.spec.image_shape, settings.train_batches[0])
    return step, initial, [float(step()) for _ in range(settings.loss_steps)]


def run(settings: Settings, columns: list[str], parts: list[str], config_path: Path, experiment: str, quick: bool) -> dict:
    device, spec = settings.device, settings.spec
    benchmark_backends(device)
    builders = {c: spec.ours if c == OURS else spec.diffusers for c in columns}
    with_diffusers = any(c != OURS for c in columns)

    report: dict = {
        "device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu",
        "torch": torch.__version__,
        **{f"ours_{key}": getattr(spec, key) for key in OURS_SETTINGS},
        "peak_flops": matmul_peak(device, quick),
    }
    print(f"{report['device']}; torch {torch.__version__}; measured matmul peak {report['peak_flops'] / 1e12:.1f} TFLOP/s", flush=True)
    # Model FLOPs are the architecture's: ours counted with the direct upsampling, whatever computes it.
    architecture = dataclasses.replace(spec, upsample=ModelConfig.upsample)
    for name, build in [("ours", architecture.ours), *([("diffusers", spec.diffusers)] if with_diffusers else [])]:
        torch.manual_seed(0)
        net = build()
        report[f"{name}_parameters"] = sum(p.numel() for p in net.parameters())
        report[f"{name}_gflop_per_image"] = forward_flops(net, spec) / 1e9
        print(f"{name}: {report[f'{name}_parameters'] / 1e6:.2f}M parameters, {report[f'{name}_gflop_per_image']:.2f} GFLOP/image forward", flush=True)

    rows: dict[str, dict[str, float]] = {}
    started = time.perf_counter()

    def record(row: str, column: str, value: float) -> None:
        rows.setdefault(row, {})[column] = value
        print(f"  {row:22s} {column:34s} {value:10.1f} img/s  ({time.perf_counter() - started:.0f} s)", flush=True)

    initial, fast_curve = None, None
    for batch in settings.train_batches if "train" in parts else ():
        for column in columns:
            torch.manual_seed(0)
            net = builders[column]()
            if device.type == "cuda":
                torch.cuda.reset_peak_memory_stats(device)
            if column == OURS and batch == settings.train_batches[0]:
                step, initial, fast_curve = fast_path_with_curve(net, settings)
            else:
                step = TrainStep(prepare(column, net, settings, training=True), device, spec.image_shape, batch)
            record(f"train, batch {batch}", column, train_images_per_s(step, settings))
            if column == OURS and device.type == "cuda":
                report.setdefault("ours_peak_memory_gib", {})[str(batch)] = torch.cuda.max_memory_allocated(device) / 2**30
            del step, net
    for column in columns if "sample" in parts else ():
        torch.manual_seed(0)
        record(f"sampling forward, batch {settings.sample_batch}", column, sample_images_per_s(prepare(column, builders[column](), settings, training=False), settings))

    if "loss" in parts:
        if fast_curve is None:  # the training row of our fast path did not run: the same first steps, here
            torch.manual_seed(0)
            _, initial, fast_curve = fast_path_with_curve(spec.ours(), settings)
        # The fp32 reference: eager, TF32 off, from the same weights with the same draws.
        reference_net = spec.ours()
        reference_net.load_state_dict(initial)
        torch._dynamo.reset()
        reference = Prepared(reference_net.to(device).train(), reference_net, torch.contiguous_format, False)
        with tf32(False):
            reference_step = TrainStep(reference, device, spec.image_shape, settings.train_batches[0], precision="fp32")
            reference_curve = [float(reference_step()) for _ in range(settings.loss_steps)]
        ref_w, fast_w = window_means(reference_curve, settings.loss_window), window_means(fast_curve, settings.loss_window)
        report["loss_curve"] = {
            "steps": settings.loss_steps,
            "window": settings.loss_window,
            "fp32_window_means": ref_w,
            "fast_window_means": fast_w,
            "max_relative_difference": max(abs(a - b) / abs(a) for a, b in zip(ref_w, fast_w)),
        }
    if "mnist" in parts:
        report["mnist_sampling_s"] = mnist_sampling_seconds(config_path, experiment, settings)
    report["rows"] = rows
    report["elapsed_s"] = time.perf_counter() - started
    return report


def merge_reports(reports: list[dict]) -> dict:
    """One report from the parts of a benchmark run in several processes on one machine (rows joined
    cell by cell, a later part's cell winning; the loss curve and MNIST timings from whichever has
    them; elapsed time summed)."""
    devices = {(r["device"], r["torch"], *ours_settings(r).values()) for r in reports}
    if len(devices) != 1:
        raise SystemExit(f"error: the parts ran on different devices, torch versions or settings of ours ({', '.join(OURS_SETTINGS)}): {sorted(devices)}")
    merged: dict = {"rows": {}}
    for report in reports:
        for key, value in report.items():
            if key == "rows":
                for row, cells in value.items():
                    merged["rows"].setdefault(row, {}).update(cells)
            elif key == "peak_flops":  # the highest measured: MFU is never flattered by a slow measurement
                merged[key] = max(merged.get(key, 0.0), value)
            elif key == "elapsed_s":
                merged[key] = merged.get(key, 0.0) + value
            else:
                merged[key] = value
    return merged


def ours_settings(report: dict) -> dict[str, str]:
    """The model settings our column ran with (a report written before a setting existed ran its default)."""
    return {key: report.get(f"ours_{key}", getattr(ModelConfig, key)) for key in OURS_SETTINGS}


def print_table(report: dict) -> None:
    changed = {key: value for key, value in ours_settings(report).items() if value != getattr(ModelConfig, key)}
    variant = f" (ours with {', '.join(f'model.{key}: {value}' for key, value in changed.items())})" if changed else ""
    if not report["rows"]:  # a run of the loss or MNIST parts alone: no throughput rows
        print(f"\n{report['device']}, torch {report['torch']}{variant}")
    else:
        print_throughput(report, variant)
    if "loss_curve" in report:
        print_loss_curve(report["loss_curve"])
    if "mnist_sampling_s" in report:
        print_mnist_sampling(report["mnist_sampling_s"])


def print_throughput(report: dict, variant: str) -> None:
    columns = [c for c in (*DIFFUSERS_COLUMNS, OURS) if any(c in cells for cells in report["rows"].values())]
    peak = report["peak_flops"]
    print(f"\n{report['device']}, torch {report['torch']}{variant}: images/s; ratio = ours / the best diffusers column")
    print("| " + " | ".join(["images/s", *columns, "ours / best diffusers", "ours MFU"]) + " |")
    print("|---|" + "---:|" * (len(columns) + 2))
    for row, values in report["rows"].items():
        theirs = [values[c] for c in columns if c != OURS and c in values]
        ours = values.get(OURS)
        ratio = f"{ours / max(theirs):.2f}x" if theirs and ours else "-"
        flops_per_image = report["ours_gflop_per_image"] * 1e9 * (3 if row.startswith("train") else 1)
        cells = [f"{values[c]:,.0f}" if c in values else "-" for c in columns]
        mfu = f"{ours * flops_per_image / peak:.1%}" if ours else "-"
        print(f"| {row} | " + " | ".join(cells) + f" | {ratio} | {mfu} |")
    print(
        f"\nMFU against the measured matmul peak (bf16 on CUDA) of {peak / 1e12:.1f} TFLOP/s (training counted as 3x the forward's "
        f"{report['ours_gflop_per_image']:.2f} GFLOP/image)."
    )


def print_loss_curve(curve: dict) -> None:
    print(
        f"Loss curve, fast path vs eager fp32 over {curve['steps']} steps: worst {curve['window']}-step window differs by "
        f"{curve['max_relative_difference']:.2%} (bar: 2%)"
    )
    print("  fp32:", " ".join(f"{v:.4f}" for v in curve["fp32_window_means"]))
    print("  fast:", " ".join(f"{v:.4f}" for v in curve["fast_window_means"]))


def print_mnist_sampling(mnist: dict) -> None:
    print(
        f"{mnist['images']:,} MNIST samples (batches of {mnist['batch_size']}, after compilation): "
        f"{FAST_SAMPLER.label} ({FAST_SAMPLER.spacing} spacing) {mnist[FAST_SAMPLER.label]:.2f} s, "
        f"{BASELINE_SAMPLER.label} {mnist[BASELINE_SAMPLER.label]:.2f} s"
    )
    print(
        f"{mnist['small_batch_images']} MNIST samples in batches of {mnist['small_batch']} with {FAST_SAMPLER.label}: "
        f"{mnist['small_batch_no_graphs']:.2f} s without CUDA graphs for the sampling loop, {mnist['small_batch_graphs']:.2f} s with"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda", help="cuda (the measurement) or cpu (a check of the harness with --quick)")
    parser.add_argument("--quick", action="store_true", help="a tiny U-Net, small batches, few iterations")
    parser.add_argument("--skip-diffusers", action="store_true", help="only our column (same as --columns ours)")
    parser.add_argument("--columns", nargs="+", choices=list(COLUMN_NAMES), help=f"which columns (default: all; {COLUMN_HELP})")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure (default: all): " + PART_HELP)
    parser.add_argument("--merge", type=Path, nargs="+", metavar="JSON", help="print (and with --json write) one table from the JSON of runs of parts; measures nothing")
    parser.add_argument("--batches", type=int, nargs="+", help="training batch sizes (default 128 256; quick: 8 16)")
    parser.add_argument("--graph-mode", default="reduce-overhead", choices=["reduce-overhead", "max-autotune"], help="diffusers' CUDA-graph column")
    parser.add_argument("--group-norm", choices=GROUP_NORMS, help="our U-Net's model.group_norm (default: the --unet-experiment's)")
    parser.add_argument("--upsample", choices=UPSAMPLES, help="our U-Net's model.upsample (default: the --unet-experiment's)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the workflow config the models' settings come from")
    parser.add_argument("--unet-experiment", default=UNET_EXPERIMENT, help="the experiment whose model is the compared U-Net (on images of %d x %d x %d)" % UNET_IMAGE_SHAPE)
    parser.add_argument("--experiment", default="mnist_uncond", help="the experiment whose model draws the MNIST samples")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.merge:
        report = merge_reports([json.loads(path.read_text()) for path in args.merge])
        print_table(report)
        if args.json:
            write_json(args.json, report)
        return

    device = resolve_device(args.device)
    if args.quick:
        sizes = dict(spec=TINY_UNET, train_batches=(8, 16), sample_batch=32, iters=2, repeats=2, loss_steps=10, loss_window=5)
        sizes.update(mnist_images=4, small_batch=2, small_batch_images=4)
    else:
        spec = UNetSpec.from_experiment(args.config, args.unet_experiment)
        sizes = dict(spec=spec, train_batches=(128, 256), sample_batch=1024, iters=20, repeats=3, loss_steps=200, loss_window=20)
        sizes.update(mnist_images=10_000, small_batch=16, small_batch_images=256)
    if args.batches:
        sizes["train_batches"] = tuple(args.batches)
    chosen = {key: getattr(args, key) for key in OURS_SETTINGS if getattr(args, key) is not None}
    sizes["spec"] = dataclasses.replace(sizes["spec"], **chosen)
    settings = Settings(device=device, graph_mode=args.graph_mode, **sizes)
    columns = [COLUMN_NAMES[c] for c in args.columns] if args.columns else [*DIFFUSERS_COLUMNS, OURS]
    if args.skip_diffusers:
        columns = [OURS]
    # Before anything is measured: without it the peer's first column would end in a traceback.
    if any(c != OURS for c in columns) and find_spec("diffusers") is None:
        parser.error(
            "the diffusers columns need the diffusers package, which is not installed here: "
            "pip install diffusers (pyproject.toml's test extra has it), or measure our column alone with --columns ours"
        )
    report = run(settings, columns, args.parts, args.config, args.experiment, args.quick)
    print_table(report)
    if args.json:
        write_json(args.json, report)


if __name__ == "__main__":
    main()
