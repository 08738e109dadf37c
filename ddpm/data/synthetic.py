"""Tiny procedurally drawn data sets for offline smoke runs, fully determined by a seed.

- digits: ten classes of simple grey shapes (ring, bar, cross ...), jittered in position, size,
  stroke and brightness, drawn 4x larger and shrunk for anti-aliasing;
- letters: a CDB 5.0 file (the Hoda letters' format) of five binary letter shapes that differ in
  their dots, like Be, Pe, Te and The, so that offline runs go through the real letters' parser;
- text: random strings over a small alphabet, written with Pillow's built-in bitmap font (identical
  on every machine, no font files), one jittered character per 16-pixel cell, with a faint
  strike-through line like a CAPTCHA's.

All three draw bright ink on a black background.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from ddpm.data.imaging import fit_inside, to_array
from ddpm.data.persian_letters_cdb import encode_letters_cdb

SUPERSAMPLE = 4
TEXT_CELL = 16  # pixels per character before fitting into the requested size

# Ten classes, each drawn from unit coordinates in [-1, 1] around a jittered centre.
SHAPES: dict[str, tuple[str, tuple[tuple[float, ...], ...]]] = {
    "ring": ("ellipse", ()),
    "disk": ("disk", ()),
    "vbar": ("lines", ((0, -1, 0, 1),)),
    "hbar": ("lines", ((-1, 0, 1, 0),)),
    "plus": ("lines", ((0, -1, 0, 1), (-1, 0, 1, 0))),
    "cross": ("lines", ((-1, -1, 1, 1), (-1, 1, 1, -1))),
    "square": ("polygon", ((-1, -1), (1, -1), (1, 1), (-1, 1))),
    "triangle": ("polygon", ((0, -1), (1, 1), (-1, 1))),
    "slash": ("lines", ((-1, 1, 1, -1),)),
    "diamond": ("polygon", ((0, -1), (1, 0), (0, 1), (-1, 0))),
}
SHAPE_NAMES = tuple(SHAPES)


def _draw_shape(
    draw: ImageDraw.ImageDraw, shape: str, centre: tuple[float, float], radius: float, stroke: int, ink: int
) -> None:
    kind, coords = SHAPES[shape]

    def at(u: float, v: float) -> tuple[float, float]:
        return centre[0] + u * radius, centre[1] + v * radius

    if kind == "ellipse":
        draw.ellipse((*at(-1, -1), *at(1, 1)), outline=ink, width=stroke)
    elif kind == "disk":
        draw.ellipse((*at(-1, -1), *at(1, 1)), fill=ink)
    elif kind == "lines":
        for u0, v0, u1, v1 in coords:
            draw.line((*at(u0, v0), *at(u1, v1)), fill=ink, width=stroke)
    else:
        draw.polygon([at(u, v) for u, v in coords], outline=ink, width=stroke)


def synthetic_digits(count: int, size: tuple[int, int], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``count`` grey images (N, H, W, 1) with balanced labels (N,) over :data:`SHAPE_NAMES`."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % len(SHAPES)).astype(np.int64)
    height, width = size[0] * SUPERSAMPLE, size[1] * SUPERSAMPLE
    side = min(height, width)
    images = np.empty((count, *size, 1), dtype=np.uint8)
    for i, label in enumerate(labels):
        canvas = Image.new("L", (width, height), 0)
        x, y = (np.array([width, height]) / 2 + rng.uniform(-0.1, 0.1, 2) * side).tolist()
        radius = rng.uniform(0.25, 0.38) * side
        stroke = max(1, round(rng.uniform(0.07, 0.13) * side))
        ink = int(rng.integers(190, 256))
        _draw_shape(ImageDraw.Draw(canvas), SHAPE_NAMES[label], (x, y), radius, stroke, ink)
        images[i] = to_array(canvas.resize((size[1], size[0]), Image.Resampling.BOX))
    return images, labels


def synthetic_text(
    count: int, alphabet: str, length: int, size: tuple[int, int], seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``count`` grey images (N, H, W, 1) of random texts, and the texts (N,) as a unicode array."""
    rng = np.random.default_rng(seed)
    font = ImageFont.load_default_imagefont()
    chars = np.array(list(alphabet))
    texts = np.array(["".join(rng.choice(chars, length)) for _ in range(count)], dtype=f"<U{length}")
    width = TEXT_CELL * length
    images = np.empty((count, *size, 1), dtype=np.uint8)
    for i, text in enumerate(texts):
        canvas = Image.new("L", (width, TEXT_CELL), 0)
        draw = ImageDraw.Draw(canvas)
        for k, char in enumerate(text):
            dx, dy = rng.integers(-2, 3), rng.integers(-1, 3)
            draw.text((k * TEXT_CELL + 5 + dx, 2 + dy), char, fill=int(rng.integers(200, 256)), font=font)
        y0, y1 = rng.integers(3, TEXT_CELL - 3, 2)
        draw.line((0, int(y0), width - 1, int(y1)), fill=int(rng.integers(90, 140)), width=1)
        images[i] = to_array(fit_inside(canvas, size))
    return images, texts


# Letters: the first five classes of the Hoda letters, one body told apart by its dots, as in the
# real data: a stroke (Alef), and a bowl with 1 dot below (Be), 3 below (Pe), 2 above (Te), 3 above (The).
LETTER_DOTS: dict[str, tuple[int, str] | None] = {
    "Alef": None,
    "Be": (1, "below"),
    "Pe": (3, "below"),
    "Te": (2, "above"),
    "The": (3, "above"),
}
LETTER_NAMES = tuple(LETTER_DOTS)


def synthetic_letters_cdb(count: int, seed: int) -> bytes:
    """A CDB 5.0 file of ``count`` binary, variable-size letters with balanced labels over :data:`LETTER_NAMES`."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(count) % len(LETTER_NAMES)).astype(np.int64)
    images = [_draw_letter(LETTER_NAMES[label], rng) for label in labels]
    return encode_letters_cdb(images, labels, comment="synthetic letters (ddpm-pipeline)")


def _draw_letter(name: str, rng: np.random.Generator) -> np.ndarray:
    """One binary (h, w) letter, ink 255, tightly cropped like the real records."""
    stroke, dot = int(rng.integers(2, 4)), int(rng.integers(2, 4))
    dots = LETTER_DOTS[name]
    if dots is None:
        height, width = int(rng.integers(14, 27)), stroke + int(rng.integers(0, 4))
        canvas = Image.new("L", (width, height), 0)
        ImageDraw.Draw(canvas).line((width - 1 - stroke // 2, 0, stroke // 2, height - 1), fill=255, width=stroke)
    else:
        number, side = dots
        width, body = int(rng.integers(14, 27)), int(rng.integers(6, 11))
        band = (2 if number == 3 else 1) * (dot + 1) + 1  # room for the dots
        top = band if side == "above" else 0
        canvas = Image.new("L", (width, band + body), 0)
        draw = ImageDraw.Draw(canvas)
        draw.arc((0, top - body, width - 1, top + body - 1), 0, 180, fill=255, width=stroke)  # the lower half: a bowl
        centre = width // 2 + int(rng.integers(-2, 3))
        first_row = 0 if side == "above" else body + 1
        for x, y in _dot_places(number, side, dot):
            left, upper = centre + x, first_row + y
            draw.rectangle((left, upper, left + dot - 1, upper + dot - 1), fill=255)
    return np.where(np.asarray(canvas) >= 128, 255, 0).astype(np.uint8)


def _dot_places(number: int, side: str, dot: int) -> list[tuple[int, int]]:
    """Top-left corners of the dots relative to (centre, first row of the dot band)."""
    step = dot + 1
    if number == 1:
        return [(-dot // 2, 0)]
    if number == 2:
        return [(-step, 0), (1, 0)]
    pair, single = [(-step, 0), (1, 0)], [(-dot // 2, 0)]
    if side == "above":  # one dot over two
        return [(x, 0) for x, _ in single] + [(x, step) for x, _ in pair]
    return [(x, 0) for x, _ in pair] + [(x, step) for x, _ in single]  # two dots over one
