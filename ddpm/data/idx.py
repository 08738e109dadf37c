"""Reader for the idx format of MNIST and Fashion-MNIST, gzip-compressed or raw.

Layout (big-endian): two zero bytes, a data-type byte, a byte ``ndim``; ``ndim`` uint32 dimension
sizes; then the payload, ``prod(dims)`` items in C order. Only unsigned bytes (type 0x08), the type
of every MNIST-style file, are accepted.
"""

from __future__ import annotations

import gzip
import struct
import zlib
from pathlib import Path

import numpy as np

from ddpm.errors import DataError

_GZIP_MAGIC = b"\x1f\x8b"
_UNSIGNED_BYTE = 0x08


def read_idx(path: Path) -> np.ndarray:
    """Return the array stored in an idx file; gzip is recognised by its magic bytes, not the name."""
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes is too short for an idx header (4 bytes at offset 0)")
    zero, dtype_code, ndim = struct.unpack_from(">HBB", data, 0)
    if zero != 0 or dtype_code != _UNSIGNED_BYTE or ndim == 0:
        raise DataError(
            f"{path}: wrong idx magic number 0x{data[:4].hex()} at offset 0 (expected 0x000008NN: "
            f"unsigned bytes in NN dimensions); this is not an MNIST-style idx file"
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise DataError(f"{path}: the file ends at offset {len(data)}, inside the {ndim} dimension sizes")
    dims = struct.unpack_from(f">{ndim}I", data, 4)
    expected = int(np.prod(dims, dtype=np.int64))
    payload = len(data) - header_size
    if payload != expected:
        problem = "short" if payload < expected else "longer than the dimensions say"
        raise DataError(
            f"{path}: payload {problem}: {payload} bytes from offset {header_size}, but dims "
            f"{'x'.join(map(str, dims))} need {expected}; the file is damaged, fetch it again"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(dims).copy()


def _read_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: damaged gzip stream ({exc}); fetch the file again") from exc
