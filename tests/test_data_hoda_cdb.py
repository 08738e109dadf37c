"""The Hoda .cdb parser: round trip on a tiny file, and one test per kind of corruption."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from datafiles import CDB_HEADER_SIZE, cdb_record_offsets, digit_images, encode_cdb

from ddpm.data.hoda_cdb import read_cdb
from ddpm.errors import DataError

LABELS = [3, 0, 7, 3, 9]


@pytest.fixture
def images():
    return digit_images(len(LABELS))


@pytest.fixture
def cdb_bytes(images):
    return encode_cdb(images, LABELS)


def write(tmp_path, data: bytes):
    path = tmp_path / "Tiny 5.cdb"
    path.write_bytes(data)
    return path


def test_round_trip(tmp_path, images, cdb_bytes):
    cdb = read_cdb(write(tmp_path, cdb_bytes))
    assert cdb.labels.tolist() == LABELS
    assert cdb.header.total_records == 5 and cdb.header.comment == "tiny test file"
    assert cdb.header.date == (2005, 8, 4)
    for decoded, original in zip(cdb.images, images, strict=True):
        np.testing.assert_array_equal(decoded, original)


def test_row_starting_with_ink_and_fixed_size_header(tmp_path):
    image = np.array([[255, 255, 0, 255], [0, 0, 0, 0], [255, 0, 0, 0]], dtype=np.uint8)
    cdb = read_cdb(write(tmp_path, encode_cdb([image, image[::-1]], [1, 2], fixed_size=(4, 3))))
    np.testing.assert_array_equal(cdb.images[0], image)
    np.testing.assert_array_equal(cdb.images[1], image[::-1])


def test_truncated_header(tmp_path, cdb_bytes):
    with pytest.raises(DataError, match=r"Tiny 5\.cdb: truncated: 1000 bytes"):
        read_cdb(write(tmp_path, cdb_bytes[:1000]))


def test_truncated_inside_a_record(tmp_path, cdb_bytes):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    with pytest.raises(DataError, match=rf"Tiny 5\.cdb: record 4 at offset {offsets[4]}: truncated"):
        read_cdb(write(tmp_path, cdb_bytes[: offsets[4] + 8]))


def test_truncated_between_records(tmp_path, cdb_bytes):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    with pytest.raises(DataError, match=rf"record 3 at offset {offsets[3]}: truncated"):
        read_cdb(write(tmp_path, cdb_bytes[: offsets[3]]))


def test_wrong_start_marker(tmp_path, cdb_bytes):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    data = bytearray(cdb_bytes)
    data[offsets[2]] = 0xFE
    with pytest.raises(DataError, match=rf"Tiny 5\.cdb: record 2 at offset {offsets[2]}: start marker 0xFE"):
        read_cdb(write(tmp_path, bytes(data)))


@pytest.mark.parametrize("delta", [1, -1])
def test_byte_count_disagrees_with_data(tmp_path, cdb_bytes, delta):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    data = bytearray(cdb_bytes)
    (count,) = struct.unpack_from("<H", data, offsets[1] + 4)
    struct.pack_into("<H", data, offsets[1] + 4, count + delta)
    with pytest.raises(DataError, match=rf"record 1 at offset {offsets[1]}: ByteCount {count + delta} disagrees"):
        read_cdb(write(tmp_path, bytes(data)))


def test_run_overruns_a_row(tmp_path, cdb_bytes, images):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    data = bytearray(cdb_bytes)
    first_run = offsets[0] + 6
    data[first_run] = images[0].shape[1] + 1  # the first run of row 0 is longer than the row
    overrun = rf"record 0 at offset {offsets[0]}: run length .* at offset {first_run} overruns row 0"
    with pytest.raises(DataError, match=overrun):
        read_cdb(write(tmp_path, bytes(data)))


def test_trailing_bytes(tmp_path, cdb_bytes):
    with pytest.raises(DataError, match=rf"Tiny 5\.cdb: 3 trailing bytes at offset {len(cdb_bytes)}"):
        read_cdb(write(tmp_path, cdb_bytes + b"\0\0\0"))


def test_header_total_disagrees_with_label_counts(tmp_path, cdb_bytes):
    data = bytearray(cdb_bytes)
    struct.pack_into("<I", data, 6, 4)
    with pytest.raises(DataError, match=r"sum to 5, but TotalRec \(offset 6\) is 4"):
        read_cdb(write(tmp_path, bytes(data)))


def test_label_counts_disagree_with_records(tmp_path, cdb_bytes):
    offsets = cdb_record_offsets(cdb_bytes, 5)
    data = bytearray(cdb_bytes)
    data[offsets[0] + 1] = 4  # relabel a 3 as a 4
    with pytest.raises(DataError, match=r"per-label counts .* disagree with the decoded records"):
        read_cdb(write(tmp_path, bytes(data)))


def test_grey_images_are_refused(tmp_path, cdb_bytes):
    data = bytearray(cdb_bytes)
    data[522] = 1
    with pytest.raises(DataError, match="imgType 1 at offset 522"):
        read_cdb(write(tmp_path, bytes(data)))


def test_header_is_1024_bytes(cdb_bytes):
    assert cdb_record_offsets(cdb_bytes, 1) == [CDB_HEADER_SIZE]
