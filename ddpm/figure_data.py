"""What the figures show, computed: example picks, noised images, the denoiser's outputs, samples by
step count. Each function returns numpy arrays (uint8 (..., H, W, C) images) that a ``plot_*``
function of :mod:`ddpm.report.figures` draws; here are the network evaluations, sampling and noising.

Noise levels are picked by how much signal is left (sqrt(alpha-bar_t) = 0.9, 0.7, ...) rather than
by fractions of T, so figures of different schedules and T show comparable corruption.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ddpm.config import SamplerConfig, SamplingConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError
from ddpm.generation import sample_set
from ddpm.images import check_images, from_model_range, images_to_tensor, to_model_range
from ddpm.labels import conditions
from ddpm.runtime import place
from ddpm.samplers import use_sampling_graphs
from ddpm.toy_diffusion import ToyDiffusion, corrupt
from ddpm.training.checkpoint import LoadedModel

Diffusion = GaussianDiffusion | ToyDiffusion

FORWARD_SIGNAL = (1.0, 0.9, 0.7, 0.5, 0.3, 0.1)  # sqrt(alpha-bar) of the forward-process columns (+ t = T-1)
FORWARD_AMOUNTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # toy diffusion: share of noise mixed in
DENOISER_SIGNAL = (0.9, 0.7, 0.5, 0.3, 0.1)
DENOISER_AMOUNTS = (0.1, 0.3, 0.5, 0.7, 0.9)
TOY_ALL_STEPS = 100  # the toy sampler has no T; "all" steps means this many (or the largest given)


def pick_examples(labels: np.ndarray, count: int, seed: int) -> np.ndarray:
    """Indices of ``count`` examples in a seeded random order, distinct labels first (one digit of each
    class rather than three sevens)."""
    if count < 1 or count > len(labels):
        raise ConfigError(f"cannot pick {count} examples from a split of {len(labels)}; ask for 1 to {len(labels)}")
    order = np.random.default_rng(seed).permutation(len(labels))
    _, first = np.unique(labels[order], return_index=True)
    distinct = order[np.sort(first)]
    rest = order[~np.isin(order, distinct)]
    return np.concatenate([distinct, rest])[:count]


@dataclass(frozen=True)
class NoiseLevels:
    values: tuple[float, ...]  # timesteps (Gaussian diffusion) or noise amounts (toy diffusion)
    titles: tuple[str, ...]  # one column title per value
    toy: bool  # the values are the toy corruption's noise amounts, not timesteps


def noise_levels(diffusion: Diffusion, signal: Sequence[float], amounts: Sequence[float], *, last_step: bool = False) -> NoiseLevels:
    """The timesteps where sqrt(alpha-bar_t) is nearest each ``signal`` value (and T-1 if ``last_step``),
    or, for the toy diffusion, the noise ``amounts``."""
    if isinstance(diffusion, ToyDiffusion):
        return NoiseLevels(tuple(float(a) for a in amounts), tuple(f"noise share\na = {a:g}" for a in amounts), toy=True)
    scale = diffusion.schedule.sqrt_alphas_cumprod
    steps = {int(np.abs(scale - s).argmin()) for s in signal}
    if last_step:
        steps.add(diffusion.num_timesteps - 1)
    ordered = sorted(steps)
    titles = tuple(f"t = {t}\n" + r"$\sqrt{\bar\alpha_t}$" + f" = {scale[t]:.2f}" for t in ordered)
    return NoiseLevels(tuple(float(t) for t in ordered), titles, toy=False)


def _noised_model_range(diffusion: Diffusion, images: np.ndarray, levels: Sequence[float], seed: int) -> torch.Tensor:
    """Every image at every level, float (K, B, C, H, W) in [-1, 1] units, on the CPU.

    Each image gets one noise draw (from ``seed``) used at every level, so a row shows one
    corruption growing rather than fresh noise per column.
    """
    x0 = to_model_range(images_to_tensor(images, torch.device("cpu")))
    generator = torch.Generator().manual_seed(seed)
    batch = x0.shape[0]
    if isinstance(diffusion, ToyDiffusion):
        noise = torch.rand(x0.shape, generator=generator) * 2.0 - 1.0
        return torch.stack([corrupt(x0, torch.full((batch,), level), noise) for level in levels])
    noise = torch.randn(x0.shape, generator=generator)
    return torch.stack([diffusion.q_sample(x0, torch.full((batch,), int(level), dtype=torch.long), noise) for level in levels])


def _uint8(x: torch.Tensor) -> np.ndarray:
    """Float (..., C, H, W) in [-1, 1] -> uint8 (..., H, W, C)."""
    lead = x.shape[:-3]
    return from_model_range(x.reshape(-1, *x.shape[-3:])).numpy().reshape(*lead, *x.shape[-2:], x.shape[-3])


def noised(diffusion: Diffusion, images: np.ndarray, levels: Sequence[float], seed: int) -> np.ndarray:
    """Every image at every level: uint8 (K, B, H, W, C), one noise draw per image (from ``seed``)
    shared by its levels, so a row shows one corruption growing rather than fresh noise per column."""
    check_images(images, "images to noise")
    return _uint8(_noised_model_range(diffusion, images, levels, seed))


@torch.no_grad()
def denoiser_outputs(
    loaded: LoadedModel, images: np.ndarray, labels: np.ndarray | None, levels: Sequence[float], *, seed: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The network's inputs and predicted x0 for every image at every level: two uint8 (K, B, H, W, C).

    A conditional network is given each image's own label (no guidance).
    """
    check_images(images, "denoiser test images")
    inputs = _noised_model_range(loaded.diffusion, images, levels, seed)
    k, b = inputs.shape[:2]
    flat = inputs.reshape(k * b, *inputs.shape[2:]).to(device)
    model = place(loaded.model, device).eval()
    if isinstance(loaded.diffusion, ToyDiffusion):
        x0 = model(flat)
    else:
        t = torch.tensor(levels, dtype=torch.long, device=device).repeat_interleave(b)
        cond = None if labels is None else conditions(labels, loaded.model_config, loaded.data)
        kwargs = {} if cond is None else {"cond": cond.to(device).repeat(k, *([1] * (cond.dim() - 1)))}
        x0, _ = loaded.diffusion.split_prediction(model(flat, t, **kwargs).float(), flat, t)
    predicted = x0.float().clamp(-1, 1).cpu().reshape(inputs.shape)
    return _uint8(inputs), _uint8(predicted)


def resolve_step_counts(tokens: Sequence[str], diffusion: Diffusion) -> list[int]:
    """Step counts from words such as ``5 20 all``; ``all`` is T (toy diffusion: 100, or the largest given)."""
    numbers = []
    for token in tokens:
        if token != "all" and (not token.isdigit() or int(token) < 1):
            raise ConfigError(f"step count {token!r} is neither a positive whole number nor 'all'")
        numbers.append(None if token == "all" else int(token))
    given = [n for n in numbers if n is not None]
    if isinstance(diffusion, ToyDiffusion):
        everything = max([TOY_ALL_STEPS, *given])
    else:
        everything = diffusion.num_timesteps
    counts = [everything if n is None else n for n in numbers]
    return list(dict.fromkeys(counts))  # drop repeats (e.g. "1000 all"), keep the order


def samples_by_steps(
    loaded: LoadedModel,
    sampler: SamplerConfig,
    step_counts: Sequence[int],
    config: SamplingConfig,
    seeds: Sequence[int],
    labels: np.ndarray | None,
    device: torch.device,
) -> np.ndarray:
    """uint8 (S, N, H, W, C): the same seeds (and labels) sampled with each step count."""
    # Compiling would cost more than these few images gain; replaying a captured graph of the
    # uncompiled network does not (a launch per step instead of one per kernel).
    graphs = use_sampling_graphs(config.compile, device, len(seeds))
    config = dataclasses.replace(config, compile="off")
    return np.stack(
        [
            sample_set(
                loaded, dataclasses.replace(sampler, steps=steps, name=None), config, device, labels,
                seeds=seeds, progress=False, cuda_graphs=graphs,
            ).images
            for steps in step_counts
        ]
    )
