"""The report's figures: schedule constants, forward process, denoiser input and output, samples by
step count, loss curves and FID against sampling steps. Each ``plot_*`` function writes one figure
(PDF and PNG, :func:`ddpm.report.style.save_figure`) from what it is given: numpy arrays and read
results in, files out. What the image figures show (noised images, the denoiser's outputs, samples)
is computed by :mod:`ddpm.figure_data`, called by the scripts. Titles say what a figure shows, then
the experiment's description.
"""

from __future__ import annotations

import math
import os
from typing import TYPE_CHECKING, Sequence

import numpy as np
from matplotlib.axis import Axis
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from ddpm.errors import ConfigError, DataError
from ddpm.evaluation.feature_sets import FEATURE_SETS
from ddpm.images import check_images
from ddpm.report.grids import image_rows_figure
from ddpm.report.results import RunResult, TrainLog
from ddpm.report.style import COLUMN_WIDTH, TEXT_WIDTH, new_figure, save_figure, set_title, title_text
from ddpm.schedules import NoiseSchedule

if TYPE_CHECKING:
    from ddpm.figure_data import NoiseLevels


# -- (a) schedule constants -------------------------------------------------------------------------

_SCHEDULE_PANELS = (
    ("betas", r"$\beta_t$", "log"),
    ("alphas_cumprod", r"$\bar\alpha_t$", "linear"),
    ("sqrt_alphas_cumprod", r"$\sqrt{\bar\alpha_t}$ (signal scale)", "linear"),
    ("sqrt_one_minus_alphas_cumprod", r"$\sqrt{1-\bar\alpha_t}$ (noise scale)", "linear"),
    ("posterior_variance", r"$\tilde\beta_t$ (posterior variance)", "log"),
    ("log_snr", r"log SNR $= \log(\bar\alpha_t / (1-\bar\alpha_t))$", "linear"),
)


def plot_schedules(path: str | os.PathLike, schedules: Sequence[str], num_timesteps: int, *, description: str = "") -> None:
    """Each schedule constant against t, one line per named schedule (no legend for just one)."""
    if not schedules:
        raise ConfigError("name at least one beta schedule to plot")
    computed = {name: NoiseSchedule.from_name(name, num_timesteps) for name in schedules}
    figure = new_figure(TEXT_WIDTH, 4.2)
    axes = figure.subplots(2, 3, sharex=True).ravel()
    t = np.arange(num_timesteps)
    for ax, (key, label, scale) in zip(axes, _SCHEDULE_PANELS):
        for name, schedule in computed.items():
            values = np.log(schedule.snr) if key == "log_snr" else getattr(schedule, key)
            # The posterior variance is exactly 0 at t = 0, which a log axis cannot show.
            shown = slice(1, None) if key == "posterior_variance" else slice(None)
            ax.plot(t[shown], values[shown], label=name)
        ax.set_yscale(scale)
        ax.set_title(label)
    for ax in axes[3:]:
        ax.set_xlabel("timestep t (0-based)")
    if len(computed) > 1:
        axes[0].legend()
    names = ", ".join(computed)
    set_title(figure, f"Schedule constants ({names}), T = {num_timesteps}", description)
    save_figure(figure, path)


# -- (b) forward process ----------------------------------------------------------------------------


def _check_levels_of_images(frames: np.ndarray, levels: NoiseLevels, images: int | None, what: str) -> None:
    """Raise unless ``frames`` is uint8 (K, B, H, W, C) with one level per column title (and, if
    given, ``images`` images per level)."""
    if not isinstance(frames, np.ndarray) or frames.dtype != np.uint8 or frames.ndim != 5:
        got = f"{getattr(frames, 'dtype', type(frames).__name__)} {getattr(frames, 'shape', None)}"
        raise DataError(f"{what}: expected a uint8 array of shape (levels, images, H, W, C), got {got}")
    if len(frames) == 0 or len(frames) != len(levels.titles):
        raise DataError(f"{what}: {len(frames)} noise levels but {len(levels.titles)} column titles; compute both from the same levels")
    if images is not None and frames.shape[1] != images:
        raise DataError(f"{what}: {frames.shape[1]} images per level but {images} clean images; compute them from the same images")
    check_images(frames[0], what)


def plot_forward_process(path: str | os.PathLike, frames: np.ndarray, levels: NoiseLevels, *, description: str = "") -> None:
    """One row per real image: the image noised at increasing levels (same noise along the row).

    ``frames`` is uint8 (K, B, H, W, C), image b at level k (:func:`ddpm.figure_data.noised`).
    """
    _check_levels_of_images(frames, levels, None, "forward-process images")
    strips = frames.transpose(1, 0, 2, 3, 4)  # (B, K, H, W, C)
    if levels.toy:
        kind = r"Toy corruption $x_a = (1-a)\,x_0 + a\,u$, $u \sim U[-1, 1]$"
    else:
        kind = r"Forward process $q(x_t \mid x_0)$, one noise draw per row"
    figure = image_rows_figure(list(strips), title=title_text(kind, description), column_titles=levels.titles)
    save_figure(figure, path)


# -- (c) denoiser input and output ------------------------------------------------------------------


def plot_denoiser(
    path: str | os.PathLike,
    images: np.ndarray,
    inputs: np.ndarray,
    outputs: np.ndarray,
    levels: NoiseLevels,
    *,
    image_names: Sequence[str],
    description: str = "",
) -> None:
    """Per test image two rows: the network's input at increasing noise, and the x0 it predicts.

    ``inputs`` and ``outputs`` are uint8 (K, B, H, W, C) (:func:`ddpm.figure_data.denoiser_outputs`);
    the first column repeats the clean image in both rows, for comparison.
    """
    check_images(images, "denoiser test images")
    if len(image_names) != len(images):
        raise DataError(f"{len(images)} denoiser test images but {len(image_names)} names; pass one name per image")
    _check_levels_of_images(inputs, levels, len(images), "denoiser inputs")
    _check_levels_of_images(outputs, levels, len(images), "denoiser outputs")
    rows, names = [], []
    for i, name in enumerate(image_names):
        rows += [np.concatenate([images[i : i + 1], inputs[:, i]]), np.concatenate([images[i : i + 1], outputs[:, i]])]
        names += [f"{name}: input", "predicted x0"]
    heading = "Denoiser: noisy input (upper row) and the x0 it predicts (lower row)"
    figure = image_rows_figure(rows, title=title_text(heading, description), row_labels=names, column_titles=("clean",) + levels.titles)
    save_figure(figure, path)


# -- (d) samples by number of steps -----------------------------------------------------------------


def plot_samples_by_steps(
    path: str | os.PathLike,
    samples: np.ndarray,
    step_counts: Sequence[int],
    column_titles: Sequence[str],
    *,
    all_steps: int | None = None,
    title: str = "Samples by number of sampling steps",
    description: str = "",
) -> None:
    """One row per step count (``all_steps``, the full chain, is marked); column k holds one seed
    (and requested label) in every row."""
    if samples.ndim != 5 or len(samples) != len(step_counts):
        raise DataError(f"expected one row of samples per step count {list(step_counts)}, got an array of shape {samples.shape}")
    row_labels = [f"{n} steps" + (" (all)" if n == all_steps else "") for n in step_counts]
    figure = image_rows_figure(list(samples), title=title_text(title, description), row_labels=row_labels, column_titles=column_titles)
    save_figure(figure, path)


# -- (e) loss curves ----------------------------------------------------------------------------------

LEGEND_INSIDE_MAX = 4  # series whose legend still fits inside a column-wide FID panel
LEGEND_ROW_INCHES = 0.15  # figure height added per legend row below the panels

TRAIN_LOSS_LABEL = "training loss (raw weights, mean over each logging interval)"
VAL_LOSS_LABEL = "validation loss (EMA weights, fixed noise seed)"


def plot_loss_curves(path: str | os.PathLike, log: TrainLog, *, description: str = "") -> None:
    """Training and validation loss against the step, log y with plain-number ticks.

    The two curves use different weights (the training loop validates its EMA copy), so each says
    which: a validation curve below the training curve is the EMA's smoothing, not a leak.
    """
    if len(log.steps) == 0:
        raise DataError(f"{path}: the training log has no rows to plot")
    figure = new_figure(COLUMN_WIDTH * 1.4, 2.8)
    ax = figure.subplots()
    ax.plot(log.steps, log.train_loss, label=TRAIN_LOSS_LABEL)
    has_val = np.isfinite(log.val_loss)
    if has_val.any():
        ax.plot(log.steps[has_val], log.val_loss[has_val], "o-", label=VAL_LOSS_LABEL)
    if np.all(log.train_loss > 0) and np.all(log.val_loss[has_val] > 0):
        ax.set_yscale("log")
        _plain_log_ticks(ax.yaxis)
    ax.set_xlabel("training step (optimizer updates)")
    ax.set_ylabel("loss (mean squared error per pixel)")
    ax.legend(loc="upper right")
    set_title(figure, "Loss curves", description)
    save_figure(figure, path)


def _plain_log_ticks(axis: Axis) -> None:
    """Ticks of a log axis at 1, 2 and 5 times powers of ten, labelled as plain numbers (0.05, not
    5 x 10^-2), and no labels on the minor ticks."""
    axis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


# -- (f) FID against sampling steps -------------------------------------------------------------------


def fid_series(runs: Sequence[RunResult], feature_set: str) -> dict[str, list[tuple[int, float]]]:
    """Per sampler series (DDPM, DDIM, any other sampler; see :attr:`RunResult.series`) its
    (steps, FID) points of ``feature_set``, sorted by steps; runs without that FID are left out."""
    series: dict[str, list[tuple[int, float]]] = {}
    for r in runs:
        value = r.fid.get(feature_set)
        if isinstance(value, float):
            series.setdefault(r.series, []).append((r.steps, value))
    return {name: sorted(points) for name, points in sorted(series.items())}


def readable_log_ticks(values: Sequence[int], min_ratio: float = 1.25) -> list[int]:
    """The values to label on a log axis: of two within ``min_ratio`` of each other (19 and 20
    steps would print on top of each other) the rounder one is kept."""

    def roundness(value: int) -> int:
        return len(str(value)) - len(str(value).rstrip("0"))

    kept: list[int] = []
    for value in sorted(set(values)):
        if kept and value < kept[-1] * min_ratio:
            if roundness(value) > roundness(kept[-1]):
                kept[-1] = value
            continue
        kept.append(value)
    return kept


def plot_fid_vs_steps(path: str | os.PathLike, runs: Sequence[RunResult], *, description: str = "") -> None:
    """FID against the number of sampling steps (log x), one panel per feature set that has an FID,
    one line per sampler series; a series of one run is drawn as a point, not a line.

    Feature sets without FID (Inception without its weights) get no panel: the tables' notes say why.
    """
    if not runs:
        raise DataError(f"{path}: no evaluated runs to plot")
    feature_sets = [fs for fs in FEATURE_SETS if any(fs in r.fid for r in runs)]
    feature_sets += sorted({fs for r in runs for fs in r.fid} - set(feature_sets))
    shown = {fs: fid_series(runs, fs) for fs in feature_sets}
    shown = {fs: series for fs, series in shown.items() if series}
    panels = max(1, len(shown))
    labels = list(dict.fromkeys(name for series in shown.values() for name in series))
    # Beyond a few series a legend inside the axes covers points: it goes below the panels, once.
    legend_below = len(labels) > LEGEND_INSIDE_MAX
    legend_rows = math.ceil(len(labels) / panels) if legend_below else 0
    figure = new_figure(min(TEXT_WIDTH, COLUMN_WIDTH * panels), 2.6 + LEGEND_ROW_INCHES * legend_rows)
    axes = figure.subplots(1, panels, squeeze=False)[0]
    if not shown:
        axes[0].text(0.5, 0.5, "no FID available", ha="center", va="center", transform=axes[0].transAxes)
        axes[0].set_axis_off()
    all_steps = sorted({r.steps for r in runs})
    markers = "osD^v<>"
    for ax, (fs, series) in zip(axes, shown.items()):
        for k, (name, points) in enumerate(series.items()):
            style = "-" if len(points) > 1 else "none"
            ax.plot(*zip(*points), marker=markers[k % len(markers)], linestyle=style, label=name)
        ax.set_xscale("log")
        ticks = readable_log_ticks(all_steps)
        ax.set_xticks(ticks, [str(s) for s in ticks])
        ax.minorticks_off()
        if len(all_steps) == 1:
            ax.set_xlim(all_steps[0] / 2, all_steps[0] * 2)
        ax.set_xlabel("sampling steps (network evaluations)")
        ax.set_ylabel(f"FID ({fs} features)")
        if not legend_below:
            ax.legend()
    if legend_below:
        handles = {line.get_label(): line for ax in axes for line in ax.get_lines()}
        figure.legend([handles[name] for name in labels], labels, loc="outside lower center", ncols=panels)
    set_title(figure, "FID against sampling steps", description)
    save_figure(figure, path)
