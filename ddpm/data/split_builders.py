"""One preparer per kind of source: raw files (by role) and resolved options -> three splits.

Split policy: the official test split where there is one, a validation split carved from the
training images with the ``seed``; Hoda keeps its three official files as train / test / val; text
data holds out a seeded set of distinct strings as its test split. The Persian letters without
their official Training file split the Test subset per class (stratified), with the ``seed``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from PIL import Image

from ddpm.data import synthetic
from ddpm.data.captcha import read_text_images
from ddpm.data.cifar import read_cifar10
from ddpm.data.hoda_cdb import read_cdb
from ddpm.data.idx import read_idx
from ddpm.data.image_folder import scan_image_folder
from ddpm.data.imaging import fill_and_crop, fit_inside, read_image, to_array
from ddpm.data.normalise import BOX_FRACTION, digit_box, normalise_digit
from ddpm.data.persian_letters_cdb import LettersFile, parse_letters_cdb, read_letters_cdb
from ddpm.data.prepared_files import PreparedDataset
from ddpm.data.splits import carve, carve_stratified, hold_out_texts
from ddpm.data.stanford_cars import (
    CarAnnotation,
    read_class_names,
    read_images,
    read_test_annotations,
    read_train_annotations,
)
from ddpm.errors import ConfigError, DataError

Options = Mapping[str, Any]
LETTER_BOX_FRACTION = 28 / 32  # letters fill 28x28 of 32x32: strokes and dots stay off the border


class Source(Protocol):
    """What a split builder reads of its source's registry entry (:class:`ddpm.data.registry.Source`).

    A protocol rather than an import: the registry imports the builders, so they cannot import it.
    """

    class_names: tuple[str, ...]


def prepare_idx(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """MNIST-style idx files: official test split, validation carved from train."""
    train = _idx_pair(raw["train_images"], raw["train_labels"], len(source.class_names))
    test = _idx_pair(raw["test_images"], raw["test_labels"], len(source.class_names))
    kept, val = carve(len(train[1]), options["val_size"], np.random.default_rng(options["seed"]), "val_size")
    return PreparedDataset(
        splits={"train": _take(train, kept), "val": _take(train, val), "test": test},
        label_kind="class",
        class_names=source.class_names,
    )


def prepare_hoda(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """Hoda: official files as splits; each digit normalised like MNIST."""
    size = _image_size(options)
    splits = {}
    for split in ("train", "val", "test"):
        cdb = read_cdb(raw[split])
        if cdb.labels.size and cdb.labels.max() >= len(source.class_names):
            raise DataError(f"{raw[split]}: label {cdb.labels.max()} is not a digit 0-9")
        images = np.stack([normalise_digit(image, size) for image in cdb.images])[..., None]
        splits[split] = (images, cdb.labels)
    return PreparedDataset(
        splits=splits,
        label_kind="class",
        class_names=source.class_names,
        preprocessing={
            "normalisation": "crop to ink, fit box keeping aspect (Lanczos), centre of mass at centre",
            "box": list(digit_box(size)),
            "box_fraction": BOX_FRACTION,
        },
    )


def prepare_persian_letters(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """Hoda letters: the official Training file (when placed) as train and val, the Test subset as
    test; without it, a seeded stratified split of the Test subset. Each letter is fitted into a box."""
    test_subset = _letter_arrays(read_letters_cdb(raw["test_subset"]), str(raw["test_subset"]), source, options)
    if "train" not in raw:
        return _stratified_letters(source, test_subset, options, "of the official Test subset (no Training file)")
    train = _letter_arrays(read_letters_cdb(raw["train"]), str(raw["train"]), source, options)
    kept, val = carve_stratified(train[1], options["val_size"], np.random.default_rng(options["seed"]), "val_size")
    splits = {"train": _take(train, kept), "val": _take(train, val), "test": test_subset}
    split = "train and val: the official Training subset, val carved per class; test: the official Test subset"
    return _letters_dataset(source, splits, options, split)


def prepare_synthetic_letters(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """Synthetic letters written as a CDB 5.0 file and read back by the letters' parser."""
    name = "synthetic letters (generated CDB 5.0)"
    letters = parse_letters_cdb(synthetic.synthetic_letters_cdb(_positive(options, "count"), options["seed"]), name)
    arrays = _letter_arrays(letters, name, source, options)
    return _stratified_letters(source, arrays, options, "of the generated letters")


def _letter_arrays(
    letters: LettersFile, name: str, source: Source, options: Options
) -> tuple[np.ndarray, np.ndarray]:
    """Images (N, H, W, 1), each fitted into the letter box, and labels, checked against the classes."""
    if letters.labels.size and letters.labels.max() >= len(source.class_names):
        raise DataError(
            f"{name}: label {letters.labels.max()} is not one of the {len(source.class_names)} classes "
            f"0-{len(source.class_names) - 1} of {source.key}"
        )
    size = _image_size(options)
    images = np.stack([_fitted_letter(image, size) for image in letters.images])[..., None]
    return images, letters.labels


def _stratified_letters(
    source: Source, arrays: tuple[np.ndarray, np.ndarray], options: Options, what: str
) -> PreparedDataset:
    rng = np.random.default_rng(options["seed"])
    labels = arrays[1]
    rest, test = carve_stratified(labels, options["test_size"], rng, "test_size")
    kept, val = carve_stratified(labels[rest], options["val_size"], rng, "val_size", of=len(labels))
    splits = {"train": _take(arrays, rest[kept]), "val": _take(arrays, rest[val]), "test": _take(arrays, test)}
    split = f"seeded split {what}, per class: test_size, then val_size, the rest train"
    return _letters_dataset(source, splits, options, split)


def _letters_dataset(
    source: Source, splits: Mapping[str, tuple[np.ndarray, np.ndarray]], options: Options, split: str
) -> PreparedDataset:
    return PreparedDataset(
        splits=splits,
        label_kind="class",
        class_names=source.class_names,
        class_glyphs=source.class_glyphs,
        preprocessing={
            "split": split,
            "normalisation": "crop to ink, fit the box keeping aspect (Lanczos), centre the box",
            "box": list(_letter_box(_image_size(options))),
        },
    )


def _letter_box(size: tuple[int, int]) -> tuple[int, int]:
    return max(1, round(size[0] * LETTER_BOX_FRACTION)), max(1, round(size[1] * LETTER_BOX_FRACTION))


def _fitted_letter(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A binary (h, w) letter, ink 255, cropped to its ink and fitted into the letter box, centred in ``size``."""
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    out = np.zeros(size, dtype=np.uint8)
    if rows.size == 0:
        return out
    box_h, box_w = _letter_box(size)
    ink = Image.fromarray(image[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1])
    fitted = to_array(fit_inside(ink, (box_h, box_w)))
    top, left = (size[0] - box_h) // 2, (size[1] - box_w) // 2
    out[top : top + box_h, left : left + box_w] = fitted[..., 0]
    return out


def prepare_captcha(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """CAPTCHA PNGs: grey, inverted (text bright), fitted into the size keeping the aspect."""
    size = _image_size(options)
    items = read_text_images(raw["images"], source.alphabet, source.text_length)
    images = np.stack([_inverted_fit(item.image, size) for item in items])
    texts = np.array([item.text for item in items], dtype=f"<U{source.text_length}")
    return _text_dataset(images, texts, source.alphabet, options, {"invert": True, "resize": "fit inside, pad with 0"})


def prepare_cifar10(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    cifar = read_cifar10(raw["archive"])
    train = (cifar.train_images, cifar.train_labels)
    kept, val = carve(len(train[1]), options["val_size"], np.random.default_rng(options["seed"]), "val_size")
    return PreparedDataset(
        splits={"train": _take(train, kept), "val": _take(train, val), "test": (cifar.test_images, cifar.test_labels)},
        label_kind="class",
        class_names=cifar.class_names,
    )


def prepare_stanford_cars(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """Stanford Cars: RGB, optionally cropped to the annotated box, then scaled and centre-cropped."""
    size = _image_size(options)
    class_names = read_class_names(raw["devkit"])
    sets = {
        "train": (raw["train_images"], "cars_train", read_train_annotations(raw["devkit"], len(class_names))),
        "test": (raw["test_images"], "cars_test", read_test_annotations(raw["test_annotations"], len(class_names))),
    }
    arrays = {}
    for split, (tarball, folder, records) in sets.items():
        convert = _car_converter(records, size, options["crop_to_bbox"])
        images = read_images(tarball, folder, [record.fname for record in records], convert)
        arrays[split] = (np.stack(images), np.array([record.label for record in records], dtype=np.int64))
    kept, val = carve(len(arrays["train"][1]), options["val_size"], np.random.default_rng(options["seed"]), "val_size")
    return PreparedDataset(
        splits={"train": _take(arrays["train"], kept), "val": _take(arrays["train"], val), "test": arrays["test"]},
        label_kind="class",
        class_names=class_names,
        preprocessing={"resize": "scale to cover, centre crop"},
    )


def prepare_image_folder(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    """A user's folder: scaled to cover the size and centre-cropped; test and val carved at random."""
    size = _image_size(options)
    mode = {1: "L", 3: "RGB"}.get(options["channels"])
    if mode is None:
        raise ConfigError(f"channels must be 1 (grey) or 3 (RGB), got {options['channels']!r}")
    layout = scan_image_folder(Path(options["path"]))
    images = np.stack([to_array(fill_and_crop(read_image(p, mode), size)) for p in layout.files])
    labels = np.array(layout.labels, dtype=np.int64)
    rng = np.random.default_rng(options["seed"])
    indices = _with_val(carve(len(labels), options["test_size"], rng, "test_size"), options, rng)
    return PreparedDataset(
        splits={split: (images[i], labels[i]) for split, i in indices.items()},
        label_kind="class" if layout.class_names else "none",
        class_names=layout.class_names,
        preprocessing={"resize": "scale to cover, centre crop"},
    )


def prepare_synthetic_digits(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    images, labels = synthetic.synthetic_digits(_positive(options, "count"), _image_size(options), options["seed"])
    rng = np.random.default_rng(options["seed"])
    indices = _with_val(carve(len(labels), options["test_size"], rng, "test_size"), options, rng)
    return PreparedDataset(
        splits={split: (images[i], labels[i]) for split, i in indices.items()},
        label_kind="class",
        class_names=source.class_names,
    )


def prepare_synthetic_text(source: Source, raw: Mapping[str, Path], options: Options) -> PreparedDataset:
    alphabet = options["alphabet"]
    if not alphabet or len(set(alphabet)) != len(alphabet):
        raise ConfigError(f"alphabet must be a non-empty string of distinct characters, got {alphabet!r}")
    images, texts = synthetic.synthetic_text(
        _positive(options, "count"), alphabet, _positive(options, "text_length"), _image_size(options), options["seed"]
    )
    return _text_dataset(images, texts, alphabet, options, {})


def _text_dataset(
    images: np.ndarray, texts: np.ndarray, alphabet: str, options: Options, preprocessing: Mapping[str, Any]
) -> PreparedDataset:
    rng = np.random.default_rng(options["seed"])
    indices = _with_val(hold_out_texts(list(texts), options["test_size"], rng, "test_size"), options, rng)
    return PreparedDataset(
        splits={split: (images[i], texts[i]) for split, i in indices.items()},
        label_kind="text",
        alphabet=alphabet,
        preprocessing={"test_split": "held-out distinct strings", **preprocessing},
    )


def _with_val(
    rest_and_test: tuple[np.ndarray, np.ndarray], options: Options, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Carve the validation split from what the test split left: indices per split."""
    rest, test = rest_and_test
    kept, val = carve(len(rest), options["val_size"], rng, "val_size", of=len(rest) + len(test))
    return {"train": rest[kept], "val": rest[val], "test": test}


def _car_converter(
    annotations: Sequence[CarAnnotation], size: tuple[int, int], crop_to_bbox: bool
) -> Callable[[int, Image.Image], np.ndarray]:
    def convert(index: int, image: Image.Image) -> np.ndarray:
        if crop_to_bbox:
            image = image.crop(_clamped(annotations[index].box, image))
        return to_array(fill_and_crop(image, size))

    return convert


def _idx_pair(images_path: Path, labels_path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3:
        raise DataError(f"{images_path}: expected 3 dimensions (N, H, W), got shape {images.shape}")
    if labels.ndim != 1 or len(labels) != len(images):
        raise DataError(
            f"{labels_path}: expected {len(images)} labels, one per image in {images_path.name}, "
            f"got shape {labels.shape}"
        )
    if labels.size and labels.max() >= num_classes:
        raise DataError(f"{labels_path}: label {labels.max()} is out of range (there are {num_classes} classes)")
    return images[..., None], labels.astype(np.int64)


def _take(pair: tuple[np.ndarray, np.ndarray], indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return pair[0][indices], pair[1][indices]


def _inverted_fit(image: Image.Image, size: tuple[int, int]) -> np.ndarray:
    return to_array(fit_inside(Image.eval(image, lambda v: 255 - v), size))


def _clamped(box: Sequence[int], image: Image.Image) -> tuple[int, int, int, int]:
    left, top, right, bottom = box
    return max(0, left), max(0, top), min(image.width, right), min(image.height, bottom)


def _image_size(options: Options) -> tuple[int, int]:
    size = options["image_size"]
    if not (isinstance(size, (list, tuple)) and len(size) == 2 and all(isinstance(v, int) and v > 0 for v in size)):
        raise ConfigError(f"image_size must be [height, width] in pixels, got {size!r}")
    return size[0], size[1]


def _positive(options: Options, name: str) -> int:
    value = options[name]
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}")
    return value
