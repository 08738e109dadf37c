"""Reader for CIFAR-10's "python version" tarball (``cifar-10-python.tar.gz``).

The tarball holds pickled dicts written by Python 2 (``data_batch_1`` .. ``_5``, ``test_batch``,
``batches.meta``). They are read straight from the archive, never extracted, and unpickled with an
allow-list that admits only numpy arrays, so a tampered archive cannot run code.
"""

from __future__ import annotations

import pickle
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddpm.errors import DataError

FOLDER = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
SIDE = 32
_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("_codecs", "encode"),
}


@dataclass(frozen=True)
class Cifar10:
    train_images: np.ndarray  # uint8 (N, 32, 32, 3)
    train_labels: np.ndarray  # int64 (N,)
    test_images: np.ndarray
    test_labels: np.ndarray
    class_names: tuple[str, ...]


class _ArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def read_cifar10(path: Path) -> Cifar10:
    """Read all batches of a CIFAR-10 python tarball."""
    try:
        with tarfile.open(path, "r:gz") as archive:
            meta = _load_member(path, archive, META)
            train = [_batch(path, archive, name) for name in TRAIN_BATCHES]
            test_images, test_labels = _batch(path, archive, TEST_BATCH)
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable CIFAR-10 tarball ({exc}); delete it and fetch it again") from exc
    names = meta.get(b"label_names")
    if not isinstance(names, list) or not all(isinstance(n, bytes) for n in names):
        raise DataError(f"{path}: {FOLDER}/{META} has no list of byte-string b'label_names'")
    class_names = tuple(n.decode() for n in names)
    train_images = np.concatenate([images for images, _ in train])
    train_labels = np.concatenate([labels for _, labels in train])
    for split, labels in [("train", train_labels), ("test", test_labels)]:
        if labels.size and labels.max() >= len(class_names):
            raise DataError(f"{path}: a {split} label is {labels.max()}, but there are {len(class_names)} classes")
    return Cifar10(train_images, train_labels, test_images, test_labels, class_names)


def _batch(path: Path, archive: tarfile.TarFile, name: str) -> tuple[np.ndarray, np.ndarray]:
    batch = _load_member(path, archive, name)
    data, labels = batch.get(b"data"), batch.get(b"labels")
    where = f"{path}: {FOLDER}/{name}"
    if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * SIDE * SIDE:
        raise DataError(f"{where}: b'data' is not a uint8 array of shape (N, {3 * SIDE * SIDE})")
    if not isinstance(labels, list) or len(labels) != len(data) or not all(isinstance(v, int) for v in labels):
        raise DataError(f"{where}: b'labels' is not a list of {len(data)} integers")
    images = data.reshape(-1, 3, SIDE, SIDE).transpose(0, 2, 3, 1)  # planes R, G, B -> (H, W, C)
    label_array = np.asarray(labels, dtype=np.int64)
    if label_array.size and label_array.min() < 0:
        raise DataError(f"{where}: negative label {label_array.min()}")
    return np.ascontiguousarray(images), label_array


def _load_member(path: Path, archive: tarfile.TarFile, name: str) -> dict:
    member_name = f"{FOLDER}/{name}"
    try:
        member = archive.getmember(member_name)
    except KeyError:
        raise DataError(f"{path}: the tarball has no member {member_name}") from None
    stream = archive.extractfile(member)
    if stream is None:
        raise DataError(f"{path}: member {member_name} is not a regular file")
    try:
        obj = _ArrayUnpickler(stream, encoding="bytes").load()
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"{path}: member {member_name} is not a CIFAR-10 pickle ({exc})") from exc
    if not isinstance(obj, dict):
        raise DataError(f"{path}: member {member_name} holds a {type(obj).__name__}, not a dict")
    return obj
