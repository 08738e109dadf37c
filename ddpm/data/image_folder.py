"""Layout of a user's folder of images: either flat (unlabelled) or one sub-folder per class.

Image files are recognised by their suffix; other files (a README, ``.DS_Store``) are ignored,
hidden files and folders too. Sub-folders are classes, named after the folder, sorted by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ddpm.errors import DataError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"})


@dataclass(frozen=True)
class FolderLayout:
    files: list[Path]
    labels: list[int]  # index into class_names; all 0 when unlabelled
    class_names: tuple[str, ...]  # empty when the folder is flat


def scan_image_folder(root: Path) -> FolderLayout:
    """List the image files below ``root`` and their classes (decoding is the caller's job)."""
    if not root.is_dir():
        raise DataError(f"{root}: not a folder; set the dataset's `path` to a folder of images")
    class_dirs = sorted(p for p in _visible(root) if p.is_dir())
    top_images = _image_files(root)
    if class_dirs and top_images:
        raise DataError(
            f"{root}: has both images ({top_images[0].name}, ...) and sub-folders ({class_dirs[0].name}, ...); "
            f"use either a flat folder of images or one sub-folder of images per class"
        )
    if not class_dirs:
        if not top_images:
            raise DataError(f"{root}: no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in this folder")
        return FolderLayout(top_images, [0] * len(top_images), ())
    files: list[Path] = []
    labels: list[int] = []
    for label, folder in enumerate(class_dirs):
        class_files = _image_files(folder)
        if not class_files:
            raise DataError(f"{folder}: class folder without images; add images or remove the folder")
        files += class_files
        labels += [label] * len(class_files)
    return FolderLayout(files, labels, tuple(p.name for p in class_dirs))


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")]


def _image_files(folder: Path) -> list[Path]:
    return sorted(p for p in _visible(folder) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
