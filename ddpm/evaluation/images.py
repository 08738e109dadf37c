"""Sample files on the evaluation side: ``images`` (checked by :func:`ddpm.images.check_images`) and
the requested ``labels`` (docs/contracts.md).

They are read with numpy directly, so evaluation depends on the file format only, not on the code
that writes it.
"""

from __future__ import annotations

import os
import numpy as np

from ddpm.errors import DataError
from ddpm.images import check_images
from ddpm.io import load_npz


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
