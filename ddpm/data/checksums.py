"""Streamed sha256 digests of raw files, of gzip payloads and of folders / zip archives of files.

A folder's digest is the sha256 of its ``sha256sum``-style manifest: one line
``<sha256>  <folder name>/<relative path>\\n`` per file, sorted by path (byte order). That is exactly
the ``SHA256SUMS`` file that ``cd parent && find folder -type f | sort | xargs sha256sum`` writes, so
a published ``SHA256SUMS`` checksum verifies the folder. A zip archive that holds the same folder
gets the same digest from its members, so the zip and the unpacked folder are interchangeable.
"""

from __future__ import annotations

import gzip
import hashlib
import zipfile
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from ddpm.errors import DataError

_CHUNK = 1 << 20


def stream_sha256(stream: BinaryIO) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return stream_sha256(f)


def gzip_payload_sha256(path: Path) -> str:
    """sha256 of the decompressed bytes: identical for every faithful recompression of the payload."""
    try:
        with gzip.open(path, "rb") as f:
            return stream_sha256(f)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: not a valid gzip file ({exc}); delete it and fetch it again") from exc


def folder_manifest_sha256(folder: Path) -> str:
    """Digest of the ``SHA256SUMS`` manifest of every regular file below ``folder``."""
    entries = (
        (f"{folder.name}/{p.relative_to(folder).as_posix()}", p)
        for p in folder.rglob("*")
        if p.is_file()
    )
    return _manifest_sha256((name, file_sha256(p)) for name, p in entries)


def zip_manifest_sha256(path: Path) -> str:
    """Digest of the ``SHA256SUMS`` manifest of the files in a zip (member paths as stored)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = [m for m in archive.infolist() if not m.is_dir()]
            return _manifest_sha256((m.filename, _member_sha256(archive, m)) for m in members)
    except (zipfile.BadZipFile, OSError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable zip archive ({exc}); delete it and fetch it again") from exc


def file_md5(path: Path) -> str:
    """Only for files whose publishers never gave a sha256."""
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def path_sha256(path: Path) -> str:
    """A file's sha256, or a folder's manifest digest: what a fetch manifest records."""
    return folder_manifest_sha256(path) if path.is_dir() else file_sha256(path)


def _member_sha256(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> str:
    with archive.open(member) as f:
        return stream_sha256(f)


def _manifest_sha256(entries: Iterable[tuple[str, str]]) -> str:
    lines = sorted((name.encode(), digest) for name, digest in entries)
    manifest = b"".join(f"{digest}  ".encode() + name + b"\n" for name, digest in lines)
    return hashlib.sha256(manifest).hexdigest()
