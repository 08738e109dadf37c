"""A sample grid PNG of a prepared split, to check a dataset by eye.

Class-labelled data: one row per class (the first ``per_row`` images of that class), labelled with
the class name, and with the class's glyph (a letter) where the sidecar has one and the font can draw
it. Text data: a grid of images, each titled with its string. Unlabelled data: a plain
grid. Images are shown at their stored orientation, grey ones with black = 0.
"""

from __future__ import annotations

import os

import functools

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont
from matplotlib.axes import Axes
from matplotlib.ft2font import FT2Font
from matplotlib.transforms import Transform, offset_copy

from ddpm.data.prepared_files import Split
from ddpm.io import atomic_path

_DPI = 100
_MAX_WIDTH_INCHES = 12.0
_LABEL_INCHES = 1.6  # room for class names (and glyphs) left of the rows
_TITLE_INCHES = 0.4
_GLYPH_POINTS = 14  # a letter's glyph beside its row, large enough to show its dots
_LABEL_GAP_POINTS = 4


def write_grid(
    split: Split, path: str | os.PathLike, *, per_row: int = 10, max_rows: int = 40, max_images: int = 48
) -> None:
    """Write the sample grid of ``split`` to ``path`` (PNG), atomically.

    ``per_row`` images per class row (at most ``max_rows`` classes); text and unlabelled data show
    their first ``max_images`` images, at most ``per_row`` to a row.
    """
    meta = split.meta
    title = f"{meta['dataset']} ({meta['source']}), {meta['split']}: {meta['count']} images"
    if meta["label_kind"] == "class":
        figure = _class_rows(split, title, per_row, max_rows)
    else:
        titles = [str(text) for text in split.labels] if meta["label_kind"] == "text" else None
        figure = _plain_grid(split.images[:max_images], titles, title, per_row)
    FigureCanvasAgg(figure)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png", dpi=_DPI)


def _class_rows(split: Split, title: str, per_row: int, max_rows: int) -> Figure:
    labels = class_row_labels(split.meta)
    shown = labels[:max_rows]
    if len(shown) < len(labels):
        title += f"; first {len(shown)} of {len(labels)} classes"
    cell_h, cell_w = _cell_inches(split.images)
    width = _LABEL_INCHES + per_row * cell_w + 0.2
    height = _TITLE_INCHES + len(shown) * cell_h * 1.1 + 0.1
    figure = Figure(figsize=(width, height))
    figure.suptitle(title, fontsize=9, y=1 - 0.1 / height, va="top")
    axes = figure.subplots(len(shown), 1, squeeze=False)[:, 0]
    for label, (ax, (name, glyph)) in enumerate(zip(axes, shown, strict=True)):
        members = np.flatnonzero(split.labels == label)[:per_row]
        strip = _tile(split.images[members], 1, per_row)
        ax.imshow(strip, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_xticks([])
        ax.set_yticks([])
        gap = _LABEL_GAP_POINTS
        if glyph:
            ax.text(0, 0.5, glyph, transform=_left_of(ax, gap), ha="right", va="center", fontsize=_GLYPH_POINTS)
            gap += 1.5 * _GLYPH_POINTS
        ax.text(0, 0.5, name, transform=_left_of(ax, gap), ha="right", va="center", fontsize=8)
    figure.subplots_adjust(
        left=_LABEL_INCHES / width, right=1 - 0.1 / width,
        top=1 - _TITLE_INCHES / height, bottom=0.1 / height, hspace=0.1,
    )
    return figure


def class_row_labels(meta: dict) -> list[tuple[str, str]]:
    """(name, glyph) of every class of a split's sidecar; the glyph is "" where there is none or the
    default font cannot draw it."""
    names = meta["class_names"]
    glyphs = meta.get("class_glyphs") or [""] * len(names)
    return [(name, glyph if glyph and _font_draws(glyph) else "") for name, glyph in zip(names, glyphs, strict=True)]


def _left_of(ax: Axes, points: float) -> Transform:
    """Axes coordinates shifted ``points`` to the left: text placed there ends that far from the axes."""
    return offset_copy(ax.transAxes, ax.figure, x=-points, units="points")


@functools.cache
def _font_draws(text: str) -> bool:
    """Whether matplotlib's default font has a glyph for every character of ``text``."""
    charmap = FT2Font(findfont(FontProperties())).get_charmap()
    return all(ord(char) in charmap for char in text)


def _plain_grid(images: np.ndarray, titles: list[str] | None, title: str, per_row: int) -> Figure:
    cell_h, cell_w = _cell_inches(images)
    cell_h += 0.3 if titles else 0.05
    cols = max(1, min(per_row, len(images), int(_MAX_WIDTH_INCHES // (cell_w + 0.1))))
    rows = -(-len(images) // cols)
    figure = Figure(figsize=(cols * (cell_w + 0.1), 0.6 + rows * cell_h))
    figure.suptitle(title, fontsize=9)
    for i in range(len(images)):
        ax = figure.add_subplot(rows, cols, i + 1)
        ax.imshow(_display(images[i]), cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        ax.set_axis_off()
        if titles:
            ax.set_title(titles[i], fontsize=8, family="monospace")
    return figure


def _tile(images: np.ndarray, rows: int, cols: int) -> np.ndarray:
    """Images (N, H, W, C) side by side on a mid-grey background, 1-pixel gaps."""
    height, width, channels = images.shape[1:]
    canvas = np.full((rows * (height + 1) - 1, cols * (width + 1) - 1, channels), 128, dtype=np.uint8)
    for i, image in enumerate(images[: rows * cols]):
        r, c = divmod(i, cols)
        canvas[r * (height + 1) : r * (height + 1) + height, c * (width + 1) : c * (width + 1) + width] = image
    return _display(canvas)


def _display(image: np.ndarray) -> np.ndarray:
    return image[..., 0] if image.shape[-1] == 1 else image


def _cell_inches(images: np.ndarray) -> tuple[float, float]:
    """Display (height, width) of one image: aspect kept, at most 0.8 inch high and 1.6 wide."""
    height, width = images.shape[1:3]
    scale = min(0.8 / height, 1.6 / width)
    return height * scale, width * scale
