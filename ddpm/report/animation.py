"""The denoising-trajectory GIF: per frame, the batch's x_t beside the x0 predicted from it.

GIF frames of noise barely compress (about a byte per pixel), so the file size (a few hundred KB at
most) is kept down by the number of pixels: at most :data:`PANEL_PIXELS` per panel (fewer images
when they are large or in colour), at most ``max_frames`` frames picked evenly along the trajectory,
and few, undithered palette levels. Tiny images are enlarged by whole factors.
"""

from __future__ import annotations

import math
import os
from typing import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont, ImageOps

from ddpm.errors import DataError
from ddpm.io import atomic_path
from ddpm.report.grids import tile_images

PANEL_PIXELS = 128 * 128
BITS = 5
MIN_DISPLAY_HEIGHT = 32  # images smaller than this are enlarged (nearest neighbour)
_GAP = 8
_LINE = 14  # pixels per header line
_TEXT = 235
_BACKGROUND = 24


def write_trajectory_gif(
    path: str | os.PathLike,
    x_t: np.ndarray,
    x0: np.ndarray,
    frame_labels: Sequence[str],
    *,
    image_labels: Sequence[str] | None = None,
    max_images: int = 16,
    max_frames: int = 20,
    frame_ms: int = 150,
    hold_ms: int = 2000,
) -> None:
    """Write the GIF of a trajectory: ``x_t`` and ``x0`` uint8 (F, B, H, W, C), one label per frame.

    Each frame shows its label (e.g. the timestep) on top, then the first images of the batch at x_t
    (left) and their predicted x0 (right); ``image_labels`` (what each image was asked to show) are
    listed under the frame label. The last frame stays ``hold_ms``.
    """
    if x_t.shape != x0.shape or x_t.ndim != 5 or x_t.dtype != np.uint8 or x0.dtype != np.uint8 or x_t.shape[-1] not in (1, 3):
        raise DataError(f"{path}: x_t and x0 must both be uint8 (frames, batch, H, W, 1 or 3), got {x_t.dtype} {x_t.shape} and {x0.dtype} {x0.shape}")
    if len(frame_labels) != len(x_t) or len(x_t) == 0:
        raise DataError(f"{path}: {len(x_t)} frames but {len(frame_labels)} frame labels; pass one label per frame")
    frames, batch, height, width, _ = x_t.shape
    scale = max(1, MIN_DISPLAY_HEIGHT // height)
    # A colour pixel costs about twice a grey one after palette quantization, so colour gets half the pixels.
    budget = PANEL_PIXELS // (1 if x_t.shape[-1] == 1 else 2)
    count = max(1, min(batch, max_images, budget // (height * width * scale * scale)))
    # Columns for a roughly square panel, whatever the images' aspect ratio.
    cols = max(1, min(count, round(math.sqrt(count * height / width))))
    if image_labels is not None and len(image_labels) != batch:
        raise DataError(f"{path}: {batch} images but {len(image_labels)} image labels; pass one label per image")
    caption = "" if image_labels is None else "asked for: " + ", ".join(image_labels[:count])
    picked = np.unique(np.round(np.linspace(0, frames - 1, min(frames, max_frames))).astype(int))
    font = ImageFont.load_default()
    images = [
        _palette(_frame(_panel(x_t[f, :count], cols, scale), _panel(x0[f, :count], cols, scale), frame_labels[f], caption, font))
        for f in picked
    ]
    durations = [frame_ms] * (len(images) - 1) + [hold_ms]
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=durations, loop=0)


def _panel(images: np.ndarray, cols: int, scale: int) -> Image.Image:
    canvas = tile_images(images, cols, background=_BACKGROUND)
    panel = Image.fromarray(canvas[..., 0] if canvas.shape[-1] == 1 else canvas)
    return panel.resize((panel.width * scale, panel.height * scale), Image.Resampling.NEAREST) if scale > 1 else panel


def _frame(left: Image.Image, right: Image.Image, label: str, caption: str, font: ImageFont.ImageFont) -> Image.Image:
    header = _LINE * (3 if caption else 2)
    width = max(left.width + _GAP + right.width, 160) + 2 * _GAP
    frame = Image.new(left.mode, (width, header + left.height + _GAP), _BACKGROUND if left.mode == "L" else (_BACKGROUND,) * 3)
    draw = ImageDraw.Draw(frame)
    ink = _TEXT if left.mode == "L" else (_TEXT,) * 3
    draw.text((_GAP, 2), label, fill=ink, font=font)
    if caption:
        draw.text((_GAP, 2 + _LINE), _fit(caption, width - 2 * _GAP, draw, font), fill=ink, font=font)
    x_right = _GAP + left.width + _GAP
    draw.text((_GAP, header - _LINE + 1), "x_t", fill=ink, font=font)
    draw.text((x_right, header - _LINE + 1), "predicted x_0", fill=ink, font=font)
    frame.paste(left, (_GAP, header))
    frame.paste(right, (x_right, header))
    return frame


def _palette(frame: Image.Image) -> Image.Image:
    """A paletted frame of few levels, undithered: noise of fewer symbols compresses better."""
    if frame.mode == "L":
        return ImageOps.posterize(frame, BITS)
    return frame.quantize(colors=2**BITS * 4, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)


def _fit(text: str, width: int, draw: ImageDraw.ImageDraw, font: ImageFont.ImageFont) -> str:
    """``text`` shortened with an ellipsis to fit ``width`` pixels."""
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "...", font=font) > width:
        text = text[:-1]
    return text + "..."
