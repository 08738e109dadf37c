"""Put a source's raw files into a raw folder, verified, and describe them in a manifest.

Each raw file is taken from the first place that has it: (a) the raw folder itself, (b) a local
mirror folder (``<mirror>/<file>`` or ``<mirror>/<mirror_subdir>/<file>``), (c) its URLs. Whatever
the origin, it is checked against the registry's checksums (or a sha256 pinned in the config) before
it gets its final name: copies and downloads go to a temporary name first, so a failed or
interrupted fetch never leaves a half-written raw file behind. An optional raw file is only looked
for in (a) and (b), and its absence is no error.
"""

from __future__ import annotations

import http.client
import logging
import shutil
import tempfile
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ddpm.data.checksums import file_md5, file_sha256, folder_manifest_sha256, gzip_payload_sha256, zip_manifest_sha256
from ddpm.data.registry import RawFile, Source, get_source
from ddpm.errors import ChecksumError, DataError, MissingRawFilesError
from ddpm.io import atomic_path

log = logging.getLogger(__name__)

USER_AGENT = "ddpm-pipeline (dataset fetch)"
# Digests that survive a faithful re-packing, by file suffix: (how to compute it, what it covers).
_CONTENT_DIGESTS: dict[str, tuple[Callable[[Path], str], str]] = {
    ".gz": (gzip_payload_sha256, "decompressed payload"),
    ".zip": (zip_manifest_sha256, "SHA256SUMS manifest of the zipped files"),
}


def fetch_raw(
    source_key: str,
    raw_dir: Path,
    *,
    options: Mapping[str, Any] | None = None,
    mirror: Path | None = None,
    download: bool = True,
    timeout: float = 60.0,
) -> dict[str, Any]:
    """Make every raw file of ``source_key`` present and verified in ``raw_dir``; return the manifest.

    ``options`` is the dataset's config entry (only its ``sha256`` pins matter here). The manifest
    maps each raw file name to its role, sha256 (for a folder: its manifest digest), how it was
    verified, and where it came from.
    """
    source = get_source(source_key)
    pins = source.resolve_options(options or {}).get("sha256", {})
    fetcher = _Fetcher(source, Path(raw_dir), mirror, download, timeout, pins)
    files = dict(entry for raw in source.raw_files if (entry := fetcher.fetch(raw)) is not None)
    if fetcher.missing:
        raise MissingRawFilesError(fetcher.missing_message())
    return {"source": source.key, "files": files}


@dataclass
class _Fetcher:
    source: Source
    raw_dir: Path
    mirror: Path | None
    download: bool
    timeout: float
    pins: Mapping[str, str]
    missing: list[tuple[RawFile, str]] = field(default_factory=list)

    def fetch(self, raw: RawFile) -> tuple[str, dict[str, Any]] | None:
        """The manifest entry of ``raw``, or None (and a note in ``missing``) when nothing had it."""
        for name in _names(raw):
            path = self.raw_dir / name
            if path.exists():
                return self._entry(raw, path, "raw folder", path, self._verify(raw, path, name, path))
        origin = self._in_mirror(raw)
        if origin is not None:
            return self._copy(raw, origin)
        if raw.optional:
            log.info("%s: optional, in neither the raw folder nor the mirror; going without it", raw.name)
            return None
        if self.source.manual_download:
            self.missing.append((raw, "manual download"))
        elif not self.download:
            self.missing.append((raw, "downloads are off"))
        else:
            failures = []
            for url in raw.urls:
                try:
                    return self._download(raw, url)
                except ChecksumError:
                    raise
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    log.warning("download of %s from %s failed: %s", raw.name, url, exc)
                    failures.append(f"{url}: {exc}")
            self.missing.append((raw, ("download failed: " + "; ".join(failures)) if failures else "no URL known"))
        return None

    def missing_message(self) -> str:
        lines = [f"dataset source {self.source.key!r}: {len(self.missing)} raw file(s) missing:"]
        for raw, reason in self.missing:
            alternative = f" (or the unpacked folder {raw.folder}/)" if raw.folder else ""
            urls = " or ".join(raw.urls) or "no URL known"
            if self.source.manual_download:
                checksum = f", md5 {raw.md5}" if raw.md5 else ""
                lines.append(f"  - {raw.name}{alternative} (formerly at {urls}{checksum})")
            else:
                lines.append(f"  - {raw.name}{alternative} from {urls} ({reason})")
        if self.source.manual_download:
            lines.append(self.source.manual_download)
        subdir = f", directly or in its {self.source.mirror_subdir}/ sub-folder" if self.source.mirror_subdir else ""
        mirror = f"the mirror {self.mirror}" if self.mirror else "a mirror folder"
        if self.mirror is not None and not self.mirror.is_dir():
            lines.append(f"The mirror {self.mirror} does not exist: correct the config's `mirror` or DDPM_MIRROR.")
        lines.append(
            f"Put them in {self.raw_dir.resolve()}/ or in {mirror}{subdir} (a mirror is named by the config's "
            f"`mirror` or the DDPM_MIRROR environment variable), then run again."
        )
        return "\n".join(lines)

    def _in_mirror(self, raw: RawFile) -> Path | None:
        if self.mirror is None:
            return None
        folders = [self.mirror] + ([self.mirror / self.source.mirror_subdir] if self.source.mirror_subdir else [])
        found = [folder / name for folder in folders for name in _names(raw) if (folder / name).exists()]
        return found[0] if found else None

    def _copy(self, raw: RawFile, origin: Path) -> tuple[str, dict[str, Any]]:
        target = self.raw_dir / origin.name
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        if origin.is_dir():
            staging = Path(tempfile.mkdtemp(dir=self.raw_dir, prefix=f".{origin.name}."))
            try:
                shutil.copytree(origin, staging / origin.name)
                verified = self._verify(raw, staging / origin.name, origin.name, origin)
                (staging / origin.name).rename(target)
            finally:
                shutil.rmtree(staging, ignore_errors=True)
        else:
            with atomic_path(target) as tmp:
                shutil.copyfile(origin, tmp)
                verified = self._verify(raw, tmp, origin.name, origin)
        return self._entry(raw, target, "mirror", origin, verified)

    def _download(self, raw: RawFile, url: str) -> tuple[str, dict[str, Any]]:
        log.info("downloading %s from %s", raw.name, url)
        self.raw_dir.mkdir(parents=True, exist_ok=True)
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        target = self.raw_dir / raw.name
        with urllib.request.urlopen(request, timeout=self.timeout) as response, atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                shutil.copyfileobj(response, f, 1 << 20)
            verified = self._verify(raw, tmp, raw.name, url)
        return self._entry(raw, target, "download", url, verified)

    def _entry(
        self, raw: RawFile, path: Path, origin: str, location: Path | str, verified: tuple[str, str]
    ) -> tuple[str, dict[str, Any]]:
        sha256, check = verified
        log.info("%s: %s; from the %s %s", path.name, check, origin, location)
        entry = {"role": raw.role, "sha256": sha256, "check": check, "origin": origin, "location": str(location)}
        return path.name, entry

    def _verify(self, raw: RawFile, path: Path, name: str, shown_as: Path | str) -> tuple[str, str]:
        """Check the file or folder ``path`` that will be ``name``; return its sha256 and how it passed."""
        pin = self.pins.get(name)
        if path.is_dir():
            digest = folder_manifest_sha256(path)
            expected = pin or raw.content_sha256
            if expected is None:
                return digest, self._unverified(raw, shown_as, digest)
            if digest != expected:
                raise ChecksumError(self._mismatch(name, shown_as, f"SHA256SUMS manifest sha256 {expected}", digest))
            return digest, "pinned sha256" if pin else "registry sha256 of the folder's SHA256SUMS manifest"
        digest = file_sha256(path)
        if pin:
            if digest != pin:
                raise ChecksumError(self._mismatch(name, shown_as, f"pinned sha256 {pin}", digest))
            return digest, "pinned sha256"
        if digest == raw.sha256:
            return digest, "registry sha256"
        content = _CONTENT_DIGESTS.get(Path(name).suffix)
        if raw.content_sha256 and content and _content_sha256(content[0], path) == raw.content_sha256:
            return digest, f"registry sha256 of the {content[1]} (a faithful re-packing)"
        if raw.sha256 is None and raw.content_sha256 is None:
            if raw.md5 is None:
                return digest, self._unverified(raw, shown_as, digest)
            if file_md5(path) == raw.md5:
                return digest, "registry md5 (no sha256 was ever published)"
        expected = [f"sha256 {raw.sha256}"] if raw.sha256 else []
        if raw.content_sha256:
            expected.append(f"a {content[1] if content else 'content'} sha256 of {raw.content_sha256}")
        if raw.md5 and not expected:
            expected.append(f"md5 {raw.md5}")
        raise ChecksumError(self._mismatch(name, shown_as, " or ".join(expected), digest))

    def _unverified(self, raw: RawFile, shown_as: Path | str, digest: str) -> str:
        log.warning(
            "%s: no official checksum is known for %s; accepting it and recording its sha256 %s. "
            "Pin it in the dataset's config entry (sha256: {%r: %r}) to check it from now on.",
            shown_as, raw.name, digest, raw.name, digest,
        )
        return "unverified: no checksum known, sha256 recorded"

    def _mismatch(self, name: str, shown_as: Path | str, expected: str, actual: str) -> str:
        return (
            f"{shown_as}: checksum mismatch for raw file {name!r} of dataset source {self.source.key!r}: "
            f"expected {expected}, got sha256 {actual}. The file is damaged or not the published one: delete "
            f"it and fetch it again. If you trust this copy (e.g. a faithful re-encoding), pin it in the "
            f"dataset's config entry: sha256: {{{name!r}: {actual!r}}}"
        )


def _content_sha256(digest: Callable[[Path], str], path: Path) -> str | None:
    """The content digest, or None when the file cannot even be unpacked (then it simply mismatches)."""
    try:
        return digest(path)
    except DataError:
        return None


def _names(raw: RawFile) -> list[str]:
    return [raw.name] + ([raw.folder] if raw.folder else [])
