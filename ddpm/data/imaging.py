"""Decoding and resizing single images with Pillow, with errors that name the offending file."""

from __future__ import annotations

import io
import re
import warnings
from pathlib import Path

import numpy as np
from PIL import Image

from ddpm.errors import DataError

RESAMPLE = Image.Resampling.LANCZOS  # anti-aliased when shrinking


def decode_image(data: bytes, name: str, mode: str) -> Image.Image:
    """Decode encoded image bytes (``name`` is for the error message) and convert to ``mode``."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow names the in-memory buffer (<_io.BytesIO object at 0x...>), not the file.
        detail = re.sub(r"\s*<_io\.BytesIO object at 0x[0-9a-fA-F]+>", "", str(exc))
        raise DataError(f"{name}: the image does not decode ({detail}); replace or remove the file") from exc
    return image.convert(mode)


def read_image(path: Path, mode: str) -> Image.Image:
    return decode_image(path.read_bytes(), str(path), mode)


def fit_inside(image: Image.Image, size: tuple[int, int], fill: int = 0) -> Image.Image:
    """Scale to fit inside ``size`` (H, W) keeping the aspect ratio; centre on a ``fill`` background."""
    height, width = size
    scale = min(height / image.height, width / image.width)
    new_w = max(1, min(width, round(image.width * scale)))
    new_h = max(1, min(height, round(image.height * scale)))
    canvas = Image.new(image.mode, (width, height), fill)
    canvas.paste(image.resize((new_w, new_h), RESAMPLE), ((width - new_w) // 2, (height - new_h) // 2))
    return canvas


def fill_and_crop(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Scale to cover ``size`` (H, W) keeping the aspect ratio, then crop the centre."""
    height, width = size
    scale = max(height / image.height, width / image.width)
    new_w = max(width, round(image.width * scale))
    new_h = max(height, round(image.height * scale))
    left, top = (new_w - width) // 2, (new_h - height) // 2
    return image.resize((new_w, new_h), RESAMPLE).crop((left, top, left + width, top + height))


def to_array(image: Image.Image) -> np.ndarray:
    """uint8 (H, W, C) array of an ``L`` or ``RGB`` image."""
    array = np.asarray(image, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array
