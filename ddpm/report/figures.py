"""The report's figures: schedule constants, forward process, denoiser input and output, samples by
step count, loss curves and FID against sampling steps. Each ``plot_*`` function writes one PNG
atomically; the functions before it compute what it shows, so they can be tested without pixels.

Noise levels are picked by how much signal is left (sqrt(alpha-bar_t) = 0.9, 0.7, ...) rather than
by fractions of T, so figures of different schedules and T show comparable corruption.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from ddpm.config import SamplerConfig, SamplingConfig
from ddpm.diffusion import GaussianDiffusion
from ddpm.errors import ConfigError, DataError
from ddpm.evaluation.features import FEATURE_SETS
from ddpm.images import check_images, from_model_range, images_to_tensor, to_model_range
from ddpm.labels import conditions
from ddpm.report.canvas import new_figure, save_png
from ddpm.report.grids import image_rows_figure
from ddpm.report.results import RunResult, TrainLog, Unavailable
from ddpm.runtime import place
from ddpm.generation import sample_set
from ddpm.schedules import NoiseSchedule
from ddpm.toy_diffusion import ToyDiffusion, corrupt
from ddpm.training.checkpoint import LoadedModel

Diffusion = GaussianDiffusion | ToyDiffusion

FORWARD_SIGNAL = (1.0, 0.9, 0.7, 0.5, 0.3, 0.1)  # sqrt(alpha-bar) of the forward-process columns (+ t = T-1)
FORWARD_AMOUNTS = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # toy diffusion: share of noise mixed in
DENOISER_SIGNAL = (0.9, 0.7, 0.5, 0.3, 0.1)
DENOISER_AMOUNTS = (0.1, 0.3, 0.5, 0.7, 0.9)
TOY_ALL_STEPS = 100  # the toy sampler has no T; "all" steps means this many (or the largest given)


# -- (a) schedule constants -------------------------------------------------------------------------

_SCHEDULE_PANELS = (
    ("betas", r"$\beta_t$", "log"),
    ("alphas_cumprod", r"$\bar\alpha_t$", "linear"),
    ("sqrt_alphas_cumprod", r"$\sqrt{\bar\alpha_t}$ (signal scale)", "linear"),
    ("sqrt_one_minus_alphas_cumprod", r"$\sqrt{1-\bar\alpha_t}$ (noise scale)", "linear"),
    ("posterior_variance", r"$\tilde\beta_t$ (posterior variance)", "log"),
    ("log_snr", r"log SNR $= \log(\bar\alpha_t / (1-\bar\alpha_t))$", "linear"),
)


def plot_schedules(path: str | os.PathLike, schedules: Sequence[str], num_timesteps: int) -> None:
    """Each schedule constant against t, one line per named schedule."""
    if not schedules:
        raise ConfigError("name at least one beta schedule to plot")
    computed = {name: NoiseSchedule.from_name(name, num_timesteps) for name in schedules}
    figure = new_figure(11, 6)
    axes = figure.subplots(2, 3, sharex=True).ravel()
    t = np.arange(num_timesteps)
    for ax, (key, label, scale) in zip(axes, _SCHEDULE_PANELS):
        for name, schedule in computed.items():
            values = np.log(schedule.snr) if key == "log_snr" else getattr(schedule, key)
            # The posterior variance is exactly 0 at t = 0, which a log axis cannot show.
            shown = slice(1, None) if key == "posterior_variance" else slice(None)
            ax.plot(t[shown], values[shown], label=name, linewidth=1.5)
        ax.set_yscale(scale)
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
    for ax in axes[3:]:
        ax.set_xlabel("timestep t (0-based)")
    axes[0].legend(fontsize=8)
    figure.suptitle(f"Noise schedules, T = {num_timesteps}", fontsize=11)
    save_png(figure, path)


# -- examples, noise levels and noised images -------------------------------------------------------


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
    titles: tuple[str, ...]


def noise_levels(diffusion: Diffusion, signal: Sequence[float], amounts: Sequence[float], *, last_step: bool = False) -> NoiseLevels:
    """The timesteps where sqrt(alpha-bar_t) is nearest each ``signal`` value (and T-1 if ``last_step``),
    or, for the toy diffusion, the noise ``amounts``."""
    if isinstance(diffusion, ToyDiffusion):
        return NoiseLevels(tuple(float(a) for a in amounts), tuple(f"amount {a:g}" for a in amounts))
    scale = diffusion.schedule.sqrt_alphas_cumprod
    steps = {int(np.abs(scale - s).argmin()) for s in signal}
    if last_step:
        steps.add(diffusion.num_timesteps - 1)
    ordered = sorted(steps)
    return NoiseLevels(tuple(float(t) for t in ordered), tuple(f"t={t}" for t in ordered))


def noised(diffusion: Diffusion, images: np.ndarray, levels: Sequence[float], seed: int) -> torch.Tensor:
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


# -- (b) forward process ----------------------------------------------------------------------------


def plot_forward_process(path: str | os.PathLike, diffusion: Diffusion, images: np.ndarray, *, seed: int = 0, title: str = "") -> None:
    """One row per real image: the image noised at increasing levels (same noise along the row)."""
    check_images(images, "forward-process images")
    levels = noise_levels(diffusion, FORWARD_SIGNAL, FORWARD_AMOUNTS, last_step=True)
    strips = _uint8(noised(diffusion, images, levels.values, seed)).transpose(1, 0, 2, 3, 4)  # (B, K, H, W, C)
    kind = "toy corruption x_c = (1-a) x + a u" if isinstance(diffusion, ToyDiffusion) else "forward process q(x_t | x_0)"
    figure = image_rows_figure(list(strips), title=f"{title}: {kind}" if title else kind, column_titles=levels.titles)
    save_png(figure, path)


# -- (c) denoiser input and output ------------------------------------------------------------------


@torch.no_grad()
def denoiser_outputs(
    loaded: LoadedModel, images: np.ndarray, labels: np.ndarray | None, levels: Sequence[float], *, seed: int, device: torch.device
) -> tuple[np.ndarray, np.ndarray]:
    """The network's inputs and predicted x0 for every image at every level: two uint8 (K, B, H, W, C).

    A conditional network is given each image's own label (no guidance).
    """
    inputs = noised(loaded.diffusion, images, levels, seed)
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


def plot_denoiser(
    path: str | os.PathLike,
    loaded: LoadedModel,
    images: np.ndarray,
    labels: np.ndarray | None,
    *,
    image_names: Sequence[str],
    seed: int = 0,
    device: torch.device = torch.device("cpu"),
    title: str = "",
) -> None:
    """Per test image two rows: the network's input at increasing noise, and the x0 it predicts.

    The first column repeats the clean image in both rows, for comparison.
    """
    check_images(images, "denoiser test images")
    if len(image_names) != len(images):
        raise DataError(f"{len(images)} denoiser test images but {len(image_names)} names; pass one name per image")
    levels = noise_levels(loaded.diffusion, DENOISER_SIGNAL, DENOISER_AMOUNTS)
    inputs, outputs = denoiser_outputs(loaded, images, labels, levels.values, seed=seed, device=device)
    rows, names = [], []
    for i, name in enumerate(image_names):
        rows += [np.concatenate([images[i : i + 1], inputs[:, i]]), np.concatenate([images[i : i + 1], outputs[:, i]])]
        names += [f"{name}: input", f"{name}: predicted x0"]
    heading = "denoiser input and predicted x0"
    figure = image_rows_figure(rows, title=f"{title}: {heading}" if title else heading, row_labels=names, column_titles=("clean",) + levels.titles)
    save_png(figure, path)


# -- (d) samples by number of steps -----------------------------------------------------------------


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
    # Compiling would cost more than these few images gain.
    config = dataclasses.replace(config, compile="off")
    return np.stack(
        [
            sample_set(loaded, dataclasses.replace(sampler, steps=steps, name=None), config, device, labels, seeds=seeds, progress=False).images
            for steps in step_counts
        ]
    )


def plot_samples_by_steps(
    path: str | os.PathLike,
    samples: np.ndarray,
    step_counts: Sequence[int],
    column_titles: Sequence[str],
    *,
    all_steps: int | None = None,
    title: str = "",
) -> None:
    """One row per step count (``all_steps``, the full chain, is marked); column k holds one seed
    (and requested label) in every row."""
    if samples.ndim != 5 or len(samples) != len(step_counts):
        raise DataError(f"expected one row of samples per step count {list(step_counts)}, got an array of shape {samples.shape}")
    row_labels = [f"{n} steps" + (" (all)" if n == all_steps else "") for n in step_counts]
    figure = image_rows_figure(list(samples), title=title, row_labels=row_labels, column_titles=column_titles)
    save_png(figure, path)


# -- (e) loss curves ----------------------------------------------------------------------------------


def plot_loss_curves(path: str | os.PathLike, log: TrainLog, *, title: str = "") -> None:
    """Training loss (mean over each logging interval) and validation loss against the step, log y."""
    if len(log.steps) == 0:
        raise DataError(f"{path}: the training log has no rows to plot")
    figure = new_figure(6.5, 4)
    ax = figure.subplots()
    ax.plot(log.steps, log.train_loss, label="training loss", linewidth=1.2)
    has_val = np.isfinite(log.val_loss)
    if has_val.any():
        ax.plot(log.steps[has_val], log.val_loss[has_val], "o-", label="validation loss (EMA weights)", markersize=4, linewidth=1.2)
    if np.all(log.train_loss > 0) and np.all(log.val_loss[has_val] > 0):
        ax.set_yscale("log")
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (mean squared error)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    ax.set_title(title or "loss curves", fontsize=10)
    save_png(figure, path)


# -- (f) FID against sampling steps -------------------------------------------------------------------


def plot_fid_vs_steps(path: str | os.PathLike, runs: Sequence[RunResult], *, title: str = "") -> None:
    """FID against the number of sampling steps (log x), one panel per feature set, one line per sampler.

    Feature sets without any FID (e.g. Inception without its weights) get no panel but a note.
    """
    if not runs:
        raise DataError(f"{path}: no evaluated runs to plot")
    feature_sets = [fs for fs in FEATURE_SETS if any(fs in r.fid for r in runs)]
    feature_sets += sorted({fs for r in runs for fs in r.fid} - set(feature_sets))
    shown = [fs for fs in feature_sets if any(isinstance(r.fid.get(fs), float) for r in runs)]
    notes = []
    for fs in feature_sets:
        if fs not in shown:
            reasons = [r.fid[fs] for r in runs if isinstance(r.fid.get(fs), Unavailable)]
            notes.append(f"{fs} FID: {reasons[0].short if reasons else 'not computed'}")
    heading = (title or "FID vs sampling steps") + ("\n" + "; ".join(notes) if notes else "")
    figure = new_figure(4.5 * max(1, len(shown)) + 0.5, 4)
    figure.suptitle(heading, fontsize=10)
    axes = figure.subplots(1, max(1, len(shown)), squeeze=False)[0]
    if not shown:
        axes[0].text(0.5, 0.5, "no FID available", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
    series = sorted({r.series for r in runs})
    all_steps = sorted({r.steps for r in runs})
    for ax, fs in zip(axes, shown):
        for name in series:
            points = sorted((r.steps, r.fid[fs]) for r in runs if r.series == name and isinstance(r.fid.get(fs), float))
            if points:
                ax.plot(*zip(*points), "o-", label=name, markersize=4)
        ax.set_xscale("log")
        ax.set_xticks(all_steps, [str(s) for s in all_steps])
        ax.minorticks_off()
        ax.set_xlabel("sampling steps")
        ax.set_ylabel(f"FID ({fs} features)")
        ax.set_title(f"{fs} features", fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    save_png(figure, path)
