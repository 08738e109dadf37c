"""Reader for CAPTCHA text images stored as ``<text>.png``, in a folder or in a zip archive.

Every file must be named by its text: exactly ``length`` characters of ``alphabet`` plus ``.png``.
"""

from __future__ import annotations

import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PIL import Image

from ddpm.data.imaging import decode_image
from ddpm.errors import DataError


@dataclass(frozen=True)
class TextImage:
    text: str
    image: Image.Image  # grey ("L"), as stored


def read_text_images(path: Path, alphabet: str, length: int) -> list[TextImage]:
    """All images of a folder or zip, sorted by text; every name is checked before decoding."""
    files = _read_files(path)
    if not files:
        raise DataError(f"{path}: no files; expected .png images named by their {length}-character text")
    texts = {name: _text_of(name, alphabet, length) for name in files}
    images = [TextImage(texts[name], decode_image(data, name, "L")) for name, data in files.items()]
    return sorted(images, key=lambda item: item.text)


def _text_of(name: str, alphabet: str, length: int) -> str:
    file = PurePosixPath(name)
    if file.suffix != ".png" or len(file.stem) != length or set(file.stem) - set(alphabet):
        raise DataError(
            f"{name}: the file name is not a valid CAPTCHA text: expected {length} characters of "
            f"'{alphabet}' followed by .png; remove or rename the file"
        )
    return file.stem


def _read_files(path: Path) -> dict[str, bytes]:
    """Every regular file's bytes, keyed by a name that locates it (zip members as ``zip:member``)."""
    if path.is_dir():
        return {str(file): file.read_bytes() for file in sorted(path.rglob("*")) if file.is_file()}
    try:
        with zipfile.ZipFile(path) as archive:
            return {
                f"{path}:{member.filename}": archive.read(member)
                for member in archive.infolist()
                if not member.is_dir()
            }
    except (zipfile.BadZipFile, OSError, zlib.error) as exc:
        raise DataError(f"{path}: not a readable zip archive ({exc}); delete it and fetch it again") from exc
