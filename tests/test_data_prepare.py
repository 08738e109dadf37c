"""Preparing datasets: the npz + sidecar contract, deterministic splits, every source's preparer,
and no partial output after an error."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import pickle
import tarfile

import numpy as np
import pytest
from datafiles import (
    digit_images,
    encode_cdb,
    install_source,
    sha256_of,
    with_checksums_of,
    write_captcha_folder,
    write_cifar_tarball,
    write_mnist_files,
    write_png,
    write_stanford_cars,
    zip_folder,
)

from ddpm.data import SOURCES, fetch_raw, load_split, prepare_dataset
from ddpm.data.checksums import folder_manifest_sha256
from ddpm.errors import ChecksumError, ConfigError, DataError
from ddpm.io import write_json

SIDECAR_KEYS = {
    "dataset", "source", "split", "count", "image_shape", "label_kind", "num_classes", "class_names",
    "class_counts", "alphabet", "text_length", "pixel_mean", "pixel_std", "sources", "preprocessing",
}
OUTPUTS = sorted(f"{split}.{ext}" for split in ("train", "val", "test") for ext in ("npz", "json"))


def run(tmp_path, name, entry, *, mirror=None):
    """Fetch (from ``mirror``) and prepare ``entry`` into ``tmp_path/data/name``; return that folder."""
    raw_dir, out_dir = tmp_path / "raw" / name, tmp_path / "data" / name
    manifest = raw_dir / "MANIFEST.json"
    write_json(manifest, fetch_raw(entry["source"], raw_dir, options=entry, mirror=mirror, download=False))
    prepare_dataset(name, entry, manifest=manifest, raw_dir=raw_dir, out_dir=out_dir)
    return out_dir


def output_files(out_dir):
    return sorted(p.name for p in out_dir.iterdir()) if out_dir.exists() else []


@pytest.fixture
def mnist_mirror(tmp_path, monkeypatch):
    write_mnist_files(tmp_path / "mirror")
    install_source(monkeypatch, with_checksums_of(SOURCES["mnist"], tmp_path / "mirror"))
    return tmp_path / "mirror"


def test_npz_and_sidecar_contract(tmp_path, mnist_mirror):
    out_dir = run(tmp_path, "digits", {"source": "mnist", "val_size": 8}, mirror=mnist_mirror)
    assert output_files(out_dir) == OUTPUTS
    manifest = json.loads((tmp_path / "raw" / "digits" / "MANIFEST.json").read_text())
    for split, count in (("train", 32), ("val", 8), ("test", 10)):
        data = load_split(out_dir / f"{split}.npz")
        assert data.images.dtype == np.uint8 and data.images.shape == (count, 8, 8, 1)
        assert data.labels.dtype == np.int64 and data.labels.shape == (count,)
        meta = data.meta
        assert SIDECAR_KEYS <= set(meta)
        assert (meta["dataset"], meta["source"], meta["split"], meta["count"]) == ("digits", "mnist", split, count)
        assert meta["image_shape"] == [8, 8, 1] and meta["label_kind"] == "class"
        assert meta["num_classes"] == 10 and meta["class_names"] == list("0123456789")
        assert meta["class_counts"] == {name: int((data.labels == i).sum()) for i, name in enumerate("0123456789")}
        assert meta["alphabet"] is None and meta["text_length"] is None
        assert meta["pixel_mean"] == [pytest.approx(data.images.mean() / 255)]
        assert meta["pixel_std"] == [pytest.approx(data.images.std() / 255)]
        assert meta["sources"] == {name: entry["sha256"] for name, entry in manifest["files"].items()}
        assert meta["preprocessing"] == {"val_size": 8, "seed": 0}


def test_validation_is_carved_from_train_deterministically(tmp_path, mnist_mirror):
    first = run(tmp_path / "a", "d", {"source": "mnist", "val_size": 0.25}, mirror=mnist_mirror)
    again = run(tmp_path / "b", "d", {"source": "mnist", "val_size": 0.25}, mirror=mnist_mirror)
    other = run(tmp_path / "c", "d", {"source": "mnist", "val_size": 0.25, "seed": 1}, mirror=mnist_mirror)
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(
            load_split(first / f"{split}.npz").images, load_split(again / f"{split}.npz").images
        )
    val, other_val = load_split(first / "val.npz"), load_split(other / "val.npz")
    assert len(val.images) == 10 and not np.array_equal(val.images, other_val.images)
    train = load_split(first / "train.npz")
    rows = {image.tobytes() for image in np.concatenate([train.images, val.images])}
    assert len(rows) == 40  # train and val partition the official training images


def test_split_size_must_leave_training_images(tmp_path, mnist_mirror):
    with pytest.raises(ConfigError, match="val_size=40 asks for 40 of 40 images"):
        run(tmp_path, "d", {"source": "mnist", "val_size": 40}, mirror=mnist_mirror)


def test_raw_file_changed_since_fetch_is_refused_and_nothing_written(tmp_path, mnist_mirror):
    raw_dir, out_dir = tmp_path / "raw", tmp_path / "out"
    write_json(raw_dir / "MANIFEST.json", fetch_raw("mnist", raw_dir, mirror=mnist_mirror, download=False))
    (raw_dir / "t10k-labels-idx1-ubyte.gz").write_bytes(b"tampered")
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz: sha256 .* recorded in .*MANIFEST\.json"):
        prepare_dataset("d", {"source": "mnist"}, manifest=raw_dir / "MANIFEST.json", raw_dir=raw_dir, out_dir=out_dir)
    assert output_files(out_dir) == []


def test_no_partial_output_when_a_raw_file_is_malformed(tmp_path, mnist_mirror):
    short = mnist_mirror / "t10k-images-idx3-ubyte.gz"
    short.write_bytes(gzip.compress(gzip.decompress(short.read_bytes())[:-7]))
    entry = {"source": "mnist", "sha256": {short.name: sha256_of(short)}}
    out_dir = tmp_path / "data" / "d"
    out_dir.mkdir(parents=True)
    with pytest.raises(DataError, match=r"t10k-images-idx3-ubyte\.gz: payload short"):
        run(tmp_path, "d", entry, mirror=mnist_mirror)
    assert output_files(out_dir) == []


# --- Hoda -------------------------------------------------------------------------------------------


@pytest.fixture
def hoda_mirror(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror" / "hoda_digits"
    mirror.mkdir(parents=True)
    for name, count, seed in (("Train 60000.cdb", 20, 0), ("Test 20000.cdb", 10, 1), ("RemainingSamples.cdb", 7, 2)):
        labels = [i % 10 for i in range(count)]
        (mirror / name).write_bytes(encode_cdb(digit_images(count, seed), labels))
    install_source(monkeypatch, with_checksums_of(SOURCES["hoda"], mirror))
    return tmp_path / "mirror"


def test_hoda_uses_its_three_files_as_splits(tmp_path, hoda_mirror):
    out_dir = run(tmp_path, "hoda", {"source": "hoda"}, mirror=hoda_mirror)
    counts = {split: load_split(out_dir / f"{split}.npz").meta for split in ("train", "val", "test")}
    assert {s: m["count"] for s, m in counts.items()} == {"train": 20, "val": 7, "test": 10}
    assert counts["train"]["class_counts"] == {str(d): 2 for d in range(10)}
    assert counts["train"]["image_shape"] == [28, 28, 1]
    assert counts["train"]["preprocessing"]["box"] == [20, 20]


def test_hoda_image_size_is_configurable(tmp_path, hoda_mirror):
    out_dir = run(tmp_path, "hoda", {"source": "hoda", "image_size": [32, 32]}, mirror=hoda_mirror)
    split = load_split(out_dir / "test.npz")
    assert split.images.shape == (10, 32, 32, 1) and split.meta["preprocessing"]["box"] == [23, 23]


def test_hoda_corrupt_file_leaves_no_output(tmp_path, hoda_mirror):
    path = hoda_mirror / "hoda_digits" / "RemainingSamples.cdb"
    path.write_bytes(path.read_bytes() + b"\x00")
    entry = {"source": "hoda", "sha256": {path.name: sha256_of(path)}}
    with pytest.raises(DataError, match=r"RemainingSamples\.cdb: 1 trailing bytes at offset"):
        run(tmp_path, "hoda", entry, mirror=hoda_mirror)
    assert output_files(tmp_path / "data" / "hoda") == []


# --- CAPTCHA ----------------------------------------------------------------------------------------

TEXTS = ["226md", "22d5n", "2356g", "23mdg", "24pew", "25257", "2b827", "2bg48", "3bfnd", "4dw3w", "bcdef", "nnnnn"]


@pytest.fixture
def captcha_mirror(tmp_path, monkeypatch):
    folder = write_captcha_folder(tmp_path / "mirror" / "captcha_images_v2", TEXTS)
    raw = dataclasses.replace(SOURCES["captcha"].raw_files[0], content_sha256=folder_manifest_sha256(folder))
    install_source(monkeypatch, dataclasses.replace(SOURCES["captcha"], raw_files=(raw,)))
    return tmp_path / "mirror"


CAPTCHA_ENTRY = {"source": "captcha", "test_size": 3, "val_size": 2}


def test_captcha_holds_out_strings_and_records_the_alphabet(tmp_path, captcha_mirror):
    out_dir = run(tmp_path, "captcha", CAPTCHA_ENTRY, mirror=captcha_mirror)
    splits = {s: load_split(out_dir / f"{s}.npz") for s in ("train", "val", "test")}
    assert {s: len(d.labels) for s, d in splits.items()} == {"train": 7, "val": 2, "test": 3}
    assert sorted(np.concatenate([d.labels for d in splits.values()])) == sorted(TEXTS)
    assert not set(splits["test"].labels) & set(splits["train"].labels)
    meta = splits["train"].meta
    assert splits["train"].labels.dtype == np.dtype("<U5")
    assert (meta["label_kind"], meta["alphabet"], meta["text_length"]) == ("text", "2345678bcdefgmnpwxy", 5)
    assert (meta["num_classes"], meta["class_names"], meta["class_counts"]) == (0, [], {})
    assert meta["image_shape"] == [32, 128, 1]
    image = splits["train"].images[0, :, :, 0]
    assert image[0, 0] < 128 < image.max()  # inverted: text bright on a dark background


def test_captcha_zip_gives_the_same_dataset_as_the_folder(tmp_path, captcha_mirror):
    from_folder = run(tmp_path / "f", "c", CAPTCHA_ENTRY, mirror=captcha_mirror)
    (tmp_path / "zip").mkdir()
    zip_folder(captcha_mirror / "captcha_images_v2", tmp_path / "zip" / "captcha_images_v2.zip")
    from_zip = run(tmp_path / "z", "c", CAPTCHA_ENTRY, mirror=tmp_path / "zip")
    for split in ("train", "test"):
        np.testing.assert_array_equal(
            load_split(from_folder / f"{split}.npz").images, load_split(from_zip / f"{split}.npz").images
        )


def test_invalid_captcha_name(tmp_path, captcha_mirror):
    folder = captcha_mirror / "captcha_images_v2"
    (folder / "226md.png").rename(folder / "226mA.png")
    entry = {**CAPTCHA_ENTRY, "sha256": {"captcha_images_v2": folder_manifest_sha256(folder)}}
    with pytest.raises(DataError, match=r"226mA\.png: the file name is not a valid CAPTCHA text"):
        run(tmp_path, "captcha", entry, mirror=captcha_mirror)
    assert output_files(tmp_path / "data" / "captcha") == []


def test_undecodable_png(tmp_path, captcha_mirror):
    folder = captcha_mirror / "captcha_images_v2"
    (folder / "22d5n.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 40)
    entry = {**CAPTCHA_ENTRY, "sha256": {"captcha_images_v2": folder_manifest_sha256(folder)}}
    with pytest.raises(DataError, match=r"22d5n\.png: the image does not decode"):
        run(tmp_path, "captcha", entry, mirror=captcha_mirror)
    assert output_files(tmp_path / "data" / "captcha") == []


# --- CIFAR-10 ---------------------------------------------------------------------------------------


def cifar_mirror(tmp_path, monkeypatch, **kwargs):
    mirror = tmp_path / "mirror"
    mirror.mkdir(exist_ok=True)
    write_cifar_tarball(mirror / "cifar-10-python.tar.gz", **kwargs)
    install_source(monkeypatch, with_checksums_of(SOURCES["cifar10"], mirror))
    return mirror


def test_cifar10_from_the_tarball(tmp_path, monkeypatch):
    mirror = cifar_mirror(tmp_path, monkeypatch)
    out_dir = run(tmp_path, "cifar", {"source": "cifar10", "val_size": 5}, mirror=mirror)
    train, val, test = (load_split(out_dir / f"{s}.npz") for s in ("train", "val", "test"))
    assert (len(train.labels), len(val.labels), len(test.labels)) == (15, 5, 6)
    assert train.images.shape[1:] == (32, 32, 3) and train.meta["class_names"][9] == "truck"
    with tarfile.open(mirror / "cifar-10-python.tar.gz") as archive:
        batch = pickle.load(archive.extractfile("cifar-10-batches-py/test_batch"), encoding="bytes")
    row = batch[b"data"][0]
    np.testing.assert_array_equal(test.images[0, 0, 0], [row[0], row[1024], row[2048]])  # R, G, B planes
    np.testing.assert_array_equal(test.labels, batch[b"labels"])


def test_cifar10_pickle_with_foreign_objects_is_refused(tmp_path, monkeypatch):
    mirror = cifar_mirror(tmp_path, monkeypatch, meta={b"label_names": [b"a"], b"hook": dataclasses.field})
    refused = r"batches\.meta is not a CIFAR-10 pickle \(refusing to load dataclasses\.field\)"
    with pytest.raises(DataError, match=refused):
        run(tmp_path, "cifar", {"source": "cifar10"}, mirror=mirror)


# --- image folder -----------------------------------------------------------------------------------


def write_images(folder, count, seed=0, shape=(20, 30, 3)):
    rng = np.random.default_rng(seed)
    for i in range(count):
        write_png(folder / f"img{i}.png", rng.integers(0, 256, shape, dtype=np.uint8))


def test_image_folder_with_class_subfolders(tmp_path):
    write_images(tmp_path / "pics" / "cats", 6)
    write_images(tmp_path / "pics" / "dogs", 4, seed=1)
    (tmp_path / "pics" / "dogs" / "notes.txt").write_text("not an image")
    entry = {"source": "image_folder", "path": str(tmp_path / "pics"), "image_size": [8, 12]}
    entry |= {"val_size": 2, "test_size": 2}
    out_dir = run(tmp_path, "pets", entry)
    train = load_split(out_dir / "train.npz")
    assert train.images.shape == (6, 8, 12, 3) and train.meta["class_names"] == ["cats", "dogs"]
    assert train.meta["sources"] == {str(tmp_path / "pics"): folder_manifest_sha256(tmp_path / "pics")}
    total = sum(load_split(out_dir / f"{s}.npz").meta["class_counts"]["cats"] for s in ("train", "val", "test"))
    assert total == 6


def test_flat_image_folder_is_unlabelled_grey(tmp_path):
    write_images(tmp_path / "pics", 10)
    entry = {"source": "image_folder", "path": str(tmp_path / "pics"), "channels": 1, "image_size": [8, 8]}
    split = load_split(run(tmp_path, "flat", entry) / "train.npz")
    assert split.meta["label_kind"] == "none" and split.meta["num_classes"] == 0
    assert split.images.shape == (8, 8, 8, 1) and not split.labels.any()


def test_empty_image_folder(tmp_path):
    (tmp_path / "pics").mkdir()
    with pytest.raises(DataError, match=r"pics: no images"):
        run(tmp_path, "empty", {"source": "image_folder", "path": str(tmp_path / "pics")})
    assert output_files(tmp_path / "data" / "empty") == []


def test_undecodable_image_in_a_folder(tmp_path):
    write_images(tmp_path / "pics", 5)
    (tmp_path / "pics" / "img3.png").write_bytes(b"garbage")
    with pytest.raises(DataError, match=r"img3\.png: the image does not decode"):
        run(tmp_path, "bad", {"source": "image_folder", "path": str(tmp_path / "pics")})


def test_image_folder_mixing_images_and_class_folders(tmp_path):
    write_images(tmp_path / "pics", 2)
    write_images(tmp_path / "pics" / "cats", 2)
    with pytest.raises(DataError, match="has both images"):
        run(tmp_path, "mixed", {"source": "image_folder", "path": str(tmp_path / "pics")})


# --- Stanford Cars ----------------------------------------------------------------------------------


def test_stanford_cars_from_its_original_files(tmp_path, monkeypatch):
    mirror = write_stanford_cars(tmp_path / "mirror")
    source = SOURCES["stanford_cars"]
    with_md5 = tuple(
        dataclasses.replace(raw, md5=hashlib.md5((mirror / raw.name).read_bytes()).hexdigest())
        for raw in source.raw_files
    )
    install_source(monkeypatch, dataclasses.replace(source, raw_files=with_md5))
    out_dir = run(tmp_path, "cars", {"source": "stanford_cars", "image_size": [16, 24], "val_size": 2}, mirror=mirror)
    manifest = json.loads((tmp_path / "raw" / "cars" / "MANIFEST.json").read_text())
    assert {e["check"] for e in manifest["files"].values()} == {"registry md5 (no sha256 was ever published)"}
    train, test = load_split(out_dir / "train.npz"), load_split(out_dir / "test.npz")
    assert train.images.shape == (4, 16, 24, 3) and len(test.labels) == 4
    assert train.meta["class_names"] == ["Car model 0", "Car model 1", "Car model 2"]
    assert test.labels.tolist() == [0, 1, 2, 0]


# --- synthetic --------------------------------------------------------------------------------------


def test_synthetic_digits_are_deterministic_and_balanced(tmp_path):
    entry = {"source": "synthetic_digits", "count": 100, "image_size": [12, 12]}
    first, again = run(tmp_path / "a", "s", entry), run(tmp_path / "b", "s", entry)
    a, b = load_split(first / "train.npz"), load_split(again / "train.npz")
    np.testing.assert_array_equal(a.images, b.images)
    assert a.images.shape == (80, 12, 12, 1)  # 10% test, 10% val
    assert a.meta["class_names"][0] == "ring"
    counts = [load_split(first / f"{s}.npz").meta["class_counts"] for s in ("train", "val", "test")]
    total = sum(np.array(list(c.values())) for c in counts)
    assert total.tolist() == [10] * 10
    other = load_split(run(tmp_path / "c", "s", {**entry, "seed": 3}) / "train.npz")
    assert not np.array_equal(a.images, other.images)


def test_synthetic_text_holds_out_strings(tmp_path):
    entry = {"source": "synthetic_text", "count": 50, "alphabet": "ab", "text_length": 3}
    out_dir = run(tmp_path, "t", entry)
    train, test = load_split(out_dir / "train.npz"), load_split(out_dir / "test.npz")
    assert train.meta["alphabet"] == "ab" and train.meta["text_length"] == 3
    assert train.images.shape[1:] == (16, 64, 1) and train.labels.dtype == np.dtype("<U3")
    assert not set(train.labels) & set(test.labels)
    assert set("".join(train.labels)) <= {"a", "b"}
