"""The CDB 5.0 parser (Hoda Persian letters): round trips on tiny files, one test per kind of damage,
and the published Test subset when a copy is at hand."""

from __future__ import annotations

import os
import struct
from pathlib import Path

import numpy as np
import pytest
from letters_cdb_files import HEADER_SIZE, encode_letters_cdb, letter_images, record_offsets, row_runs

from ddpm.data.persian_letters_cdb import read_letters_cdb
from ddpm.errors import DataError

LABELS = [3, 0, 35, 3, 1]


@pytest.fixture
def images():
    return letter_images(len(LABELS))


@pytest.fixture
def cdb_bytes(images):
    return encode_letters_cdb(images, LABELS)


def write(tmp_path, data: bytes) -> Path:
    path = tmp_path / "Tiny-Letters.cdb"
    path.write_bytes(data)
    return path


def test_round_trip(tmp_path, images, cdb_bytes):
    letters = read_letters_cdb(write(tmp_path, cdb_bytes))
    assert letters.labels.tolist() == LABELS and letters.labels.dtype == np.int64
    assert letters.header.total_records == 5 and letters.header.comment == "tiny test file"
    assert letters.header.date == (2010, 10, 29)
    assert letters.header.classes == (0, 1, 3, 35)
    for decoded, original in zip(letters.images, images, strict=True):
        assert decoded.dtype == np.uint8
        np.testing.assert_array_equal(decoded, original)


def test_fixed_size_header_and_rows_starting_with_ink(tmp_path):
    image = np.array([[255, 255, 0, 255], [0, 0, 0, 0], [255, 0, 0, 0]], dtype=np.uint8)
    assert row_runs(image)[:3] == bytes([0, 2, 1])  # a row starting with ink begins with a 0 run
    letters = read_letters_cdb(write(tmp_path, encode_letters_cdb([image, image[::-1]], [1, 2], fixed_size=(4, 3))))
    np.testing.assert_array_equal(letters.images[0], image)
    np.testing.assert_array_equal(letters.images[1], image[::-1])


@pytest.mark.parametrize("shortfall", [0, 2, 7])
def test_byte_count_is_not_trusted(tmp_path, images, shortfall):
    letters = read_letters_cdb(write(tmp_path, encode_letters_cdb(images, LABELS, byte_count_shortfall=shortfall)))
    np.testing.assert_array_equal(letters.images[-1], images[-1])


def test_wrong_signature(tmp_path, images):
    data = encode_letters_cdb(images, LABELS, signature=b"CDB 4.0")
    with pytest.raises(DataError, match=r"Tiny-Letters\.cdb: signature b'CDB 4\.0' at offset 0, expected b'CDB 5\.0'"):
        read_letters_cdb(write(tmp_path, data))


def test_a_hoda_digits_file_is_not_a_letters_file(tmp_path):
    with pytest.raises(DataError, match="at offset 0.*not a CDB 5.0 file"):
        read_letters_cdb(write(tmp_path, struct.pack("<HBB", 2005, 8, 4) + bytes(1021)))


def test_truncated_header(tmp_path, cdb_bytes):
    with pytest.raises(DataError, match=r"Tiny-Letters\.cdb: truncated: 1000 bytes, shorter than the 1280-byte header"):
        read_letters_cdb(write(tmp_path, cdb_bytes[:1000]))


def test_truncated_record_header(tmp_path, images, cdb_bytes):
    offsets = record_offsets(images)
    with pytest.raises(DataError, match=rf"record 3 at offset {offsets[3]}: truncated: the file ends after 5 of"):
        read_letters_cdb(write(tmp_path, cdb_bytes[: offsets[3] + 5]))


def test_truncated_inside_the_rows(tmp_path, images, cdb_bytes):
    offsets = record_offsets(images)
    message = rf"record 4 at offset {offsets[4]}: truncated: the file ends in row 0 .*offset {offsets[4] + 12}\)"
    with pytest.raises(DataError, match=message):
        read_letters_cdb(write(tmp_path, cdb_bytes[: offsets[4] + 12]))


def test_bad_start_marker(tmp_path, images, cdb_bytes):
    offsets = record_offsets(images)
    data = bytearray(cdb_bytes)
    data[offsets[2]] = 0xFE
    with pytest.raises(DataError, match=rf"record 2 at offset {offsets[2]}: start marker 0xFFFE, expected 0xFFFF"):
        read_letters_cdb(write(tmp_path, bytes(data)))


def test_run_overrunning_its_row(tmp_path, images, cdb_bytes):
    offsets = record_offsets(images)
    width = images[1].shape[1]
    data = bytearray(cdb_bytes)
    data[offsets[1] + 12] = width + 1  # the first run of row 0
    with pytest.raises(
        DataError, match=rf"record 1 at offset {offsets[1]}: run length {width + 1} at offset {offsets[1] + 12} overruns row 0"
    ):
        read_letters_cdb(write(tmp_path, bytes(data)))


@pytest.mark.parametrize("label", [2, 64, 0xFFFF])
def test_label_outside_the_headers_classes(tmp_path, images, cdb_bytes, label):
    offsets = record_offsets(images)
    data = bytearray(cdb_bytes)
    struct.pack_into("<H", data, offsets[4] + 2, label)
    with pytest.raises(
        DataError, match=rf"record 4 at offset {offsets[4]}: label {label} is not one of the header's classes \[0, 1, 3, 35\]"
    ):
        read_letters_cdb(write(tmp_path, bytes(data)))


def test_more_records_than_the_header_says(tmp_path, images):
    counts = np.bincount(LABELS[:4], minlength=64)
    data = encode_letters_cdb(images, LABELS, total=4, letter_counts=counts)
    offsets = record_offsets(images)
    with pytest.raises(DataError, match=rf"bytes after the last record \(record 3\) at offset {offsets[4]}.*TotalRec 4"):
        read_letters_cdb(write(tmp_path, data))


def test_fewer_records_than_the_header_says(tmp_path, images):
    counts = np.bincount(LABELS + [0], minlength=64)
    data = encode_letters_cdb(images, LABELS, total=6, letter_counts=counts)
    with pytest.raises(DataError, match=rf"record 5 at offset {len(data)}: truncated.*announces 6 records"):
        read_letters_cdb(write(tmp_path, data))


def test_total_disagreeing_with_the_per_class_counts(tmp_path, images):
    data = encode_letters_cdb(images, LABELS, total=6)
    with pytest.raises(DataError, match=r"LetterCount \(offset 21\) sums to 5, but its TotalRec \(offset 15\) is 6"):
        read_letters_cdb(write(tmp_path, data))


def test_per_class_counts_disagreeing_with_the_records(tmp_path, images):
    counts = np.bincount(LABELS, minlength=64)
    counts[0], counts[3] = counts[3], counts[0]  # same total, same classes
    message = r"LetterCount \(offset 21\) \{0: 2, 1: 1, 3: 1, 35: 1\} disagrees .* \{0: 1, 1: 1, 3: 2, 35: 1\}"
    with pytest.raises(DataError, match=message):
        read_letters_cdb(write(tmp_path, encode_letters_cdb(images, LABELS, letter_counts=counts)))


def test_grey_images_and_half_fixed_sizes_are_refused(tmp_path, cdb_bytes):
    grey = bytearray(cdb_bytes)
    grey[277] = 1
    with pytest.raises(DataError, match="imgType 1 at offset 277"):
        read_letters_cdb(write(tmp_path, bytes(grey)))
    half = bytearray(cdb_bytes)
    struct.pack_into("<H", half, 11, 8)
    with pytest.raises(DataError, match="fixed size 8x0 at offset 11"):
        read_letters_cdb(write(tmp_path, bytes(half)))


def test_empty_image_size(tmp_path, images, cdb_bytes):
    offsets = record_offsets(images)
    data = bytearray(cdb_bytes)
    struct.pack_into("<H", data, offsets[0] + 6, 0)
    with pytest.raises(DataError, match=rf"record 0 at offset {HEADER_SIZE}: empty image size 0x"):
        read_letters_cdb(write(tmp_path, bytes(data)))


# --- the published Test subset ---------------------------------------------------------------------

# Per-class counts of Persian-Character-DB-Test.cdb, labels 0-35, from the Test column of HCD.xls.
PUBLISHED_TEST_COUNTS = [
    520, 519, 519, 520, 462, 519, 496, 521, 519, 520, 460, 520, 520, 519, 520, 520, 520, 520,
    518, 481, 520, 520, 519, 519, 520, 520, 520, 520, 520, 520, 520, 520, 507, 161, 473, 114,
]


def published_test_file() -> Path | None:
    """The real file in ``$DDPM_MIRROR/persian_letters`` or the shared data folder beside the repository."""
    mirrors = [os.environ["DDPM_MIRROR"]] if os.environ.get("DDPM_MIRROR") else []
    mirrors.append(str(Path(__file__).resolve().parents[1].parent / "shared" / "data"))
    candidates = [Path(m) / "persian_letters" / "Persian-Character-DB-Test.cdb" for m in mirrors]
    return next((p for p in candidates if p.is_file()), None)


def test_the_published_test_subset():
    path = published_test_file()
    if path is None:
        pytest.skip("Persian-Character-DB-Test.cdb not found in $DDPM_MIRROR/persian_letters or ../shared/data/persian_letters")
    letters = read_letters_cdb(path)
    counts = np.bincount(letters.labels, minlength=64).tolist()
    assert counts == list(letters.header.letter_counts)
    assert counts[:36] == PUBLISHED_TEST_COUNTS and sum(counts[36:]) == 0
    assert letters.header.total_records == len(letters.images) == 17706
    heights, widths = zip(*(image.shape for image in letters.images), strict=True)
    assert (min(widths), max(widths), min(heights), max(heights)) == (3, 87, 9, 73)
    assert letters.labels[2998] == 7  # the one Hutti He filed among the Jims
