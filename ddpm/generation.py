"""Sampling a trained model: which conditions to draw, in seeded batches, to uint8 images."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from tqdm import tqdm

from ddpm.config import SamplerConfig, SamplingConfig
from ddpm.errors import ConfigError
from ddpm.images import from_model_range
from ddpm.labels import conditions
from ddpm.runtime import autocast, deterministic_kernels, maybe_compile, place
from ddpm.samplers import Trajectory, check_sampler, generate, use_sampling_graphs
from ddpm.training.checkpoint import LoadedModel


@dataclass
class SampleSet:
    images: np.ndarray  # uint8 (N, H, W, C)
    seeds: np.ndarray  # int64 (N,)
    labels: np.ndarray | None  # requested class ids (int64) or texts (unicode), None if unconditional
    timing: "SamplingTiming | None" = None


@dataclass
class SamplingTiming:
    """How fast a sample set was drawn, with compilation kept apart from the sampler's own speed.

    The first batch pays for compilation (and cuDNN's algorithm search); the speed is measured on the
    later batches of the same size, the device synchronised after each. With one batch there is no
    clean measurement and the speed is None.
    """

    batch_sizes: list[int]
    batch_seconds: list[float]
    network_evaluations: int  # network calls x batch rows (a guided call on 2B rows counts 2B)

    @property
    def total_seconds(self) -> float:
        return float(sum(self.batch_seconds))

    @property
    def images_per_second(self) -> float | None:
        steady = [(n, s) for n, s in zip(self.batch_sizes[1:], self.batch_seconds[1:]) if n == self.batch_sizes[0]]
        if not steady:
            return None
        return sum(n for n, _ in steady) / sum(s for _, s in steady)

    @property
    def evaluations_per_image(self) -> float:
        return self.network_evaluations / max(1, sum(self.batch_sizes))

    @property
    def compile_seconds(self) -> float | None:
        """The first batch's time beyond what the steady speed gives it: compilation (and the
        other first-call costs, such as cuDNN's algorithm search)."""
        rate = self.images_per_second
        if rate is None:
            return None
        return max(0.0, self.batch_seconds[0] - self.batch_sizes[0] / rate)

    def as_dict(self) -> dict:
        rate = self.images_per_second
        return {
            "seconds": self.total_seconds,
            "compile_seconds": self.compile_seconds,
            "images_per_second": rate,
            "network_evaluations_per_image": self.evaluations_per_image,
            "network_evaluations_per_second": None if rate is None else rate * self.evaluations_per_image,
            "timed_batches": max(0, sum(1 for n in self.batch_sizes[1:] if n == self.batch_sizes[0])),
        }


class _CountingModel(torch.nn.Module):
    """Counts the rows the network evaluates (for network evaluations per image), nothing else."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model = model
        self.rows = 0

    def forward(self, x: torch.Tensor, *args, **kwargs) -> torch.Tensor:
        self.rows += int(x.shape[0])
        return self.model(x, *args, **kwargs)

    def null_condition(self, cond: torch.Tensor) -> torch.Tensor:
        return self.model.null_condition(cond)


def requested_labels(loaded: LoadedModel, config: SamplingConfig, test_labels: np.ndarray | None = None) -> np.ndarray | None:
    """What each image is asked to show: classes in turn, or the configured and held-out texts in turn.

    Class models cycle through every class, so each class gets num_images / num_classes images.
    Text models cycle through ``config.texts`` plus ``config.random_texts`` distinct strings drawn
    (with seed ``config.seed_start``) from the held-out test split's labels.
    """
    n = config.num_images
    kind = loaded.model_config.conditioning
    if kind == "none":
        return None
    if kind == "class":
        return np.arange(n, dtype=np.int64) % loaded.data.num_classes
    texts = list(config.texts)
    if config.random_texts:
        if test_labels is None:
            raise ConfigError("random_texts needs the held-out test split's labels")
        pool = sorted(set(str(t) for t in test_labels) - set(texts))
        if len(pool) < config.random_texts:
            raise ConfigError(f"random_texts={config.random_texts} but the test split has only {len(pool)} other strings")
        rng = np.random.default_rng(config.seed_start)
        texts += [pool[i] for i in rng.choice(len(pool), config.random_texts, replace=False)]
    if not texts:
        raise ConfigError("a text model needs sampling.texts or sampling.random_texts to know what to draw")
    return np.array([texts[i % len(texts)] for i in range(n)])


def prepare_model(loaded: LoadedModel, device: torch.device, compile_setting: str) -> torch.nn.Module:
    return maybe_compile(place(loaded.model, device).eval(), device, compile_setting)


def sample_set(
    loaded: LoadedModel,
    sampler: SamplerConfig,
    config: SamplingConfig,
    device: torch.device,
    labels: np.ndarray | None,
    *,
    seeds: Sequence[int] | None = None,
    progress: bool = True,
    compiled: torch.nn.Module | None = None,
    cuda_graphs: bool | None = None,
) -> SampleSet:
    """Generate one image per seed (default: seed_start .. seed_start + num_images - 1).

    ``compiled``: the network already placed and compiled by :func:`prepare_model`, so that several
    sample sets of one model share one compilation. ``cuda_graphs``: replay each batch's network
    evaluations from a captured graph (same images); by default where
    :func:`~ddpm.samplers.use_sampling_graphs` says they pay.
    """
    check_sampler(sampler, loaded.diffusion)
    seeds = np.arange(config.seed_start, config.seed_start + config.num_images, dtype=np.int64) if seeds is None else np.asarray(seeds, dtype=np.int64)
    if labels is not None and len(labels) != len(seeds):
        raise ValueError("one requested label per seed is needed")
    model = _CountingModel(prepare_model(loaded, device, config.compile) if compiled is None else compiled)
    shape = (loaded.data.image_channels, *loaded.data.image_size)
    cond_all = conditions(labels, loaded.model_config, loaded.data) if labels is not None else None
    chunks = []
    batch_sizes: list[int] = []
    batch_seconds: list[float] = []
    if cuda_graphs is None:
        cuda_graphs = use_sampling_graphs(config.compile, device, min(config.batch_size, len(seeds)))
    bar = tqdm(total=len(seeds), disable=not progress, desc=sampler.label, unit="img", dynamic_ncols=True)
    with deterministic_kernels(device, config.deterministic):
        for start in range(0, len(seeds), config.batch_size):
            stop = min(start + config.batch_size, len(seeds))
            began = time.perf_counter()
            cond = None if cond_all is None else cond_all[start:stop].to(device)
            with autocast(device, config.precision):
                images, _ = generate(
                    model,
                    loaded.diffusion,
                    sampler,
                    seeds[start:stop].tolist(),
                    shape,
                    device=device,
                    cond=cond,
                    guidance_scale=config.guidance_scale if cond is not None else 1.0,
                    clip_x0=config.clip_x0,
                    cuda_graphs=cuda_graphs,
                )
            chunks.append(from_model_range(images).numpy())  # .numpy() waits for the device
            batch_seconds.append(time.perf_counter() - began)
            batch_sizes.append(stop - start)
            bar.update(stop - start)
    bar.close()
    return SampleSet(np.concatenate(chunks), seeds, labels, SamplingTiming(batch_sizes, batch_seconds, model.rows))


# Snapshots recorded along a trajectory's chain (about; the GIF shows an even subset of them).
TRAJECTORY_FRAMES = 40


def sample_trajectory(
    loaded: LoadedModel,
    sampler: SamplerConfig,
    config: SamplingConfig,
    device: torch.device,
    labels: np.ndarray | None,
    frames: int = TRAJECTORY_FRAMES,
) -> tuple[np.ndarray, Trajectory]:
    """A few images with about ``frames`` snapshots of (x_t, predicted x0) along the chain."""
    n = config.trajectory_images
    seeds = list(range(config.seed_start, config.seed_start + n))
    model = place(loaded.model, device).eval()
    cond = None if labels is None else conditions(labels[:n], loaded.model_config, loaded.data).to(device)
    with deterministic_kernels(device, config.deterministic), autocast(device, config.precision):
        images, trajectory = generate(
            model,
            loaded.diffusion,
            sampler,
            seeds,
            (loaded.data.image_channels, *loaded.data.image_size),
            device=device,
            cond=cond,
            guidance_scale=config.guidance_scale if cond is not None else 1.0,
            clip_x0=config.clip_x0,
            record_every=max(1, sampler.steps // frames),
            # A thousand steps of a few images: launching the network's kernels is the cost.
            cuda_graphs=use_sampling_graphs(config.compile, device, n),
        )
    return from_model_range(images).numpy(), trajectory
