"""The idx reader (MNIST / Fashion-MNIST files), gzip-compressed or raw."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from datafiles import encode_idx, write_idx

from ddpm.data.idx import read_idx
from ddpm.errors import DataError

IMAGES = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)


@pytest.mark.parametrize("compress", [True, False])
def test_round_trip(tmp_path, compress):
    path = write_idx(tmp_path / "images-idx3-ubyte.gz", IMAGES, compress=compress)
    np.testing.assert_array_equal(read_idx(path), IMAGES)


def test_wrong_magic_number(tmp_path):
    data = bytearray(encode_idx(IMAGES))
    data[2] = 0x0C  # int32 items: not an MNIST-style file
    path = tmp_path / "bad-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes(data)))
    with pytest.raises(DataError, match=r"bad-idx3-ubyte\.gz: wrong idx magic number 0x00000c03 at offset 0"):
        read_idx(path)


def test_short_payload(tmp_path):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(encode_idx(IMAGES)[:-5])
    short = r"short-idx3-ubyte: payload short: 19 bytes from offset 16, but dims 2x3x4 need 24"
    with pytest.raises(DataError, match=short):
        read_idx(path)


def test_payload_longer_than_dims(tmp_path):
    path = tmp_path / "long-idx3-ubyte"
    path.write_bytes(encode_idx(IMAGES) + b"\0")
    with pytest.raises(DataError, match="longer than the dimensions say"):
        read_idx(path)


def test_damaged_gzip_stream(tmp_path):
    path = tmp_path / "cut-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(encode_idx(IMAGES))[:-10])
    with pytest.raises(DataError, match=r"cut-idx3-ubyte\.gz: damaged gzip stream"):
        read_idx(path)
