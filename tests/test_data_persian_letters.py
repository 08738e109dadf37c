"""The Persian letters source: registry facts, stratified splits, preparation with and without the
official Training file, the synthetic letters that go through the same parser."""

from __future__ import annotations

import dataclasses
import logging

import numpy as np
import pytest
from datafiles import install_source, sha256_of
from letters_cdb_files import HEADER_SIZE, encode_letters_cdb

from ddpm.data import SOURCES, fetch_raw, load_split, prepare_dataset
from ddpm.data.persian_letters_cdb import encode_letters_cdb as product_encoder
from ddpm.data.persian_letters_cdb import parse_letters_cdb
from ddpm.data.splits import carve_stratified
from ddpm.data.synthetic import LETTER_NAMES, synthetic_letters_cdb
from ddpm.errors import ConfigError, DataError, MissingRawFilesError
from ddpm.io import write_json

TEST_FILE, TRAINING_FILE = "Persian-Character-DB-Test.cdb", "Persian-Character-DB-Training.cdb"
SPLITS = ("train", "val", "test")


def run(tmp_path, entry, *, mirror=None, name="letters"):
    raw_dir, out_dir = tmp_path / "raw" / name, tmp_path / "data" / name
    manifest = raw_dir / "MANIFEST.json"
    write_json(manifest, fetch_raw(entry["source"], raw_dir, options=entry, mirror=mirror, download=False))
    prepare_dataset(name, entry, manifest=manifest, raw_dir=raw_dir, out_dir=out_dir)
    return {split: load_split(out_dir / f"{split}.npz") for split in SPLITS}


def letter(height: int, width: int) -> np.ndarray:
    """A bar of ink with a 2x2 dot three rows under it, cropped tight."""
    image = np.zeros((height + 5, width), dtype=np.uint8)
    image[:height, :] = 255
    image[height + 3 :, :2] = 255
    return image


def write_letters(path, per_class, *, classes=36, seed=0):
    rng = np.random.default_rng(seed)
    labels = [c for c in range(classes) for _ in range(per_class[c] if isinstance(per_class, list) else per_class)]
    images = [letter(int(rng.integers(8, 40)), int(rng.integers(3, 12))) for _ in labels]
    path.write_bytes(encode_letters_cdb(images, labels))
    return labels


@pytest.fixture
def mirror(tmp_path, monkeypatch):
    """A mirror holding a tiny Test subset (10 letters per class; class 35 has 20), pinned in the registry."""
    folder = tmp_path / "mirror" / "persian_letters"
    folder.mkdir(parents=True)
    write_letters(folder / TEST_FILE, [10] * 35 + [20])
    source = SOURCES["persian_letters"]
    test_raw = dataclasses.replace(source.raw_files[0], sha256=sha256_of(folder / TEST_FILE))
    install_source(monkeypatch, dataclasses.replace(source, raw_files=(test_raw, *source.raw_files[1:])))
    return tmp_path / "mirror"


# --- registry -------------------------------------------------------------------------------------


def test_registry_names_the_36_letters_of_the_data_readme():
    source = SOURCES["persian_letters"]
    assert len(source.class_names) == len(source.class_glyphs) == len(set(source.class_names)) == 36
    # The data README's single-image checks: label 13 is Zhe, 25 is Gaf, 33 is Alef with madda.
    assert [source.class_glyphs[i] for i in (13, 25, 33)] == ["\u0698", "\u06af", "\u0622"]
    assert source.class_names[:2] == ("Alef", "Be") and source.class_names[30] == "Ha (single)"
    assert [raw.name for raw in source.raw_files] == [TEST_FILE, TRAINING_FILE]
    test_raw, training_raw = source.raw_files
    assert test_raw.sha256 == "20b2d5e3a86f4109bb5bf4516a6dea9b04a02a0a263479fd3d7ea488f015e3d8"
    assert "6dd6084603da75863ec01687490790377181db94" in test_raw.urls[0]
    assert training_raw.optional and training_raw.sha256 is None and not training_raw.urls


def test_synthetic_letters_are_the_first_real_classes():
    letters = SOURCES["persian_letters"]
    assert SOURCES["synthetic_letters"].class_names == LETTER_NAMES == letters.class_names[: len(LETTER_NAMES)]
    assert SOURCES["synthetic_letters"].class_glyphs == letters.class_glyphs[: len(LETTER_NAMES)]


# --- stratified carving ---------------------------------------------------------------------------


def test_stratified_carve_takes_each_class_share():
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    kept, carved = carve_stratified(labels, 0.1, np.random.default_rng(0), "test_size")
    assert np.bincount(labels[carved]).tolist() == [5, 3, 2]
    assert sorted(np.concatenate([kept, carved]).tolist()) == list(range(100))
    assert np.all(np.diff(carved) > 0) and np.all(np.diff(kept) > 0)
    again = carve_stratified(labels, 0.1, np.random.default_rng(0), "test_size")[1]
    other = carve_stratified(labels, 0.1, np.random.default_rng(1), "test_size")[1]
    np.testing.assert_array_equal(carved, again)
    assert not np.array_equal(carved, other)


def test_stratified_carve_hits_the_count_exactly():
    labels = np.repeat([0, 1, 2], [7, 7, 7])
    # 10 of 21: shares 3.33 each, the leftover unit goes to the smallest label.
    _, carved = carve_stratified(labels, 10, np.random.default_rng(0), "val_size")
    assert np.bincount(labels[carved]).tolist() == [4, 3, 3]
    # A fraction of a larger whole (the validation split after the test split): 0.25 of 40 from 20.
    _, carved = carve_stratified(labels[:20], 0.25, np.random.default_rng(0), "val_size", of=40)
    assert np.bincount(labels[:20][carved]).tolist() == [4, 3, 3]  # shares 3.5, 3.5, 3


def test_stratified_carve_checks_the_size():
    with pytest.raises(ConfigError, match="test_size=30 asks for 30 of 21 images"):
        carve_stratified(np.zeros(21, dtype=np.int64), 30, np.random.default_rng(0), "test_size")


# --- preparation ----------------------------------------------------------------------------------


def test_without_the_training_file_the_test_subset_is_split_per_class(tmp_path, mirror):
    splits = run(tmp_path, {"source": "persian_letters"}, mirror=mirror)
    counts = {split: np.bincount(data.labels, minlength=36) for split, data in splits.items()}
    assert counts["test"].tolist() == counts["val"].tolist() == [1] * 35 + [2]  # 10% of 10 and of 20
    assert counts["train"].tolist() == [8] * 35 + [16]
    meta = splits["train"].meta
    assert meta["sources"] == {TEST_FILE: sha256_of(mirror / "persian_letters" / TEST_FILE)}
    assert meta["num_classes"] == 36 and meta["class_names"] == list(SOURCES["persian_letters"].class_names)
    assert meta["class_glyphs"] == list(SOURCES["persian_letters"].class_glyphs)
    assert "of the official Test subset (no Training file)" in meta["preprocessing"]["split"]
    assert meta["preprocessing"]["box"] == [28, 28] and meta["image_shape"] == [32, 32, 1]


def test_letters_are_fitted_into_the_box_with_their_dots(tmp_path, mirror):
    train = run(tmp_path, {"source": "persian_letters"}, mirror=mirror)["train"]
    for image in train.images[..., 0]:
        rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
        assert rows[0] == 2 and rows[-1] == 29 and cols[0] >= 2 and cols[-1] <= 29  # tall: 28 rows, centred
        assert image[2:30].max() == 255 and image[:2].max() == image[30:].max() == 0  # ink bright on 0
        lit = np.flatnonzero(image[:, cols[0]] > 0)
        assert (np.diff(lit) > 1).any()  # the dot stays apart from the bar


def test_a_placed_training_file_is_used_and_recorded(tmp_path, mirror, caplog):
    training = mirror / "persian_letters" / TRAINING_FILE
    write_letters(training, 20, seed=1)
    with caplog.at_level(logging.WARNING, logger="ddpm.data.fetch"):
        splits = run(tmp_path, {"source": "persian_letters"}, mirror=mirror)
    assert f"no official checksum is known for {TRAINING_FILE}" in caplog.text
    assert np.bincount(splits["test"].labels).tolist() == [10] * 35 + [20]  # the whole Test subset
    assert np.bincount(splits["val"].labels).tolist() == [2] * 36
    assert np.bincount(splits["train"].labels).tolist() == [18] * 36
    assert splits["train"].meta["sources"][TRAINING_FILE] == sha256_of(training)
    assert "official Training subset" in splits["train"].meta["preprocessing"]["split"]


def test_the_training_file_can_be_pinned(tmp_path, mirror):
    training = mirror / "persian_letters" / TRAINING_FILE
    write_letters(training, 20, seed=1)
    with pytest.raises(DataError, match="expected pinned sha256 0{64}"):
        fetch_raw("persian_letters", tmp_path / "raw", options={"sha256": {TRAINING_FILE: "0" * 64}}, mirror=mirror)
    options = {"sha256": {TRAINING_FILE: sha256_of(training)}}
    manifest = fetch_raw("persian_letters", tmp_path / "raw", options=options, mirror=mirror, download=False)
    assert manifest["files"][TRAINING_FILE]["check"] == "pinned sha256"


def test_only_the_test_subset_is_reported_missing(tmp_path, mirror):
    with pytest.raises(MissingRawFilesError) as error:
        fetch_raw("persian_letters", tmp_path / "raw", mirror=tmp_path / "empty", download=False)
    assert TEST_FILE in str(error.value) and TRAINING_FILE not in str(error.value)


def test_a_label_beyond_the_36_letters_is_refused(tmp_path, monkeypatch):
    folder = tmp_path / "mirror" / "persian_letters"
    folder.mkdir(parents=True)
    write_letters(folder / TEST_FILE, 10, classes=37)
    source = SOURCES["persian_letters"]
    test_raw = dataclasses.replace(source.raw_files[0], sha256=sha256_of(folder / TEST_FILE))
    install_source(monkeypatch, dataclasses.replace(source, raw_files=(test_raw, *source.raw_files[1:])))
    with pytest.raises(DataError, match=rf"{TEST_FILE}: label 36 is not one of the 36 classes 0-35 of persian_letters"):
        run(tmp_path, {"source": "persian_letters"}, mirror=tmp_path / "mirror")
    assert not (tmp_path / "data" / "letters").exists() or not any((tmp_path / "data" / "letters").iterdir())


# --- synthetic letters ----------------------------------------------------------------------------


def test_the_synthetic_file_is_a_cdb5_file_like_the_published_ones():
    data = synthetic_letters_cdb(25, seed=0)
    letters = parse_letters_cdb(data, "synthetic")
    assert np.bincount(letters.labels).tolist() == [5] * 5
    assert all(set(np.unique(image)) <= {0, 255} for image in letters.images)
    # The independent test writer gives the same records for the same letters (ByteCount 2 short too).
    again = encode_letters_cdb(letters.images, letters.labels.tolist())
    assert again[HEADER_SIZE:] == data[HEADER_SIZE:]
    with pytest.raises(ValueError, match="wider than 255"):
        product_encoder([np.zeros((2, 300), dtype=np.uint8)], [0], "too wide")


def test_synthetic_letters_are_deterministic_balanced_and_dotted(tmp_path):
    entry = {"source": "synthetic_letters", "count": 100, "image_size": [16, 16]}
    first, again = run(tmp_path / "a", entry), run(tmp_path / "b", entry)
    np.testing.assert_array_equal(first["train"].images, again["train"].images)
    assert [len(first[s].labels) for s in SPLITS] == [80, 10, 10]
    assert np.bincount(first["test"].labels).tolist() == [2] * 5
    meta = first["train"].meta
    assert meta["class_names"] == list(LETTER_NAMES) and meta["class_glyphs"][1] == "\u0628"
    assert meta["preprocessing"]["box"] == [14, 14]
    other = run(tmp_path / "c", {**entry, "seed": 1})
    assert not np.array_equal(first["train"].images, other["train"].images)
