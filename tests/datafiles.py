"""Writers of tiny raw data files in the real formats (cdb, idx, PNG, CIFAR tarball, zip, .mat),
and a local HTTP server, for the data tests."""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import io
import pickle
import struct
import tarfile
import threading
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from PIL import Image

CDB_HEADER_SIZE = 1024


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- Hoda .cdb -------------------------------------------------------------------------------------


def encode_rows(image: np.ndarray) -> bytes:
    """Run lengths of a binary (h, w) image: per row, background first, stop when the row is full."""
    runs = bytearray()
    for row in image > 0:
        x, ink = 0, False
        while x < len(row):
            end = x
            while end < len(row) and row[end] == ink:
                end += 1
            runs.append(end - x)
            x, ink = end, not ink
    return bytes(runs)


def encode_cdb(
    images: Sequence[np.ndarray], labels: Sequence[int], *, fixed_size: tuple[int, int] | None = None
) -> bytes:
    """A binary run-length .cdb file; ``fixed_size`` (W, H) puts the size in the header instead."""
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=128)
    width, height = fixed_size or (0, 0)
    header = struct.pack(
        "<HBBBBI128IB256s245s", 2005, 8, 4, width, height, len(images), *counts, 0, b"tiny test file", b""
    )
    records = bytearray()
    for image, label in zip(images, labels, strict=True):
        data = encode_rows(image)
        size = b"" if fixed_size else struct.pack("<BB", image.shape[1], image.shape[0])
        records += bytes([0xFF, label]) + size + struct.pack("<H", len(data)) + data
    return header + bytes(records)


def cdb_record_offsets(data: bytes, count: int, record_header: int = 6) -> list[int]:
    """Byte offset of every record of a (well-formed) .cdb file."""
    offsets, offset = [], CDB_HEADER_SIZE
    for _ in range(count):
        offsets.append(offset)
        (byte_count,) = struct.unpack_from("<H", data, offset + record_header - 2)
        offset += record_header + byte_count
    return offsets


def digit_images(count: int, seed: int = 0) -> list[np.ndarray]:
    """Binary (0/255) blobs of varying size, a filled rectangle with a hole."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        h, w = rng.integers(6, 30), rng.integers(4, 20)
        image = np.zeros((h, w), dtype=np.uint8)
        image[1:-1, 1:-1] = 255
        image[h // 3 : h // 2, w // 3 : max(w // 3 + 1, w // 2)] = 0
        images.append(image)
    return images


# --- idx --------------------------------------------------------------------------------------------


def encode_idx(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_idx(path: Path, array: np.ndarray, *, compress: bool = True) -> Path:
    data = encode_idx(array)
    path.write_bytes(gzip.compress(data, mtime=0) if compress else data)
    return path


def write_mnist_files(folder: Path, *, train: int = 40, test: int = 10, seed: int = 0) -> dict[str, np.ndarray]:
    """The four MNIST-named .gz files with random 8x8 images and labels 0-9."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte.gz": rng.integers(0, 256, (train, 8, 8), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": np.arange(train, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte.gz": rng.integers(0, 256, (test, 8, 8), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": np.arange(test, dtype=np.uint8) % 10,
    }
    for name, array in arrays.items():
        write_idx(folder / name, array)
    return arrays


# --- images, CAPTCHA, zip ----------------------------------------------------------------------------


def write_png(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return path


def write_captcha_folder(folder: Path, texts: Sequence[str]) -> Path:
    """RGBA grey 50x200 PNGs named by their text, dark text on a light background like the real ones."""
    for i, text in enumerate(texts):
        grey = np.full((50, 200), 200, dtype=np.uint8)
        grey[15:35, 20 + 3 * i % 100 : 60 + 3 * i % 100] = 30
        write_png(folder / f"{text}.png", np.dstack([grey, grey, grey, np.full_like(grey, 255)]))
    return folder


def zip_folder(folder: Path, zip_path: Path) -> Path:
    with zipfile.ZipFile(zip_path, "w") as archive:
        for file in sorted(folder.iterdir()):
            archive.write(file, f"{folder.name}/{file.name}")
    return zip_path


# --- CIFAR-10 ---------------------------------------------------------------------------------------

CIFAR_CLASSES = [b"airplane", b"automobile", b"bird", b"cat", b"deer", b"dog", b"frog", b"horse", b"ship", b"truck"]


def write_cifar_tarball(path: Path, *, per_batch: int = 4, test: int = 6, seed: int = 0, meta: object = None) -> Path:
    """``cifar-10-python.tar.gz`` with tiny batches pickled like the originals (bytes keys)."""
    rng = np.random.default_rng(seed)

    def batch(n: int, name: bytes) -> dict:
        return {
            b"batch_label": name,
            b"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
            b"labels": [int(v) for v in rng.integers(0, 10, n)],
            b"filenames": [b"img_%d.png" % i for i in range(n)],
        }

    members = {f"data_batch_{i}": batch(per_batch, b"training batch %d of 5" % i) for i in range(1, 6)}
    members["test_batch"] = batch(test, b"testing batch 1 of 1")
    members["batches.meta"] = meta if meta is not None else {b"label_names": CIFAR_CLASSES, b"num_vis": 3072}
    with tarfile.open(path, "w:gz") as archive:
        for name, obj in members.items():
            data = pickle.dumps(obj, protocol=2)
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


# --- Stanford Cars ----------------------------------------------------------------------------------


def _annotations(records: Sequence[tuple[int, int, int, int, int, str]]) -> np.ndarray:
    fields = ["bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "class", "fname"]
    table = np.zeros((1, len(records)), dtype=[(f, "O") for f in fields])
    for i, (x1, y1, x2, y2, label, fname) in enumerate(records):
        table[0, i] = (*(np.array([[v]], dtype=np.uint16) for v in (x1, y1, x2, y2, label)), np.array([fname]))
    return table


def _mat_bytes(variables: dict) -> bytes:
    from scipy.io import savemat

    buffer = io.BytesIO()
    savemat(buffer, variables)
    return buffer.getvalue()


def _add(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    archive.addfile(info, io.BytesIO(data))


def write_stanford_cars(folder: Path, *, classes: int = 3, train: int = 6, test: int = 4) -> Path:
    """The four files of the original release, with tiny JPEGs of 40x60 pixels."""
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    names = np.array([f"Car model {c}" for c in range(classes)], dtype=object)
    split_records = {}
    for split, count in (("train", train), ("test", test)):
        records = [(5, 4, 50, 30, i % classes + 1, f"{i + 1:05d}.jpg") for i in range(count)]
        split_records[split] = records
        with tarfile.open(folder / f"cars_{split}.tgz", "w:gz") as archive:
            for *_, fname in records:
                jpeg = io.BytesIO()
                Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(jpeg, format="JPEG")
                _add(archive, f"cars_{split}/{fname}", jpeg.getvalue())
    with tarfile.open(folder / "car_devkit.tgz", "w:gz") as archive:
        _add(archive, "devkit/cars_meta.mat", _mat_bytes({"class_names": names.reshape(1, -1)}))
        _add(archive, "devkit/cars_train_annos.mat", _mat_bytes({"annotations": _annotations(split_records["train"])}))
    (folder / "cars_test_annos_withlabels.mat").write_bytes(
        _mat_bytes({"annotations": _annotations(split_records["test"])})
    )
    return folder


# --- HTTP -------------------------------------------------------------------------------------------


@contextlib.contextmanager
def serve_directory(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1 from a thread; yields the base URL (ending in /)."""

    class QuietHandler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


# --- registry patching ------------------------------------------------------------------------------


def install_source(monkeypatch, source) -> None:
    """Make ``get_source`` return ``source`` for its key during one test."""
    from ddpm.data import registry

    monkeypatch.setattr(registry, "SOURCES", {**registry.SOURCES, source.key: source})


def with_checksums_of(source, folder: Path, *, payload: bool = False):
    """``source`` with the sha256 (and optionally gzip payload sha256) of the files in ``folder``."""
    import dataclasses

    def pinned(raw):
        path = folder / raw.name
        content = hashlib.sha256(gzip.decompress(path.read_bytes())).hexdigest() if payload else None
        return dataclasses.replace(raw, sha256=sha256_of(path), content_sha256=content)

    return dataclasses.replace(source, raw_files=tuple(pinned(raw) for raw in source.raw_files))


def with_urls(source, base_url: str):
    """``source`` downloading each raw file from ``base_url`` + its name."""
    import dataclasses

    raw_files = tuple(dataclasses.replace(raw, urls=(base_url + raw.name,)) for raw in source.raw_files)
    return dataclasses.replace(source, raw_files=raw_files)
