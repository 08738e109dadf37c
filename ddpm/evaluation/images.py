"""The image contract on the evaluation side: uint8 (N, H, W, C) arrays, C = 1 or 3 (docs/contracts.md).

Prepared splits and sample files are read here with numpy and json directly, so evaluation depends on
the file formats only, not on the code that writes them.
"""

from __future__ import annotations

import os
from typing import Iterator

import numpy as np
import torch

from ddpm.errors import DataError
from ddpm.io import load_npz


def check_images(images: np.ndarray, *, source: str) -> None:
    """Raise :class:`DataError` unless ``images`` is a uint8 (N, H, W, C) array with C = 1 or 3."""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        shape = getattr(images, "shape", None)
        dtype = getattr(images, "dtype", type(images).__name__)
        raise DataError(f"{source}: images must be a uint8 array of shape (N, H, W, C), got {dtype} {shape}")
    if images.shape[-1] not in (1, 3):
        raise DataError(
            f"{source}: images have {images.shape[-1]} channels in the last axis; expected 1 or 3 "
            "(channels last, as docs/contracts.md specifies)"
        )
    if len(images) == 0:
        raise DataError(f"{source}: holds no images")


def image_batches(images: np.ndarray, batch_size: int, device: torch.device | str) -> Iterator[torch.Tensor]:
    """Yield uint8 (B, C, H, W) tensors on ``device``.

    Each is a permuted view of NHWC memory, i.e. already channels-last, which is what convolutions on
    CUDA prefer; the host-to-device copies are asynchronous.
    """
    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
        yield batch.to(device, non_blocking=True).permute(0, 3, 1, 2)


def read_samples(npz_path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """A sample file: ``(images, labels)``; ``labels`` is None for samples of an unconditional model."""
    arrays = _read_npz(npz_path, required=("images",))
    images, labels = arrays["images"], arrays.get("labels")
    check_images(images, source=str(npz_path))
    if labels is not None:
        _check_labels(labels, len(images), source=str(npz_path))
    return images, labels


def _read_npz(path: str | os.PathLike, *, required: tuple[str, ...]) -> dict[str, np.ndarray]:
    arrays = load_npz(path)
    missing = [key for key in required if key not in arrays]
    if missing:
        raise DataError(f"{path}: missing array(s) {missing}; found {sorted(arrays)}")
    return arrays


def _check_labels(labels: np.ndarray, count: int, *, source: str) -> None:
    if labels.shape != (count,):
        raise DataError(f"{source}: labels have shape {labels.shape}, expected ({count},) to match the images")
    if not (np.issubdtype(labels.dtype, np.integer) or labels.dtype.kind == "U"):
        raise DataError(f"{source}: labels must be integer classes or unicode strings, got {labels.dtype}")
