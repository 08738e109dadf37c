"""Image grids: rows of same-sized images with row labels and titles; sample and dataset grids.

:func:`image_rows_figure` is the one layout behind every image figure of the report (sample grids,
dataset grids, forward-process strips, denoiser panels, samples by step count): one axes per row
showing the row's images tiled side by side, so a grid of a hundred images costs a handful of axes,
with margins no wider than the labels need. :func:`write_sample_grid` arranges a sample set by what
each image shows; :func:`write_split_grid` shows a seeded random selection of a prepared split.
"""

from __future__ import annotations

import functools

import os
from typing import Any, Sequence

import numpy as np
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.ft2font import FT2Font
from matplotlib.figure import Figure

from ddpm.config import SamplerConfig
from ddpm.errors import DataError
from ddpm.images import check_images
from ddpm.report.results import sampler_series
from ddpm.report.style import FONT_SIZE, TEXT_WIDTH, TITLE_SIZE, new_figure, save_figure, title_text, wrap_title

BACKGROUND = 128  # mid-grey between images: neither ink nor background of any dataset
SAMPLE_GRID_IMAGES = 100  # an unconditional sample grid: 10 x 10
SAMPLE_GRID_PER_ROW = 10
_MAX_CELL_HEIGHT_INCHES = 0.7
_MAX_CELL_WIDTH_INCHES = 1.4
_TITLE_PAD_INCHES = 0.06  # between the title and the column titles (or the first row)
_CELL_TITLE_INCHES = 0.16
_CELL_TITLE_LINE_SPACING = 1.35  # room for a square root or a bar between the lines of a column title
_TITLE_LINE_SPACING = 1.1
_ROW_GAP_INCHES = 0.03
_MARGIN_INCHES = 0.03
_LABEL_CHAR_INCHES = 0.06  # width of one character of a row label


@functools.lru_cache(maxsize=256)
def _text_height_inches(text: str, fontsize: float, linespacing: float) -> float:
    """How tall ``text`` is drawn (all its lines, math included), measured by the renderer."""
    probe = new_figure(1.0, 1.0, constrained=False)
    artist = probe.text(0, 0, text, fontsize=fontsize, linespacing=linespacing)
    return artist.get_window_extent(probe.canvas.get_renderer()).height / probe.dpi


def label_titles(labels: np.ndarray | None, class_names: Sequence[str], fallback: Sequence[str]) -> list[str]:
    """What each image shows, as text: its class name, its string, or (unlabelled) ``fallback[i]``."""
    if labels is None:
        return [str(name) for name in fallback]
    labels = np.asarray(labels)
    if labels.dtype.kind in "iu":
        return [str(class_names[c]) if class_names else str(c) for c in labels]
    return [str(text) for text in labels]


def tile_images(images: np.ndarray, cols: int, *, gap: int = 1, background: int = BACKGROUND) -> np.ndarray:
    """Images (N, H, W, C) row-major on one canvas of ``cols`` columns, ``gap`` pixels apart.

    Cells beyond N keep the background, so rows of different lengths tile to the same width.
    """
    count, height, width, channels = images.shape
    rows = max(1, -(-count // cols))
    canvas = np.full((rows * (height + gap) - gap, cols * (width + gap) - gap, channels), background, dtype=np.uint8)
    for i, image in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        canvas[r * (height + gap) : r * (height + gap) + height, c * (width + gap) : c * (width + gap) + width] = image
    return canvas


def image_rows_figure(
    rows: Sequence[np.ndarray],
    *,
    title: str = "",
    row_labels: Sequence[str] | None = None,
    column_titles: Sequence[str] | None = None,
    cell_titles: Sequence[Sequence[str]] | None = None,
    width: float = TEXT_WIDTH,
) -> Figure:
    """A figure at most ``width`` inches wide of image rows: ``rows[i]`` is uint8 (K_i, H, W, C);
    every image has the same H, W, C.

    ``title`` may hold several lines; ``row_labels`` go left of the rows, ``column_titles`` (one or
    more lines each) above the first row, ``cell_titles[i][k]`` above image k of row i (e.g. the
    string a text-conditional image was asked to show).
    """
    if not rows:
        raise DataError("an image figure needs at least one row of images")
    shape = rows[0].shape[1:]
    if any(row.shape[1:] != shape or len(row) == 0 for row in rows):
        raise DataError(f"every row needs images of one shape {shape}; got {[row.shape for row in rows]}")
    if row_labels is not None and len(row_labels) != len(rows):
        raise DataError(f"{len(rows)} image rows but {len(row_labels)} row labels; pass one label per row")
    height, image_width = shape[:2]
    cols = max(len(row) for row in rows)
    if column_titles is not None:
        cols = max(cols, len(column_titles))
    label_inches = 0.0 if not row_labels else 0.08 + _LABEL_CHAR_INCHES * max(len(label) for label in row_labels)
    gap = max(1, round(max(height, image_width) / 20))  # visible between large images too
    strip_px = (height, cols * (image_width + gap) - gap)
    # One inch scale for all images: as large as the per-cell caps allow, within the width.
    scale = min(_MAX_CELL_HEIGHT_INCHES / height, _MAX_CELL_WIDTH_INCHES / image_width, (width - label_inches - 2 * _MARGIN_INCHES) / strip_px[1])
    strip_h, strip_w = strip_px[0] * scale, strip_px[1] * scale
    band = _CELL_TITLE_INCHES if cell_titles is not None else 0.0
    fig_w = label_inches + strip_w + 2 * _MARGIN_INCHES
    title = wrap_title(title, fig_w) if title else ""
    # The title and column titles take the height they are drawn with, so no band is left empty.
    top = _MARGIN_INCHES
    if title:
        top += _text_height_inches(title, TITLE_SIZE, _TITLE_LINE_SPACING) + _TITLE_PAD_INCHES
    if column_titles:
        top += max(_text_height_inches(str(t), FONT_SIZE - 1, _CELL_TITLE_LINE_SPACING) for t in column_titles)
    fig_h = top + len(rows) * (band + strip_h + _ROW_GAP_INCHES) + _MARGIN_INCHES
    figure = new_figure(fig_w, fig_h, constrained=False)
    if title:
        figure.suptitle(title, fontsize=TITLE_SIZE, y=1 - _MARGIN_INCHES / fig_h, va="top", linespacing=_TITLE_LINE_SPACING)
    y = fig_h - top
    for i, row in enumerate(rows):
        y -= band + strip_h
        ax = figure.add_axes(((label_inches + _MARGIN_INCHES) / fig_w, y / fig_h, strip_w / fig_w, strip_h / fig_h))
        y -= _ROW_GAP_INCHES
        canvas = tile_images(row, cols, gap=gap)
        # interpolation "none": the PDF holds the pixels themselves, sharp at any zoom.
        ax.imshow(canvas[..., 0] if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0, vmax=255, interpolation="none", aspect="auto")
        ax.set_axis_off()
        if row_labels is not None:
            ax.text(-0.01, 0.5, row_labels[i], transform=ax.transAxes, ha="right", va="center", fontsize=FONT_SIZE)
        above = cell_titles[i] if cell_titles is not None else column_titles if (i == 0 and column_titles is not None) else None
        for k, text in enumerate(above or ()):
            # Data coordinates: y = -0.5 is the top edge of the strip (imshow puts row 0 on top).
            ax.text(k * (image_width + gap) + image_width / 2, -0.5, text, ha="center", va="bottom", fontsize=FONT_SIZE - 1, clip_on=False, linespacing=_CELL_TITLE_LINE_SPACING)
    return figure


def sample_grid_title(sampler: SamplerConfig, guidance_scale: float | None = None, description: str = "") -> str:
    """A sample grid's title: the sampler and its steps (and guidance scale for conditional
    models), then the experiment's description."""
    guidance = "" if guidance_scale is None else f", guidance scale {guidance_scale:g}"
    what = f"Samples: {sampler_series(sampler.sampler, sampler.eta, sampler.variance, sampler.spacing)}, {sampler.steps} steps{guidance}"
    return title_text(what, description)


def sample_grid_figure(
    images: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    title: str,
    *,
    per_row: int = SAMPLE_GRID_PER_ROW,
    max_rows: int = 20,
    max_images: int = SAMPLE_GRID_IMAGES,
    source: str = "samples",
) -> Figure:
    """The layout of a sample set: unconditional samples as a ``per_row``-wide grid of the first
    ``max_images`` (10 x 10); conditional ones one row per requested class or string (labelled with
    its name, up to ``per_row`` of its images, at most ``max_rows`` rows, in order of first request)."""
    check_images(images, source)
    if labels is None:
        shown = images[:max_images]
        return image_rows_figure([shown[i : i + per_row] for i in range(0, len(shown), per_row)], title=title)
    labels = np.asarray(labels)
    if len(labels) != len(images):
        raise DataError(f"{source}: {len(images)} images but {len(labels)} labels; pass one label per image")
    if labels.dtype.kind in "iu" and class_names and (labels.min() < 0 or labels.max() >= len(class_names)):
        raise DataError(
            f"{source}: class labels span {labels.min()}..{labels.max()} but there are {len(class_names)} class names; "
            "pass the class names of the model's dataset"
        )
    _, first = np.unique(labels, return_index=True)
    present = labels[np.sort(first)]
    if labels.dtype.kind in "iu":
        present = np.sort(present)  # classes read in their own order
    shown = present[:max_rows]
    if len(shown) < len(present):
        title += f" (first {len(shown)} of {len(present)} {'classes' if labels.dtype.kind in 'iu' else 'strings'})"
    rows = [images[np.flatnonzero(labels == value)[:per_row]] for value in shown]
    return image_rows_figure(rows, title=title, row_labels=label_titles(shown, class_names, ()))


def write_sample_grid(
    path: str | os.PathLike,
    images: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    title: str,
    *,
    per_row: int = SAMPLE_GRID_PER_ROW,
    max_rows: int = 20,
    max_images: int = SAMPLE_GRID_IMAGES,
) -> None:
    """Write the sample grid of ``images`` (uint8 NHWC) as PNG at ``path`` and PDF beside it
    (see :func:`sample_grid_figure` for the layout)."""
    figure = sample_grid_figure(images, labels, class_names, title, per_row=per_row, max_rows=max_rows, max_images=max_images, source=str(path))
    save_figure(figure, path)


def class_row_labels(meta: dict[str, Any]) -> list[tuple[str, str]]:
    """(name, glyph) of every class of a split's sidecar; the glyph (a letter, e.g. of the Persian
    alphabet) is "" where there is none or the default font cannot draw it."""
    names = list(meta.get("class_names") or [])
    glyphs = meta.get("class_glyphs") or [""] * len(names)
    return [(str(name), glyph if glyph and _font_draws(glyph) else "") for name, glyph in zip(names, glyphs, strict=True)]


@functools.cache
def _font_draws(text: str) -> bool:
    """Whether matplotlib's default font has a glyph for every character of ``text``."""
    charmap = FT2Font(findfont(FontProperties())).get_charmap()
    return all(ord(char) in charmap for char in text)


def split_grid_figure(images: np.ndarray, labels: np.ndarray, meta: dict[str, Any], *, seed: int, per_row: int = 10, max_rows: int = 40, max_images: int = 40, title: str = "") -> Figure:
    """A seeded random selection of a prepared split: one row per class (``per_row`` of its images),
    or for text and unlabelled data ``max_images`` images (each titled with its string)."""
    check_images(images, f"split {meta.get('split', '')}")
    rng = np.random.default_rng(seed)
    kind = meta.get("label_kind")
    if not title:
        title = f"{meta.get('dataset', 'dataset')}, {meta.get('split', '')} split ({len(images):,} images): random selection"
    if kind == "class":
        names = [f"{name}  {glyph}" if glyph else name for name, glyph in class_row_labels(meta)]
        classes = np.arange(len(names)) if names else np.unique(labels)
        shown = classes[:max_rows]
        if len(shown) < len(classes):
            title += f", first {len(shown)} of {len(classes)} classes"
        rows = []
        for c in shown:
            members = np.flatnonzero(labels == c)
            if len(members):
                rows.append((c, images[np.sort(rng.choice(members, min(per_row, len(members)), replace=False))]))
        if not rows:
            raise DataError(f"split {meta.get('split', '')}: no image of any of the first {len(shown)} classes")
        return image_rows_figure([r for _, r in rows], title=title, row_labels=label_titles(np.array([c for c, _ in rows]), names, ()))
    picked = np.sort(rng.choice(len(images), min(max_images, len(images)), replace=False))
    # Wide images (CAPTCHA strings) get fewer to a row, so that each stays readable.
    cols = max(1, min(per_row, round(per_row * images.shape[1] / images.shape[2] * 1.5)))
    chosen = images[picked]
    rows = [chosen[i : i + cols] for i in range(0, len(chosen), cols)]
    cell_titles = None
    if kind == "text":
        texts = [str(t) for t in np.asarray(labels)[picked]]
        cell_titles = [texts[i : i + cols] for i in range(0, len(texts), cols)]
    return image_rows_figure(rows, title=title, cell_titles=cell_titles)
