"""A rough estimate of an experiment's work, before anything runs: training and sampling time.

The unit is a proxy for the multiply-adds of one network evaluation on one image (the 3x3
convolutions of the UNet's residual blocks, which dominate); a training image costs three
evaluations (forward and backward), a sampling step one per guidance pass. The rates below turn
it into time. They were measured, and are meant for minutes-or-days decisions, not for planning:

- ``CPU_RATE``: training the reference MNIST UNet (base 64, mult 1-2-2, 2 residual blocks, 28x28,
  7.8e8 proxy multiply-adds per evaluation) on one thread of a shared 2-core x86 cloud machine,
  fp32: 2.3 images/s. Small networks reach a third of this rate; more cores help less than linearly.
- ``GPU_RATE``: the default run (config/config.yaml) on one H200, bf16 and compiled, four
  trainings sharing the GPU: its 6.1 million training images (1.7e16 proxy multiply-adds) took
  11.2 min from the first training's start to the last one's end (the first reference run,
  results/reference/run1/).

The functions take the experiment entries of the workflow's config (plain dicts; a key left out
takes the default of the dataclass that owns its section).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from ddpm.config import ModelConfig, SamplerConfig, SamplingConfig, TrainingConfig

# Proxy multiply-adds per second (see the module docstring).
CPU_RATE = 5e9
GPU_RATE = 2.5e13
# Beyond this much estimated CPU time a run is a full reproduction, not a check.
CPU_LIMIT_MINUTES = 30.0
TRAINING_EVALUATIONS_PER_IMAGE = 3  # forward + backward


@dataclass(frozen=True)
class Workload:
    experiment: str
    training_images: int  # steps x batch size (0 when the model exists)
    sampling_evaluations: int  # images x network evaluations, guidance passes included
    evaluation_cost: float  # proxy multiply-adds of one network evaluation on one image

    @property
    def training_cost(self) -> float:
        return self.training_images * TRAINING_EVALUATIONS_PER_IMAGE * self.evaluation_cost

    @property
    def sampling_cost(self) -> float:
        return self.sampling_evaluations * self.evaluation_cost


def _settings(cls, section: Mapping[str, Any] | None):
    known = {f.name for f in fields(cls)}
    return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in (section or {}).items() if k in known})


def evaluation_cost(model: Mapping[str, Any] | None, image_size: Sequence[int], channels: int = 1) -> float:
    """Proxy multiply-adds of one network evaluation on one image of ``image_size`` (H, W)."""
    config = _settings(ModelConfig, model)
    pixels = image_size[0] * image_size[1]
    if config.architecture == "toy_unet":
        widths = [channels, *config.toy_channels]
        # Down and up path, one 3x3 convolution per width change, resolution halved per level.
        return 2 * sum(9 * pixels / 4**level * a * b for level, (a, b) in enumerate(zip(widths, widths[1:])))
    total = 0.0
    for level, mult in enumerate(config.channel_mult):
        width = config.base_channels * mult
        # Encoder: num_res_blocks blocks of two 3x3 convolutions; decoder: one more block, on
        # concatenated skip inputs (about 1.5x): 2.5 blocks' worth per encoder block, plus one.
        blocks = 2.5 * config.num_res_blocks + 1
        total += blocks * 2 * 9 * (pixels / 4**level) * width * width
    return total


def experiment_workload(
    name: str,
    experiment: Mapping[str, Any],
    image_size: Sequence[int],
    *,
    channels: int = 1,
    train: bool = True,
    sampling_runs: Sequence[Mapping[str, Any]] | None = None,
) -> Workload:
    """The work of one experiment: its training (if ``train``) and ``sampling_runs`` (default: all)."""
    training = _settings(TrainingConfig, experiment.get("training"))
    sampling_section = dict(experiment.get("sampling") or {})
    runs = sampling_section.pop("runs", []) if sampling_runs is None else sampling_runs
    sampling_section.pop("runs", None)
    sampling = _settings(SamplingConfig, sampling_section)
    conditional = (experiment.get("model") or {}).get("conditioning", ModelConfig.conditioning) != "none"
    passes = 2 if conditional and sampling.guidance_scale != 1.0 else 1
    evaluations = sum(sampling.num_images * _settings(SamplerConfig, run).steps * passes for run in runs)
    return Workload(
        experiment=name,
        training_images=training.steps * training.batch_size if train else 0,
        sampling_evaluations=evaluations,
        evaluation_cost=evaluation_cost(experiment.get("model"), image_size, channels),
    )


def minutes(workloads: Sequence[Workload], rate: float) -> tuple[float, float]:
    """Estimated (training, sampling) minutes of ``workloads`` at ``rate`` proxy multiply-adds per second."""
    training = sum(w.training_cost for w in workloads) / rate / 60
    sampling = sum(w.sampling_cost for w in workloads) / rate / 60
    return training, sampling


def describe(workloads: Sequence[Workload], rate: float, where: str) -> str:
    """One paragraph: what is asked and a rough time at ``rate``."""
    training, sampling = minutes(workloads, rate)
    trained = [w for w in workloads if w.training_images]
    steps = sum(w.training_images for w in trained)
    lines = [
        f"requested: {len(trained)} training(s) ({steps:,} training images in all) and "
        f"{sum(w.sampling_evaluations for w in workloads):,} image sampling steps, "
        f"for {', '.join(w.experiment for w in workloads) or 'nothing'}",
        f"rough time {where}: training {_human(training)}, sampling {_human(sampling)}",
    ]
    return "\n".join(lines)


def exceeds_cpu_limit(workloads: Sequence[Workload]) -> bool:
    return sum(minutes(workloads, CPU_RATE)) > CPU_LIMIT_MINUTES


def _human(minutes: float) -> str:
    if minutes < 1:
        return "under a minute"
    if minutes < 120:
        return f"about {minutes:.0f} minutes"
    if minutes < 48 * 60:
        return f"about {minutes / 60:.0f} hours"
    return f"about {minutes / 60 / 24:.0f} days"
