"""MNIST-style normalisation of variable-size binary digit images (used for Hoda).

As for MNIST: crop to the ink, scale (aspect kept, anti-aliased) to fit a box of 20/28 of the output
size, then place it so that its centre of mass is at the centre of the output. Ink stays bright.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from ddpm.data.imaging import RESAMPLE

BOX_FRACTION = 20 / 28  # MNIST's 20x20 box in a 28x28 field


def digit_box(size: tuple[int, int]) -> tuple[int, int]:
    """The (H, W) box the digit is scaled into for an output of ``size``: 20x20 for 28x28."""
    return max(1, round(size[0] * BOX_FRACTION)), max(1, round(size[1] * BOX_FRACTION))


def normalise_digit(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Normalise a (h, w) uint8 image, ink bright on 0, to a uint8 (H, W) image like MNIST's."""
    height, width = size
    rows = np.flatnonzero(image.any(axis=1))
    cols = np.flatnonzero(image.any(axis=0))
    if rows.size == 0:
        return np.zeros(size, dtype=np.uint8)
    ink = image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]

    box_h, box_w = digit_box(size)
    scale = min(box_h / ink.shape[0], box_w / ink.shape[1])
    new_h = max(1, min(box_h, round(ink.shape[0] * scale)))
    new_w = max(1, min(box_w, round(ink.shape[1] * scale)))
    scaled = Image.fromarray(ink.astype(np.float32)).resize((new_w, new_h), RESAMPLE)
    digit = np.clip(np.asarray(scaled), 0, 255)

    total = digit.sum()
    if total <= 0:
        return np.zeros(size, dtype=np.uint8)
    centre_y = (digit.sum(axis=1) @ np.arange(new_h)) / total
    centre_x = (digit.sum(axis=0) @ np.arange(new_w)) / total
    # Integer shift (no resampling blur); clamped so that the box never leaves the field.
    top = int(np.clip(round((height - 1) / 2 - centre_y), 0, height - new_h))
    left = int(np.clip(round((width - 1) / 2 - centre_x), 0, width - new_w))
    out = np.zeros(size, dtype=np.float32)
    out[top : top + new_h, left : left + new_w] = digit
    return np.rint(out).astype(np.uint8)
