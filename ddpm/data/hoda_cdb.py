"""Parser for the ``.cdb`` files of the Hoda Persian handwritten digits.

Format (all integers little-endian)
-----------------------------------
Header, exactly 1024 bytes:

====== ============ ==========================================================
offset size         field
====== ============ ==========================================================
0      uint16       year
2      uint8        month
3      uint8        day
4      uint8        W: fixed image width, 0 = every record carries its size
5      uint8        H: fixed image height, 0 = every record carries its size
6      uint32       TotalRec: number of records
10     128 x uint32 LetterCount[c]: number of records with label c
522    uint8        imgType: 0 = binary, run-length encoded (1 = grey, unsupported)
523    256 bytes    comment, NUL-terminated ASCII
779    245 bytes    reserved (zero)
====== ============ ==========================================================

Then TotalRec records, each:

- uint8 start marker 0xFF;
- uint8 label;
- uint8 width, uint8 height (only when the header's W and H are 0);
- uint16 ByteCount: the number of data bytes that follow;
- data: for each of the ``height`` rows, uint8 run lengths alternating background and ink, starting
  with background (a first run of 0 means the row starts with ink); the row ends as soon as its runs
  sum to ``width`` (no trailing zero run). The runs of all rows use exactly ByteCount bytes.

The file ends right after the last record. Decoded images are uint8 with ink 255 on background 0,
row 0 at the top. Every inconsistency is a :class:`~ddpm.errors.DataError` naming the file, the
record index and the byte offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddpm.errors import DataError

HEADER_SIZE = 1024
START_MARKER = 0xFF
INK = 255
_HEADER = struct.Struct("<HBBBBI128IB256s245s")
_BINARY_RLE = 0


@dataclass(frozen=True)
class CdbHeader:
    date: tuple[int, int, int]
    width: int
    height: int
    total_records: int
    letter_counts: tuple[int, ...]
    image_type: int
    comment: str


@dataclass(frozen=True)
class CdbFile:
    header: CdbHeader
    images: list[np.ndarray]  # variable-size uint8 (height, width), ink 255
    labels: np.ndarray  # int64 (TotalRec,)


def read_cdb(path: Path) -> CdbFile:
    """Decode every record of a Hoda ``.cdb`` file, checking the structure as it goes."""
    data = Path(path).read_bytes()
    header = _parse_header(path, data)
    images, labels = _parse_records(path, data, header)
    _check_label_counts(path, header, labels)
    return CdbFile(header, images, labels)


def check_cdb(path: Path) -> CdbHeader:
    """Check the header, record framing and label counts of a ``.cdb`` file without decoding its
    images: fast, so that every file of a dataset is checked before any is processed."""
    data = Path(path).read_bytes()
    header = _parse_header(path, data)
    _, labels = _parse_records(path, data, header, decode=False)
    _check_label_counts(path, header, labels)
    return header


def _check_label_counts(path: Path, header: CdbHeader, labels: np.ndarray) -> None:
    counts = np.bincount(labels, minlength=len(header.letter_counts))
    if tuple(int(c) for c in counts) != header.letter_counts:
        raise DataError(
            f"{path}: the header's per-label counts (offset 10) {_nonzero(header.letter_counts)} disagree "
            f"with the decoded records {_nonzero(tuple(counts))}"
        )


def _parse_header(path: Path, data: bytes) -> CdbHeader:
    if len(data) < HEADER_SIZE:
        raise DataError(f"{path}: truncated: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    year, month, day, width, height, total, *rest = _HEADER.unpack_from(data, 0)
    letter_counts, (image_type, comment, _reserved) = tuple(rest[:128]), rest[128:]
    if image_type != _BINARY_RLE:
        raise DataError(
            f"{path}: header imgType {image_type} at offset 522; only binary run-length images (0) are supported"
        )
    if (width == 0) != (height == 0):
        raise DataError(f"{path}: header fixed size {width}x{height} at offset 4: W and H must both be 0 or both set")
    if sum(letter_counts) != total:
        raise DataError(
            f"{path}: header per-label counts (offset 10) sum to {sum(letter_counts)}, "
            f"but TotalRec (offset 6) is {total}"
        )
    text = comment.split(b"\0", 1)[0].decode("ascii", errors="replace")
    return CdbHeader((year, month, day), width, height, total, letter_counts, image_type, text)


def _parse_records(path: Path, data: bytes, header: CdbHeader, decode: bool = True) -> tuple[list[np.ndarray], np.ndarray]:
    fixed_size = header.width != 0
    record_header = 4 if fixed_size else 6
    images: list[np.ndarray] = []
    labels = np.empty(header.total_records, dtype=np.int64)
    offset = HEADER_SIZE
    for index in range(header.total_records):
        where = f"{path}: record {index} at offset {offset}"
        if offset + record_header > len(data):
            raise DataError(
                f"{where}: truncated: the file ends after {len(data) - offset} of the record's "
                f"{record_header} header bytes (the header announces {header.total_records} records)"
            )
        if data[offset] != START_MARKER:
            raise DataError(f"{where}: start marker 0x{data[offset]:02X}, expected 0xFF")
        label = data[offset + 1]
        if label >= len(header.letter_counts):
            raise DataError(f"{where}: label {label} is outside the header's {len(header.letter_counts)} label counts")
        if fixed_size:
            width, height = header.width, header.height
            (byte_count,) = struct.unpack_from("<H", data, offset + 2)
        else:
            width, height, byte_count = struct.unpack_from("<BBH", data, offset + 2)
        if width == 0 or height == 0:
            raise DataError(f"{where}: empty image size {width}x{height}")
        start = offset + record_header
        end = start + byte_count
        if end > len(data):
            raise DataError(
                f"{where}: truncated: ByteCount {byte_count} needs data up to offset {end}, "
                f"but the file ends at {len(data)}"
            )
        if decode:
            images.append(_decode_rows(data[start:end], width, height, where, start))
        labels[index] = label
        offset = end
    if offset != len(data):
        raise DataError(
            f"{path}: {len(data) - offset} trailing bytes at offset {offset} after the last record "
            f"(record {header.total_records - 1}); the header's TotalRec {header.total_records} is wrong "
            f"or the file is damaged"
        )
    return images, labels


def _decode_rows(runs: bytes, width: int, height: int, where: str, start: int) -> np.ndarray:
    """Decode one record's run-length rows; ``start`` is the file offset of ``runs[0]``."""
    image = np.zeros((height, width), dtype=np.uint8)
    pos = 0
    for row in range(height):
        x, ink = 0, False
        while x < width:
            if pos == len(runs):
                raise DataError(
                    f"{where}: ByteCount {len(runs)} disagrees with the data: the runs end in row {row} "
                    f"of {height} (offset {start + pos})"
                )
            run = runs[pos]
            if x + run > width:
                raise DataError(
                    f"{where}: run length {run} at offset {start + pos} overruns row {row}: "
                    f"{x} + {run} > width {width}"
                )
            if ink:
                image[row, x : x + run] = INK
            x += run
            ink = not ink
            pos += 1
    if pos != len(runs):
        raise DataError(
            f"{where}: ByteCount {len(runs)} disagrees with the data: the {height} rows use {pos} bytes "
            f"(the extra bytes start at offset {start + pos})"
        )
    return image


def _nonzero(counts: tuple[int, ...]) -> dict[int, int]:
    return {label: int(n) for label, n in enumerate(counts) if n}
