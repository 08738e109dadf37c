"""The prepared-dataset files shared with training and evaluation (see docs/contracts.md).

``<dir>/{train,val,test}.npz`` hold ``images`` (uint8, N x H x W x C, ink bright) and ``labels``
(int64 class indices, a unicode array of texts, or int64 zeros when unlabelled); ``<dir>/<split>.json``
describes the split.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ddpm.errors import DataError
from ddpm.images import check_images
from ddpm.io import load_npz, read_json, save_npz, write_json

SPLITS = ("train", "val", "test")
LabelKind = Literal["class", "text", "none"]


@dataclass(frozen=True)
class Split:
    """One prepared split: images (N, H, W, C) uint8, labels (N,), and its JSON sidecar."""

    images: np.ndarray
    labels: np.ndarray
    meta: dict[str, Any]


@dataclass(frozen=True)
class PreparedDataset:
    """What a preparer returns: the three splits' arrays and what describes their labels."""

    splits: Mapping[str, tuple[np.ndarray, np.ndarray]]  # split -> (images, labels)
    label_kind: LabelKind
    class_names: tuple[str, ...] = ()
    class_glyphs: tuple[str, ...] = ()  # the character each class is written as, when there is one
    alphabet: str | None = None
    preprocessing: Mapping[str, Any] = field(default_factory=dict)  # steps beyond the options


def load_split(npz_path: str | os.PathLike) -> Split:
    """Read ``<split>.npz`` and its ``<split>.json`` sidecar, checking that they agree."""
    path = Path(npz_path)
    arrays = load_npz(path)
    meta = read_json(path.with_suffix(".json"))
    images, labels = arrays.get("images"), arrays.get("labels")
    if images is None or labels is None:
        raise DataError(f"{path}: expected arrays `images` and `labels`, found {sorted(arrays)}; prepare the dataset again")
    check_images(images, str(path), fix="prepare the dataset again")
    shape = list(images.shape[1:])
    if len(labels) != len(images) or meta.get("count") != len(images) or meta.get("image_shape") != shape:
        raise DataError(
            f"{path}: {len(images)} images of shape {shape} and {len(labels)} labels disagree "
            f"with the sidecar (count {meta.get('count')}, image_shape {meta.get('image_shape')}); prepare it again"
        )
    return Split(images, labels, meta)


def write_prepared(
    prepared: PreparedDataset,
    out_dir: Path,
    *,
    dataset: str,
    source: str,
    sources: Mapping[str, str],
    settings: Mapping[str, Any],
) -> None:
    """Write the three splits and their sidecars; either all six files appear or none does."""
    _check(prepared)
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=".prepare."))
    try:
        for split in SPLITS:
            images, labels = prepared.splits[split]
            save_npz(staging / f"{split}.npz", images=images, labels=labels)
            meta = _sidecar(prepared, split, dataset=dataset, source=source, sources=sources, settings=settings)
            write_json(staging / f"{split}.json", meta)
        for file in sorted(staging.iterdir()):
            os.replace(file, out_dir / file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _check(prepared: PreparedDataset) -> None:
    if set(prepared.splits) != set(SPLITS):
        raise ValueError(f"a preparer must return exactly the splits {SPLITS}, got {sorted(prepared.splits)}")
    if prepared.class_glyphs and len(prepared.class_glyphs) != len(prepared.class_names):
        raise ValueError(f"{len(prepared.class_glyphs)} class glyphs for {len(prepared.class_names)} class names")
    shapes = {images.shape[1:] for images, _ in prepared.splits.values()}
    for split, (images, labels) in prepared.splits.items():
        check_images(images, f"the {split} split", fix="give it a larger size in the dataset's options" if len(images) == 0 else "")
        if len(shapes) != 1:
            raise ValueError(f"the splits' images differ in shape: {sorted(shapes)}")
        if len(labels) != len(images):
            raise ValueError(f"{split}: {len(labels)} labels for {len(images)} images")
        if (labels.dtype.kind == "U") != (prepared.label_kind == "text") or labels.dtype.kind not in "Ui":
            raise ValueError(f"{split}: labels of dtype {labels.dtype} for label kind {prepared.label_kind!r}")


def _sidecar(
    prepared: PreparedDataset,
    split: str,
    *,
    dataset: str,
    source: str,
    sources: Mapping[str, str],
    settings: Mapping[str, Any],
) -> dict[str, Any]:
    images, labels = prepared.splits[split]
    mean, std = _pixel_stats(images)
    is_text = prepared.label_kind == "text"
    class_names = list(prepared.class_names) if prepared.label_kind == "class" else []
    counts = np.bincount(labels, minlength=len(class_names)) if class_names else []
    return {
        "dataset": dataset,
        "source": source,
        "split": split,
        "count": len(images),
        "image_shape": list(images.shape[1:]),
        "label_kind": prepared.label_kind,
        "num_classes": len(class_names),
        "class_names": class_names,
        "class_counts": {name: int(n) for name, n in zip(class_names, counts, strict=True)},
        "class_glyphs": list(prepared.class_glyphs) if class_names else [],
        "alphabet": prepared.alphabet if is_text else None,
        "text_length": int(np.char.str_len(labels).max()) if is_text else None,
        "pixel_mean": mean,
        "pixel_std": std,
        "sources": dict(sources),
        "preprocessing": {**settings, **prepared.preprocessing},
    }


def _pixel_stats(images: np.ndarray) -> tuple[list[float], list[float]]:
    """Exact per-channel mean and (population) std on the [0, 1] scale, from 256-bin histograms."""
    values = np.arange(256) / 255.0
    means, stds = [], []
    for channel in range(images.shape[-1]):
        histogram = np.bincount(images[..., channel].ravel(), minlength=256)
        mean = float(histogram @ values / histogram.sum())
        means.append(mean)
        stds.append(float(np.sqrt(histogram @ (values - mean) ** 2 / histogram.sum())))
    return means, stds
