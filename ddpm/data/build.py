"""Turn a source's verified raw files into the prepared train / val / test files."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ddpm.data.checksums import folder_manifest_sha256, path_sha256
from ddpm.data.prepared_files import write_prepared
from ddpm.data.registry import Source, get_source
from ddpm.errors import ChecksumError, ConfigError, DataError
from ddpm.io import read_json

log = logging.getLogger(__name__)

# Options that say where inputs come from rather than how they are processed.
_NOT_SETTINGS = ("sha256",)


def prepare_dataset(dataset: str, entry: Mapping[str, Any], *, manifest: Path, raw_dir: Path, out_dir: Path) -> None:
    """Prepare ``dataset`` (config ``entry``: ``source`` plus options) into ``out_dir``.

    Raw files are re-checked against the fetch ``manifest`` first, so only verified bytes are ever
    parsed. Either all six output files are written, or (on any error) none is.
    """
    if "source" not in entry:
        raise ConfigError(f"dataset {dataset!r}: its config entry has no `source`")
    source = get_source(entry["source"])
    options = source.resolve_options(entry)
    raw, sources = _verified_raw_files(source, read_json(manifest), Path(manifest), Path(raw_dir))
    if "path" in options:
        sources[str(options["path"])] = folder_manifest_sha256(Path(options["path"]))
    if source.check_raw_file is not None:  # every file's structure before the slow work on any
        for path in raw.values():
            source.check_raw_file(path)
    log.info("preparing %s from %s with %s", dataset, source.key, options)
    prepared = source.prepare(source, raw, options)
    settings = {name: value for name, value in options.items() if name not in _NOT_SETTINGS}
    write_prepared(prepared, Path(out_dir), dataset=dataset, source=source.key, sources=sources, settings=settings)


def _verified_raw_files(
    source: Source, manifest: Mapping[str, Any], manifest_path: Path, raw_dir: Path
) -> tuple[dict[str, Path], dict[str, str]]:
    """Paths of the raw files by role, and their sha256 by name, after checking them again."""
    if manifest.get("source") != source.key:
        raise DataError(
            f"{manifest_path}: written for source {manifest.get('source')!r}, not {source.key!r}; "
            f"fetch the raw files again"
        )
    files = manifest.get("files", {})
    paths, digests = {}, {}
    for raw in source.raw_files:
        names = [name for name, entry in files.items() if entry.get("role") == raw.role]
        if not names and raw.optional:
            continue
        if not names:
            raise DataError(f"{manifest_path}: lists no raw file for {raw.name}; fetch the raw files again")
        name = names[0]
        path = raw_dir / name
        if not path.exists():
            raise DataError(f"{path}: listed in {manifest_path} but missing; fetch the raw files again")
        digest = path_sha256(path)
        if digest != files[name]["sha256"]:
            raise ChecksumError(
                f"{path}: sha256 {digest} differs from {files[name]['sha256']} recorded in {manifest_path} "
                f"when it was fetched; the file changed since: delete it and fetch it again"
            )
        paths[raw.role], digests[name] = path, digest
    return paths, digests
