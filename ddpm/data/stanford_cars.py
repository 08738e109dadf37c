"""Reader for the original Stanford Cars release (Krause et al. 2013): two tarballs of JPEGs and
MATLAB annotation files.

- ``car_devkit.tgz``: ``devkit/cars_meta.mat`` (``class_names``: 196 strings) and
  ``devkit/cars_train_annos.mat``;
- ``cars_test_annos_withlabels.mat``: the test annotations with their classes;
- ``cars_train.tgz`` / ``cars_test.tgz``: ``cars_train/<fname>`` / ``cars_test/<fname>`` JPEGs.

An annotation file holds a struct array ``annotations`` with fields ``bbox_x1``, ``bbox_y1``,
``bbox_x2``, ``bbox_y2`` (1-based, inclusive pixel coordinates), ``class`` (1-based) and ``fname``.
"""

from __future__ import annotations

import io
import tarfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from ddpm.data.imaging import decode_image
from ddpm.errors import DataError

META_MEMBER = "devkit/cars_meta.mat"
TRAIN_ANNOTATIONS_MEMBER = "devkit/cars_train_annos.mat"
_FIELDS = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname")


@dataclass(frozen=True)
class CarAnnotation:
    fname: str
    box: tuple[int, int, int, int]  # PIL crop box (left, top, right, bottom), 0-based, exclusive end
    label: int  # 0-based


def read_class_names(devkit: Path) -> tuple[str, ...]:
    names = _load_mat(devkit, _tar_member_bytes(devkit, META_MEMBER), "class_names")
    return tuple(str(name) for name in np.atleast_1d(names))


def read_train_annotations(devkit: Path, num_classes: int) -> list[CarAnnotation]:
    data = _tar_member_bytes(devkit, TRAIN_ANNOTATIONS_MEMBER)
    return _annotations(f"{devkit}:{TRAIN_ANNOTATIONS_MEMBER}", data, num_classes)


def read_test_annotations(mat_file: Path, num_classes: int) -> list[CarAnnotation]:
    return _annotations(str(mat_file), mat_file.read_bytes(), num_classes)


def read_images(
    tarball: Path, folder: str, names: Sequence[str], convert: Callable[[int, Image.Image], np.ndarray]
) -> list[np.ndarray]:
    """Decode ``folder/<name>`` for every name (in one pass over the tarball) and ``convert`` each."""
    wanted = {f"{folder}/{name}": index for index, name in enumerate(names)}
    out: list[np.ndarray | None] = [None] * len(names)
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            for member in archive:
                index = wanted.get(member.name)
                stream = archive.extractfile(member) if index is not None else None
                if stream is not None:
                    name = f"{tarball}:{member.name}"
                    out[index] = convert(index, decode_image(stream.read(), name, "RGB"))
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{tarball}: not a readable tarball ({exc}); fetch it again") from exc
    missing = [names[i] for i, image in enumerate(out) if image is None]
    if missing:
        raise DataError(
            f"{tarball}: {len(missing)} annotated images are not in the tarball under {folder}/ "
            f"(first: {missing[0]}); the tarball and the annotations do not belong together"
        )
    return out  # type: ignore[return-value]  # every entry was filled above


def _annotations(name: str, data: bytes, num_classes: int) -> list[CarAnnotation]:
    records = np.atleast_1d(_load_mat(name, data, "annotations"))
    if records.dtype.names is None or set(_FIELDS) - set(records.dtype.names):
        raise DataError(f"{name}: `annotations` lacks some of the fields {', '.join(_FIELDS)}")
    annotations = []
    for index, record in enumerate(records):
        try:
            x1, y1, x2, y2, label = (int(record[field]) for field in _FIELDS[:5])
        except (TypeError, ValueError) as exc:
            raise DataError(f"{name}: annotation {index} has a non-integer box or class ({exc})") from exc
        if not 1 <= label <= num_classes or x2 < x1 or y2 < y1:
            raise DataError(
                f"{name}: annotation {index} ({record['fname']}) has class {label} (expected 1..{num_classes}) "
                f"or an empty box ({x1}, {y1}, {x2}, {y2})"
            )
        annotations.append(CarAnnotation(str(record["fname"]), (x1 - 1, y1 - 1, x2, y2), label - 1))
    return annotations


def _load_mat(name: str | Path, data: bytes, variable: str) -> Any:
    # scipy is needed only here, to read Stanford Cars' MATLAB (v5) annotation files.
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        contents = loadmat(io.BytesIO(data), squeeze_me=True)
    except (MatReadError, ValueError, TypeError, OSError) as exc:
        raise DataError(f"{name}: not a readable MATLAB file ({exc})") from exc
    if variable not in contents:
        raise DataError(f"{name}: has no variable `{variable}`")
    return contents[variable]


def _tar_member_bytes(tarball: Path, member_name: str) -> bytes:
    try:
        with tarfile.open(tarball, "r:gz") as archive:
            stream = archive.extractfile(member_name)
            if stream is None:
                raise DataError(f"{tarball}: member {member_name} is not a regular file")
            return stream.read()
    except KeyError:
        raise DataError(f"{tarball}: has no member {member_name}; is this the Stanford Cars devkit?") from None
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{tarball}: not a readable tarball ({exc}); fetch it again") from exc
