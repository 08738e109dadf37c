#!/usr/bin/env python3
"""MNIST at equal GPU time: the pipeline's model against denoising-diffusion-pytorch and diffusers.

Each contender trains for the same wall-clock time on the same GPU (batch 128, the MNIST training
split held on the GPU for all three), then draws N samples with DDIM (100 steps, eta 0), scored by
FID on the pipeline's classifier features against the MNIST test split's reference statistics.

* ours: the model, diffusion and training settings of `--experiment` (mnist_uncond) in
  `--config` (config/config.yaml), trained by the pipeline's trainer (bf16, channels-last,
  torch.compile with CUDA graphs; compilation counts against its time) for the same wall-clock
  time instead of the configured steps.
* denoising-diffusion-pytorch: its defaults — Unet(dim=64, dim_mults=(1, 2, 4)), GaussianDiffusion
  (objective pred_v, sigmoid schedule, T=1000, sampling_timesteps=100), its Trainer's optimiser
  (Adam 1e-4, betas 0.9/0.99, grad-norm clip 1) and EMA (0.995, every 10 steps), fp32.
* diffusers: UNet2DModel with block_out_channels 64/128/256 and attention at the middle level,
  DDPMScheduler (linear), AdamW 1e-4, EMAModel (0.9999 with warm-up, as its unconditional training
  example), fp32; DDIMScheduler for sampling.

Usage (after the pipeline has prepared MNIST and trained its classifier):
    python bench/anchor_comparison.py --data results/data/mnist \
        --classifier results/classifiers/mnist/classifier.pt --reference results/fid_refs/mnist/classifier.npz \
        [--minutes 4] [--samples 10000] [--only ours,ddpm_pytorch,diffusers] [--json out.json]

TQDM_DISABLE=1 keeps the third-party contenders' progress bars out of the log; tqdm reads it when
it is imported, so it is set before any import.
"""

from __future__ import annotations

import os

os.environ.setdefault("TQDM_DISABLE", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib.util import find_spec  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ddpm.config import DiffusionConfig, ModelConfig, SamplerConfig, SamplingConfig, TrainingConfig, from_dict  # noqa: E402
from ddpm.data import load_split  # noqa: E402
from ddpm.evaluation.evaluate import evaluate_sample_set  # noqa: E402
from ddpm.evaluation.fid import MetricConfig, load_reference  # noqa: E402
from ddpm.labels import data_spec  # noqa: E402
from ddpm.generation import sample_set  # noqa: E402
from ddpm.training import TrainingData, TrainingFiles, load_model_checkpoint, train  # noqa: E402
from workflow_config import DEFAULT_CONFIG, load_experiment  # noqa: E402

BATCH = 128
CONTENDERS = ("ours", "ddpm_pytorch", "diffusers")
# The package each peer contender imports, and its name on PyPI.
PEER_PACKAGES = {"ddpm_pytorch": ("denoising_diffusion_pytorch", "denoising-diffusion-pytorch"), "diffusers": ("diffusers", "diffusers")}


def parameter_count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed_training(step, seconds: float, device: torch.device, check_every: int = 25) -> int:
    """Run ``step()`` until ``seconds`` of wall-clock time (GPU synchronised) have passed; return the steps."""
    synchronize(device)
    start, steps = time.perf_counter(), 0
    while True:
        step()
        steps += 1
        if steps % check_every == 0:
            synchronize(device)
            if time.perf_counter() - start >= seconds:
                return steps


def to_uint8(images01: torch.Tensor) -> np.ndarray:
    """[0, 1] (N, C, H, W) -> uint8 (N, H, W, C)."""
    return (images01.clamp(0, 1) * 255).round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()


def ours_settings(experiment: dict, seconds: float) -> tuple[ModelConfig, DiffusionConfig, TrainingConfig]:
    """The experiment's settings, its training ended by wall-clock time; checked before anything trains."""
    model = from_dict(ModelConfig, experiment.get("model"), "model")
    if model.conditioning != "none":
        raise SystemExit(f"the comparison is unconditional; the experiment's model is {model.conditioning}-conditional")
    diffusion = from_dict(DiffusionConfig, experiment.get("diffusion"), "diffusion")
    # Time, not steps, ends this training; no checkpoints or validation in between.
    timed = dict(steps=10**8, time_budget_s=seconds, log_every=100, val_every=10**9, checkpoint_every=10**9)
    training = from_dict(TrainingConfig, {**(experiment.get("training") or {}), **timed}, "training")
    if training.batch_size != BATCH:
        raise SystemExit(f"the comparison is at batch {BATCH}; the experiment trains at {training.batch_size}")
    return model, diffusion, training


def run_ours(settings, train_split, val_split, n, device):
    """The pipeline's trainer on the experiment's settings, stopped by wall-clock time."""
    model, diffusion, training = settings
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        summary = train(
            model, data_spec(train_split.meta), diffusion, training,
            TrainingData(train_split.images, None, val_split.images[:512], None),
            TrainingFiles(out / "model.pt", out / "state.pt", out / "log.csv", out / "prov.json"), progress=False,
        )
        loaded = load_model_checkpoint(out / "model.pt", device)
    start = time.perf_counter()
    samples = sample_set(loaded, SamplerConfig("ddim", 100), SamplingConfig(num_images=n, batch_size=1000), device, None, progress=False)
    return summary.steps, time.perf_counter() - start, samples.images, parameter_count(loaded.model)


def run_ddpm_pytorch(train01, seconds, n, device):
    from denoising_diffusion_pytorch import GaussianDiffusion, Unet
    from ema_pytorch import EMA

    torch.manual_seed(0)
    unet = Unet(dim=64, dim_mults=(1, 2, 4), channels=1)
    diffusion = GaussianDiffusion(unet, image_size=28, timesteps=1000, sampling_timesteps=100).to(device)
    optimizer = torch.optim.Adam(diffusion.parameters(), lr=1e-4, betas=(0.9, 0.99))
    ema = EMA(diffusion, beta=0.995, update_every=10).to(device)

    def step():
        x = train01[torch.randint(0, len(train01), (BATCH,), device=device)]
        loss = diffusion(x)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(diffusion.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        ema.update()

    steps = timed_training(step, seconds, device)
    start = time.perf_counter()
    ema.ema_model.eval()
    with torch.no_grad():
        images = np.concatenate([to_uint8(ema.ema_model.sample(batch_size=min(1000, n - i))) for i in range(0, n, 1000)])
    return steps, time.perf_counter() - start, images, parameter_count(unet)


def run_diffusers(train11, seconds, n, device):
    from diffusers import DDIMScheduler, DDPMScheduler, UNet2DModel
    from diffusers.training_utils import EMAModel

    torch.manual_seed(0)
    unet = UNet2DModel(
        sample_size=28, in_channels=1, out_channels=1, block_out_channels=(64, 128, 256), layers_per_block=2,
        down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    ).to(device)
    scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule="linear")
    optimizer = torch.optim.AdamW(unet.parameters(), lr=1e-4)
    ema = EMAModel(unet.parameters(), decay=0.9999, use_ema_warmup=True, inv_gamma=1.0, power=0.75)
    ema.to(device)

    def step():
        x = train11[torch.randint(0, len(train11), (BATCH,), device=device)]
        noise = torch.randn_like(x)
        t = torch.randint(0, 1000, (BATCH,), device=device)
        loss = F.mse_loss(unet(scheduler.add_noise(x, noise, t), t).sample, noise)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(unet.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        ema.step(unet.parameters())

    steps = timed_training(step, seconds, device)
    ema.copy_to(unet.parameters())
    unet.eval()
    ddim = DDIMScheduler.from_config(scheduler.config)
    ddim.set_timesteps(100)
    generator = torch.Generator(device).manual_seed(0)
    start, chunks = time.perf_counter(), []
    with torch.no_grad():
        for i in range(0, n, 1000):
            x = torch.randn(min(1000, n - i), 1, 28, 28, device=device, generator=generator)
            for t in ddim.timesteps:
                x = ddim.step(unet(x, t).sample, t, x).prev_sample
            chunks.append(to_uint8((x + 1) / 2))
    return steps, time.perf_counter() - start, np.concatenate(chunks), parameter_count(unet)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, type=Path, help="prepared MNIST folder (train.npz, val.npz)")
    parser.add_argument("--classifier", required=True, type=Path)
    parser.add_argument("--reference", required=True, type=Path, help="classifier-feature reference statistics of the test split")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="where ours' settings come from")
    parser.add_argument("--experiment", default="mnist_uncond")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--only", default=",".join(CONTENDERS))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--device", default="cuda", help="cuda; cpu only to check the script on tiny settings")
    args = parser.parse_args()

    names = args.only.split(",")
    unknown = [name for name in names if name not in CONTENDERS]
    if unknown:
        raise SystemExit(f"--only: unknown contender(s) {', '.join(unknown)} (choose from {', '.join(CONTENDERS)})")
    # Before anything trains: a missing peer would otherwise end the run after ours' minutes of training.
    missing = [PEER_PACKAGES[name][1] for name in names if name in PEER_PACKAGES and find_spec(PEER_PACKAGES[name][0]) is None]
    if missing:
        raise SystemExit(
            f"not installed: {', '.join(missing)} (the contenders --only names need them): pip install {' '.join(missing)}, "
            f"or leave those contenders out with --only"
        )
    device = torch.device(args.device)
    seconds = args.minutes * 60
    settings = ours_settings(load_experiment(args.config, args.experiment).section, seconds)
    train_split, val_split = load_split(args.data / "train.npz"), load_split(args.data / "val.npz")
    images = torch.from_numpy(train_split.images).to(device).permute(0, 3, 1, 2).float() / 255.0
    references = [load_reference(args.reference)]
    contenders = {
        "ours": lambda: run_ours(settings, train_split, val_split, args.samples, device),
        "ddpm_pytorch": lambda: run_ddpm_pytorch(images, seconds, args.samples, device),
        "diffusers": lambda: run_diffusers(images * 2 - 1, seconds, args.samples, device),
    }
    results = {}
    for name in names:
        steps, sample_seconds, samples, parameters = contenders[name]()
        metrics = evaluate_sample_set(
            samples, None, references, classifier_path=args.classifier, inception_weights=None,
            config=MetricConfig(kid=False), device=device,
        )
        results[name] = {
            "parameters": parameters, "train_steps": steps, "train_images_per_s": steps * BATCH / seconds,
            "sample_seconds": sample_seconds, "fid_classifier": metrics["fid"]["classifier"],
        }
        print(f"{name}: {parameters:,} parameters, {steps} steps in {args.minutes:g} min, sampling {sample_seconds:.0f} s, "
              f"FID (classifier) {metrics['fid']['classifier']:.2f}", flush=True)
    print(f"\n| model | parameters | train steps ({args.minutes:g} min, batch {BATCH}) | sampling {args.samples} (s) "
          f"| FID, classifier features, {args.samples} DDIM-100 samples |\n|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['parameters']:,} | {r['train_steps']} | {r['sample_seconds']:.0f} | {r['fid_classifier']:.2f} |")
    if args.json:
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu"
        record = {
            "device": name, "torch": torch.__version__, "minutes": args.minutes, "batch_size": BATCH,
            "samples": args.samples, "sampler": "ddim, 100 steps, eta 0", "experiment": args.experiment, "results": results,
        }
        tmp = args.json.with_suffix(".tmp")
        tmp.write_text(json.dumps(record, indent=2))
        tmp.replace(args.json)


if __name__ == "__main__":
    main()
