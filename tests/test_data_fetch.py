"""Fetching raw files: raw folder, mirror, URL; checksums, pins, and the offline error."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import logging

import pytest
from datafiles import (
    install_source,
    serve_directory,
    sha256_of,
    with_checksums_of,
    with_urls,
    write_captcha_folder,
    write_mnist_files,
    zip_folder,
)

from ddpm.data import SOURCES, fetch_raw
from ddpm.data.checksums import folder_manifest_sha256, zip_manifest_sha256
from ddpm.errors import ChecksumError, ConfigError, MissingRawFilesError

MNIST_FILES = [raw.name for raw in SOURCES["mnist"].raw_files]


@pytest.fixture
def mirror(tmp_path):
    write_mnist_files(tmp_path / "mirror" / "mnist")
    return tmp_path / "mirror"


@pytest.fixture
def tiny_mnist(monkeypatch, mirror):
    source = with_checksums_of(SOURCES["mnist"], mirror / "mnist", payload=True)
    install_source(monkeypatch, source)
    return source


def leftovers(folder):
    """Anything in the raw folder besides complete raw files: temporary copies, staging folders."""
    return [p.name for p in folder.iterdir() if p.name.startswith(".")] if folder.exists() else []


def test_copies_from_the_mirror_subfolder(tmp_path, tiny_mnist, mirror):
    raw_dir = tmp_path / "raw"
    manifest = fetch_raw("mnist", raw_dir, mirror=mirror, download=False)
    assert sorted(manifest["files"]) == sorted(MNIST_FILES)
    for name, entry in manifest["files"].items():
        assert entry["sha256"] == sha256_of(raw_dir / name) == sha256_of(mirror / "mnist" / name)
        assert entry["origin"] == "mirror" and entry["check"] == "registry sha256"
        assert entry["location"] == str(mirror / "mnist" / name)
    assert manifest["files"]["train-images-idx3-ubyte.gz"]["role"] == "train_images"


def test_copies_from_the_mirror_itself(tmp_path, tiny_mnist, mirror):
    manifest = fetch_raw("mnist", tmp_path / "raw", mirror=mirror / "mnist", download=False)
    assert {e["origin"] for e in manifest["files"].values()} == {"mirror"}


def test_raw_folder_comes_first(tmp_path, tiny_mnist, mirror):
    raw_dir = mirror / "mnist"
    manifest = fetch_raw("mnist", raw_dir, mirror=tmp_path / "nowhere", download=False)
    assert {e["origin"] for e in manifest["files"].values()} == {"raw folder"}


def test_checksum_mismatch_stops_and_leaves_nothing(tmp_path, tiny_mnist, mirror):
    damaged = mirror / "mnist" / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(gzip.compress(b"not the labels"))
    raw_dir = tmp_path / "raw"
    with pytest.raises(ChecksumError) as caught:
        fetch_raw("mnist", raw_dir, mirror=mirror, download=False)
    message = str(caught.value)
    expected = next(r.sha256 for r in tiny_mnist.raw_files if r.name == damaged.name)
    assert str(damaged) in message and expected in message and sha256_of(damaged) in message
    assert f"sha256: {{'{damaged.name}': '{sha256_of(damaged)}'}}" in message  # how to pin it
    assert not (raw_dir / damaged.name).exists()
    assert leftovers(raw_dir) == []


def test_checksum_mismatch_in_the_raw_folder(tmp_path, tiny_mnist, mirror):
    (mirror / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(ChecksumError, match=r"train-labels-idx1-ubyte\.gz: checksum mismatch .* delete it"):
        fetch_raw("mnist", mirror / "mnist", download=False)


def test_faithful_recompression_is_accepted_by_its_payload(tmp_path, tiny_mnist, mirror):
    path = mirror / "mnist" / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(gzip.decompress(path.read_bytes()), compresslevel=1, mtime=12345))
    manifest = fetch_raw("mnist", tmp_path / "raw", mirror=mirror, download=False)
    entry = manifest["files"]["train-images-idx3-ubyte.gz"]
    assert entry["check"] == "registry sha256 of the decompressed payload (a faithful re-packing)"
    assert entry["sha256"] == sha256_of(path)


def test_pinned_sha256_accepts_another_copy(tmp_path, tiny_mnist, mirror):
    path = mirror / "mnist" / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(gzip.compress(b"a re-encoded copy"))
    options = {"source": "mnist", "sha256": {path.name: sha256_of(path)}}
    manifest = fetch_raw("mnist", tmp_path / "raw", options=options, mirror=mirror, download=False)
    assert manifest["files"][path.name]["check"] == "pinned sha256"


def test_pinned_sha256_must_match(tmp_path, tiny_mnist, mirror):
    options = {"sha256": {"t10k-labels-idx1-ubyte.gz": "0" * 64}}
    with pytest.raises(ChecksumError, match=r"expected pinned sha256 0{64}"):
        fetch_raw("mnist", tmp_path / "raw", options=options, mirror=mirror, download=False)


def test_unknown_checksum_is_accepted_with_a_warning(tmp_path, monkeypatch, mirror, caplog):
    source = SOURCES["mnist"]
    unknown = tuple(dataclasses.replace(raw, sha256=None, content_sha256=None) for raw in source.raw_files)
    install_source(monkeypatch, dataclasses.replace(source, raw_files=unknown))
    with caplog.at_level(logging.WARNING, logger="ddpm.data.fetch"):
        manifest = fetch_raw("mnist", tmp_path / "raw", mirror=mirror, download=False)
    entry = manifest["files"]["train-images-idx3-ubyte.gz"]
    assert entry["check"].startswith("unverified")
    assert entry["sha256"] == sha256_of(mirror / "mnist" / "train-images-idx3-ubyte.gz")
    assert "no official checksum is known for train-images-idx3-ubyte.gz" in caplog.text


def test_offline_error_lists_files_urls_and_folder(tmp_path, tiny_mnist):
    raw_dir = tmp_path / "raw"
    with pytest.raises(MissingRawFilesError) as caught:
        fetch_raw("mnist", raw_dir, download=False)
    message = str(caught.value)
    assert "4 raw file(s) missing" in message and "downloads are off" in message
    for raw in tiny_mnist.raw_files:
        assert raw.name in message and raw.urls[0] in message
    assert f"Put them in {raw_dir.resolve()}/" in message and "mnist/ sub-folder" in message
    assert "DDPM_MIRROR" in message


def test_downloads_from_the_url(tmp_path, monkeypatch, mirror):
    with serve_directory(mirror / "mnist") as base_url:
        install_source(monkeypatch, with_urls(with_checksums_of(SOURCES["mnist"], mirror / "mnist"), base_url))
        manifest = fetch_raw("mnist", tmp_path / "raw", timeout=10)
    for name, entry in manifest["files"].items():
        assert entry["origin"] == "download" and entry["location"] == base_url + name
        assert sha256_of(tmp_path / "raw" / name) == entry["sha256"]


def test_downloaded_file_with_wrong_checksum_is_not_kept(tmp_path, monkeypatch, mirror):
    source = with_checksums_of(SOURCES["mnist"], mirror / "mnist")
    (mirror / "mnist" / "t10k-images-idx3-ubyte.gz").write_bytes(b"an error page")
    with serve_directory(mirror / "mnist") as base_url:
        install_source(monkeypatch, with_urls(source, base_url))
        with pytest.raises(ChecksumError, match=r"t10k-images-idx3-ubyte\.gz: checksum mismatch"):
            fetch_raw("mnist", tmp_path / "raw", timeout=10)
    assert not (tmp_path / "raw" / "t10k-images-idx3-ubyte.gz").exists()
    assert leftovers(tmp_path / "raw") == []


def test_failed_download_is_reported_as_missing(tmp_path, monkeypatch, mirror):
    (tmp_path / "empty").mkdir()
    with serve_directory(tmp_path / "empty") as base_url:
        install_source(monkeypatch, with_urls(with_checksums_of(SOURCES["mnist"], mirror / "mnist"), base_url))
        failed = r"download failed: http://127\.0\.0\.1:\d+/train-images-idx3-ubyte\.gz: HTTP Error 404"
        with pytest.raises(MissingRawFilesError, match=failed):
            fetch_raw("mnist", tmp_path / "raw", timeout=10)


def test_folder_digest_is_that_of_its_sha256sums_file(tmp_path):
    folder = write_captcha_folder(tmp_path / "captcha_images_v2", ["22d5n", "226md"])
    sums = "".join(
        f"{sha256_of(folder / name)}  captcha_images_v2/{name}\n" for name in ["226md.png", "22d5n.png"]
    )
    assert folder_manifest_sha256(folder) == hashlib.sha256(sums.encode()).hexdigest()
    assert zip_manifest_sha256(zip_folder(folder, tmp_path / "captcha_images_v2.zip")) == folder_manifest_sha256(folder)


@pytest.mark.parametrize("packed", ["folder", "zip"])
def test_captcha_folder_or_zip_verified_by_content(tmp_path, monkeypatch, packed):
    folder = write_captcha_folder(tmp_path / "mirror" / "captcha" / "captcha_images_v2", ["22d5n", "226md"])
    raw = dataclasses.replace(SOURCES["captcha"].raw_files[0], content_sha256=folder_manifest_sha256(folder))
    install_source(monkeypatch, dataclasses.replace(SOURCES["captcha"], raw_files=(raw,)))
    if packed == "zip":
        zip_folder(folder, folder.parent / "captcha_images_v2.zip")
    manifest = fetch_raw("captcha", tmp_path / "raw", mirror=tmp_path / "mirror", download=False)
    name = "captcha_images_v2.zip" if packed == "zip" else "captcha_images_v2"
    assert list(manifest["files"]) == [name] and (tmp_path / "raw" / name).exists()
    assert "SHA256SUMS manifest" in manifest["files"][name]["check"]
    assert leftovers(tmp_path / "raw") == []


def test_captcha_folder_with_a_changed_file_is_refused(tmp_path, monkeypatch):
    folder = write_captcha_folder(tmp_path / "mirror" / "captcha_images_v2", ["22d5n", "226md"])
    raw = dataclasses.replace(SOURCES["captcha"].raw_files[0], content_sha256=folder_manifest_sha256(folder))
    install_source(monkeypatch, dataclasses.replace(SOURCES["captcha"], raw_files=(raw,)))
    write_captcha_folder(folder, ["bbbbb"])
    with pytest.raises(ChecksumError, match=r"captcha_images_v2: checksum mismatch"):
        fetch_raw("captcha", tmp_path / "raw", mirror=tmp_path / "mirror", download=False)
    assert not (tmp_path / "raw" / "captcha_images_v2").exists() and leftovers(tmp_path / "raw") == []


def test_stanford_cars_says_what_to_fetch_by_hand(tmp_path):
    with pytest.raises(MissingRawFilesError) as caught:
        fetch_raw("stanford_cars", tmp_path / "raw", download=True)
    message = str(caught.value)
    for raw in SOURCES["stanford_cars"].raw_files:
        assert f"{raw.name} (formerly at {raw.urls[0]}, md5 {raw.md5})" in message
    assert "cannot be downloaded automatically" in message and str((tmp_path / "raw").resolve()) in message


def test_sources_without_raw_files_need_no_fetch(tmp_path):
    assert fetch_raw("synthetic_digits", tmp_path / "raw") == {"source": "synthetic_digits", "files": {}}


@pytest.mark.parametrize(
    "options, problem",
    [
        ({"sha256": {"train.gz": "0" * 64}}, "sha256 pin for 'train.gz'"),
        ({"sha256": {"t10k-labels-idx1-ubyte.gz": "ABC"}}, "64 lowercase hex digits"),
        ({"image_size": [8, 8]}, "does not accept option.* image_size"),
        ({"source": "hoda"}, "source 'hoda' is not 'mnist'"),
    ],
)
def test_bad_options(tmp_path, options, problem):
    with pytest.raises(ConfigError, match=problem):
        fetch_raw("mnist", tmp_path / "raw", options=options, download=False)


def test_image_folder_needs_a_path(tmp_path):
    with pytest.raises(ConfigError, match=r"'image_folder' needs the option.* path"):
        fetch_raw("image_folder", tmp_path / "raw", options={"source": "image_folder"})
