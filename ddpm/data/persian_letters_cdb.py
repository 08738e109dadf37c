"""Parser for the "CDB 5.0" ``.cdb`` files of the Hoda Persian handwritten letters (characters), and
a writer of such files for synthetic data.

Not the layout of the Hoda digits' files (:mod:`ddpm.data.hoda_cdb`): a signature, a 1280-byte
header, uint16 record fields and a ByteCount that cannot be trusted.

Format (all integers little-endian)
-----------------------------------
Header, exactly 1280 bytes:

====== ============ ==========================================================
offset size         field
====== ============ ==========================================================
0      7 bytes      signature ``CDB 5.0`` (ASCII)
7      uint16       year
9      uint8        month
10     uint8        day
11     uint16       W: fixed image width, 0 = every record carries its size
13     uint16       H: fixed image height, 0 = every record carries its size
15     uint32       TotalRec: number of records
19     uint16       nMaxCount: number of label slots in use (at most 64)
21     64 x uint32  LetterCount[c]: number of records with label c
277    uint8        imgType: 0 = binary, run-length encoded (1 = grey, unsupported)
278    512 bytes    comment, NUL-padded ASCII
790    490 bytes    reserved
====== ============ ==========================================================

Then TotalRec records, each:

- uint16 start marker 0xFFFF, uint16 label, uint16 confidence;
- uint16 width, uint16 height (only when the header's W and H are 0);
- uint16 ByteCount, not used: in the published files it is 2 less than the run bytes that follow;
- for each of the ``height`` rows, uint8 run lengths alternating background and ink, starting with
  background (a first run of 0 means the row starts with ink); the row ends as soon as its runs
  sum to ``width``. Records are therefore found by walking the rows.

The file ends right after the last record. The header's classes are the labels whose LetterCount
is not 0. Decoded images are uint8 with ink 255 on background 0 (the inverse of the original MATLAB
reader), row 0 at the top. Every inconsistency is a :class:`~ddpm.errors.DataError` naming the file
and the byte offset (and the record, inside one).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ddpm.errors import DataError

SIGNATURE = b"CDB 5.0"
HEADER_SIZE = 1280
LABEL_SLOTS = 64
START_MARKER = 0xFFFF
INK = 255
HEADER = struct.Struct(f"<{len(SIGNATURE)}sHBBHHIH{LABEL_SLOTS}IB512s490s")
RECORD_START = struct.Struct("<HHH")  # start marker, label, confidence
RECORD_SIZE = struct.Struct("<HH")  # width, height: only in variable-size files
BYTE_COUNT = struct.Struct("<H")
BINARY_RLE = 0
_PUBLISHED_BYTE_COUNT_SHORTFALL = 2
# Offsets of the header fields that errors name.
_FIXED_SIZE_AT, _TOTAL_AT, _SLOTS_AT, _COUNTS_AT, _IMAGE_TYPE_AT = 11, 15, 19, 21, 277


@dataclass(frozen=True)
class LettersHeader:
    date: tuple[int, int, int]
    width: int  # 0: variable size, carried by every record
    height: int
    total_records: int
    letter_counts: tuple[int, ...]  # LABEL_SLOTS counts
    image_type: int
    comment: str

    @property
    def classes(self) -> tuple[int, ...]:
        """The labels the header announces records of."""
        return tuple(label for label, count in enumerate(self.letter_counts) if count)


@dataclass(frozen=True)
class LettersFile:
    header: LettersHeader
    images: list[np.ndarray]  # variable-size uint8 (height, width), ink 255
    labels: np.ndarray  # int64 (TotalRec,)


def read_letters_cdb(path: Path) -> LettersFile:
    """Decode every record of a CDB 5.0 file, checking its structure as it goes."""
    return parse_letters_cdb(Path(path).read_bytes(), str(path))


def parse_letters_cdb(data: bytes, name: str) -> LettersFile:
    """Decode the bytes of a CDB 5.0 file; ``name`` (its path) starts every error message."""
    header = _parse_header(name, data)
    images, labels = _parse_records(name, data, header)
    counts = tuple(int(c) for c in np.bincount(labels, minlength=LABEL_SLOTS))
    if counts != header.letter_counts:
        raise DataError(
            f"{name}: the header's LetterCount (offset {_COUNTS_AT}) {_nonzero(header.letter_counts)} disagrees "
            f"with the decoded records {_nonzero(counts)}; the file is damaged"
        )
    return LettersFile(header, images, labels)


def encode_letters_cdb(images: Sequence[np.ndarray], labels: Sequence[int], comment: str) -> bytes:
    """A variable-size, binary run-length CDB 5.0 file of (h, w) ``images`` (ink > 0) and ``labels``.

    Its ByteCount fields are 2 short, like the published files', so that a reader must walk the rows.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=LABEL_SLOTS)
    if len(counts) > LABEL_SLOTS or len(images) != len(labels):
        raise ValueError(f"need one label in [0, {LABEL_SLOTS}) per image, got {len(labels)} for {len(images)} images")
    if any(image.shape[1] > 255 for image in images):
        raise ValueError("images wider than 255 pixels: their runs would not fit the format's one-byte lengths")
    header = HEADER.pack(
        SIGNATURE, 0, 0, 0, 0, 0, len(images), LABEL_SLOTS, *counts.tolist(), BINARY_RLE, comment.encode("ascii"), b""
    )
    records = [header]
    for image, label in zip(images, labels, strict=True):
        runs = _encode_rows(np.asarray(image) > 0)
        height, width = image.shape
        records.append(
            RECORD_START.pack(START_MARKER, int(label), 0)
            + RECORD_SIZE.pack(width, height)
            + BYTE_COUNT.pack(max(0, len(runs) - _PUBLISHED_BYTE_COUNT_SHORTFALL))
            + runs
        )
    return b"".join(records)


def _parse_header(name: str, data: bytes) -> LettersHeader:
    if data[: len(SIGNATURE)] != SIGNATURE:
        raise DataError(
            f"{name}: signature {data[: len(SIGNATURE)]!r} at offset 0, expected {SIGNATURE!r}: not a CDB 5.0 file "
            f"(the Hoda digits' .cdb files are read by the hoda source)"
        )
    if len(data) < HEADER_SIZE:
        raise DataError(f"{name}: truncated: {len(data)} bytes, shorter than the {HEADER_SIZE}-byte header")
    _, year, month, day, width, height, total, slots, *rest = HEADER.unpack_from(data, 0)
    letter_counts, (image_type, comment, _reserved) = tuple(rest[:LABEL_SLOTS]), rest[LABEL_SLOTS:]
    if image_type != BINARY_RLE:
        raise DataError(
            f"{name}: header imgType {image_type} at offset {_IMAGE_TYPE_AT}; only binary run-length images (0) "
            f"are supported"
        )
    if (width == 0) != (height == 0):
        raise DataError(
            f"{name}: header fixed size {width}x{height} at offset {_FIXED_SIZE_AT}: W and H must both be 0 or both set"
        )
    if slots > LABEL_SLOTS:
        raise DataError(f"{name}: header nMaxCount {slots} at offset {_SLOTS_AT} exceeds the {LABEL_SLOTS} label slots")
    if sum(letter_counts) != total:
        raise DataError(
            f"{name}: the header's LetterCount (offset {_COUNTS_AT}) sums to {sum(letter_counts)}, "
            f"but its TotalRec (offset {_TOTAL_AT}) is {total}"
        )
    text = comment.split(b"\0", 1)[0].decode("ascii", errors="replace")
    return LettersHeader((year, month, day), width, height, total, letter_counts, image_type, text)


def _parse_records(name: str, data: bytes, header: LettersHeader) -> tuple[list[np.ndarray], np.ndarray]:
    fixed_size = header.width != 0
    record_header = RECORD_START.size + (0 if fixed_size else RECORD_SIZE.size) + BYTE_COUNT.size
    images: list[np.ndarray] = []
    labels = np.empty(header.total_records, dtype=np.int64)
    offset = HEADER_SIZE
    for index in range(header.total_records):
        where = f"{name}: record {index} at offset {offset}"
        if offset + record_header > len(data):
            raise DataError(
                f"{where}: truncated: the file ends after {len(data) - offset} of the record's {record_header} "
                f"header bytes (the header's TotalRec announces {header.total_records} records)"
            )
        marker, label, _confidence = RECORD_START.unpack_from(data, offset)
        if marker != START_MARKER:
            raise DataError(f"{where}: start marker 0x{marker:04X}, expected 0x{START_MARKER:04X}")
        if label >= LABEL_SLOTS or header.letter_counts[label] == 0:
            raise DataError(
                f"{where}: label {label} is not one of the header's classes {list(header.classes)} "
                f"(LetterCount, offset {_COUNTS_AT})"
            )
        if fixed_size:
            width, height = header.width, header.height
        else:
            width, height = RECORD_SIZE.unpack_from(data, offset + RECORD_START.size)
        if width == 0 or height == 0:
            raise DataError(f"{where}: empty image size {width}x{height}")
        image, offset = _decode_rows(data, offset + record_header, width, height, where)
        images.append(image)
        labels[index] = label
    if offset != len(data):
        raise DataError(
            f"{name}: {len(data) - offset} bytes after the last record (record {header.total_records - 1}) at "
            f"offset {offset}: the file holds more records than the header's TotalRec {header.total_records} "
            f"(offset {_TOTAL_AT}), or it is damaged"
        )
    return images, labels


def _decode_rows(data: bytes, start: int, width: int, height: int, where: str) -> tuple[np.ndarray, int]:
    """Decode the run-length rows that start at file offset ``start``: (image, offset after them)."""
    image = np.zeros((height, width), dtype=np.uint8)
    pos = start
    for row in range(height):
        x, ink = 0, False
        while x < width:
            if pos == len(data):
                raise DataError(f"{where}: truncated: the file ends in row {row} of {height} (offset {pos})")
            run = data[pos]
            if x + run > width:
                raise DataError(
                    f"{where}: run length {run} at offset {pos} overruns row {row}: {x} + {run} > width {width}"
                )
            if ink:
                image[row, x : x + run] = INK
            x += run
            ink = not ink
            pos += 1
    return image, pos


def _encode_rows(ink: np.ndarray) -> bytes:
    """Run lengths of a boolean (h, w) image, row by row, background first."""
    runs = bytearray()
    for row in ink:
        edges = np.flatnonzero(np.diff(row.astype(np.int8))) + 1
        bounds = [0, *edges.tolist(), len(row)]
        if row[0]:
            runs.append(0)  # the row starts with ink
        runs.extend(np.diff(bounds).tolist())
    return bytes(runs)


def _nonzero(counts: tuple[int, ...]) -> dict[int, int]:
    return {label: count for label, count in enumerate(counts) if count}
