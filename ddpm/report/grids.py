"""Image grids: rows of same-sized images with row labels and titles, and the sample grid PNG.

:func:`image_rows_figure` is the one layout behind every image figure of the report (sample grids,
forward-process strips, denoiser panels, samples by step count): one axes per row showing the
row's images tiled side by side, so a grid of a hundred images costs a handful of axes.
:func:`write_sample_grid` arranges a sample set (or a prepared split) by what each image shows.
"""

from __future__ import annotations

import os
from typing import Sequence

import numpy as np
from matplotlib.figure import Figure

from ddpm.errors import DataError
from ddpm.images import check_images
from ddpm.report.canvas import new_figure, save_png

BACKGROUND = 128  # mid-grey between images: neither ink nor background of any dataset
_MAX_WIDTH_INCHES = 12.0
_MAX_CELL_HEIGHT_INCHES = 0.8
_MAX_CELL_WIDTH_INCHES = 1.6
_TITLE_INCHES = 0.35
_CELL_TITLE_INCHES = 0.2
_ROW_GAP_INCHES = 0.05
_FONT_SIZE = 8


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
) -> Figure:
    """A figure of image rows: ``rows[i]`` is uint8 (K_i, H, W, C); every image has the same H, W, C.

    ``row_labels`` go left of the rows, ``column_titles`` above the first row, ``cell_titles[i][k]``
    above image k of row i (e.g. the string a text-conditional image was asked to show).
    """
    if not rows:
        raise DataError("an image figure needs at least one row of images")
    shape = rows[0].shape[1:]
    if any(row.shape[1:] != shape or len(row) == 0 for row in rows):
        raise DataError(f"every row needs images of one shape {shape}; got {[row.shape for row in rows]}")
    height, width = shape[:2]
    cols = max(len(row) for row in rows)
    if column_titles is not None:
        cols = max(cols, len(column_titles))
    label_inches = 0.0 if not row_labels else min(2.0, 0.2 + 0.075 * max(len(label) for label in row_labels))
    gap = max(1, round(max(height, width) / 20))  # visible between large images too
    strip_px = (height, cols * (width + gap) - gap)
    # One inch scale for all images: as large as the per-cell caps allow, within the page width.
    scale = min(_MAX_CELL_HEIGHT_INCHES / height, _MAX_CELL_WIDTH_INCHES / width, (_MAX_WIDTH_INCHES - label_inches - 0.2) / strip_px[1])
    strip_h, strip_w = strip_px[0] * scale, strip_px[1] * scale
    band = _CELL_TITLE_INCHES if cell_titles is not None else 0.0
    top = (_TITLE_INCHES if title else 0.1) + (_CELL_TITLE_INCHES if column_titles is not None else 0.0)
    fig_w = label_inches + strip_w + 0.2
    fig_h = top + len(rows) * (band + strip_h + _ROW_GAP_INCHES) + 0.05
    figure = new_figure(fig_w, fig_h, constrained=False)
    if title:
        figure.suptitle(title, fontsize=_FONT_SIZE + 1, y=1 - 0.08 / fig_h, va="top")
    y = fig_h - top
    for i, row in enumerate(rows):
        y -= band + strip_h
        ax = figure.add_axes((label_inches / fig_w, y / fig_h, strip_w / fig_w, strip_h / fig_h))
        y -= _ROW_GAP_INCHES
        canvas = tile_images(row, cols, gap=gap)
        ax.imshow(canvas[..., 0] if canvas.shape[-1] == 1 else canvas, cmap="gray", vmin=0, vmax=255, interpolation="nearest", aspect="auto")
        ax.set_axis_off()
        if row_labels is not None:
            ax.text(-0.01, 0.5, row_labels[i], transform=ax.transAxes, ha="right", va="center", fontsize=_FONT_SIZE)
        above = cell_titles[i] if cell_titles is not None else column_titles if (i == 0 and column_titles is not None) else None
        for k, text in enumerate(above or ()):
            # Data coordinates: y = -0.5 is the top edge of the strip (imshow puts row 0 on top).
            ax.text(k * (width + gap) + width / 2, -0.5, text, ha="center", va="bottom", fontsize=_FONT_SIZE - 1, family="monospace", clip_on=False)
    return figure


def write_sample_grid(
    path: str | os.PathLike,
    images: np.ndarray,
    labels: np.ndarray | None,
    class_names: Sequence[str],
    title: str,
    *,
    max_images: int = 100,
    per_row: int = 10,
    max_rows: int = 20,
) -> None:
    """Write a grid PNG of ``images`` (uint8 NHWC), arranged by what each image shows, atomically.

    Integer ``labels`` (classes): one row per class present, titled with its name from
    ``class_names`` (its number when there are no names), showing up to ``per_row`` of its images
    and at most ``max_rows`` classes. Text ``labels``: the first ``max_images`` images, ``per_row``
    to a row, each titled with its string. No labels: a plain grid of the first ``max_images``.
    """
    check_images(images, str(path))
    if labels is not None and len(labels) != len(images):
        raise DataError(f"{path}: {len(images)} images but {len(labels)} labels; pass one label per image")
    if labels is not None and np.asarray(labels).dtype.kind in "iu":
        figure = _class_rows_figure(images, np.asarray(labels), class_names, title, per_row, max_rows, str(path))
    else:
        shown = images[:max_images]
        rows = [shown[i : i + per_row] for i in range(0, len(shown), per_row)]
        cell_titles = None
        if labels is not None:
            texts = [str(text) for text in np.asarray(labels)[:max_images]]
            cell_titles = [texts[i : i + per_row] for i in range(0, len(texts), per_row)]
        figure = image_rows_figure(rows, title=title, cell_titles=cell_titles)
    save_png(figure, path)


def _class_rows_figure(
    images: np.ndarray, labels: np.ndarray, class_names: Sequence[str], title: str, per_row: int, max_rows: int, source: str
) -> Figure:
    present = np.unique(labels)
    if class_names and (present.min() < 0 or present.max() >= len(class_names)):
        raise DataError(
            f"{source}: class labels span {present.min()}..{present.max()} but there are {len(class_names)} class names; "
            "pass the class names of the model's dataset"
        )
    shown = present[:max_rows]
    if len(shown) < len(present):
        title += f" (first {len(shown)} of {len(present)} classes)"
    rows = [images[np.flatnonzero(labels == c)[:per_row]] for c in shown]
    return image_rows_figure(rows, title=title, row_labels=label_titles(shown, class_names, ()))
