"""Writer of tiny "CDB 5.0" files (the Hoda letters' format) for the tests, written independently of
the parser so that it checks the parser rather than mirrors it, with knobs for every damage."""

from __future__ import annotations

import struct
from collections.abc import Sequence

import numpy as np

HEADER_SIZE = 1280
SIGNATURE = b"CDB 5.0"
PUBLISHED_SHORTFALL = 2  # the published files' ByteCount is 2 less than the run bytes that follow


def row_runs(image: np.ndarray) -> bytes:
    """Run lengths of a binary (h, w) image, ink > 0: per row, background first, stop when the row is full."""
    runs = bytearray()
    for row in image > 0:
        x, ink = 0, False
        while x < len(row):
            end = x
            while end < len(row) and row[end] == ink:
                end += 1
            runs.append(end - x)
            x, ink = end, not ink
    return bytes(runs)


def encode_letters_cdb(
    images: Sequence[np.ndarray],
    labels: Sequence[int],
    *,
    fixed_size: tuple[int, int] | None = None,
    letter_counts: Sequence[int] | None = None,
    total: int | None = None,
    signature: bytes = SIGNATURE,
    byte_count_shortfall: int = PUBLISHED_SHORTFALL,
) -> bytes:
    """A CDB 5.0 file. ``fixed_size`` (W, H) puts the size in the header instead of every record;
    ``letter_counts`` and ``total`` override the header's (true) counts."""
    counts = list(letter_counts) if letter_counts is not None else np.bincount(labels, minlength=64).tolist()
    width, height = fixed_size or (0, 0)
    comment = b"tiny test file".ljust(512, b"\0")
    header = (
        signature
        + struct.pack("<HBBHHIH", 2010, 10, 29, width, height, len(images) if total is None else total, 64)
        + struct.pack("<64I", *counts)
        + bytes([0])
        + comment
        + bytes(490)
    )
    assert len(header) == HEADER_SIZE
    records = bytearray()
    for image, label in zip(images, labels, strict=True):
        runs = row_runs(image)
        size = b"" if fixed_size else struct.pack("<HH", image.shape[1], image.shape[0])
        records += struct.pack("<HHH", 0xFFFF, label, 0) + size + struct.pack("<H", len(runs) - byte_count_shortfall)
        records += runs
    return header + bytes(records)


def record_offsets(images: Sequence[np.ndarray], *, fixed_size: bool = False) -> list[int]:
    """Byte offset of every record of the file :func:`encode_letters_cdb` writes for ``images``."""
    offsets, offset = [], HEADER_SIZE
    for image in images:
        offsets.append(offset)
        offset += (8 if fixed_size else 12) + len(row_runs(image))
    return offsets


def letter_images(count: int, seed: int = 0) -> list[np.ndarray]:
    """Binary (0/255) images of varying size: a bar with a dot, some rows starting with ink."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        h, w = int(rng.integers(5, 20)), int(rng.integers(3, 15))
        image = np.zeros((h, w), dtype=np.uint8)
        image[h // 2 :, : max(1, w // 2)] = 255
        image[0, w - 1] = 255
        images.append(image)
    return images
