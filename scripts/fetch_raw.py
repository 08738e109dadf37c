"""Fetch a dataset source's raw files into a raw folder, verified, and write their manifest."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ddpm.cli import run
from ddpm.data import fetch_raw, parse_entry
from ddpm.io import write_json


def download_allowed(no_download_flag: bool) -> bool:
    """The flag, or the environment (the workflow sets DDPM_DOWNLOAD from its config's `download`)."""
    setting = os.environ.get("DDPM_DOWNLOAD", "1").strip().lower()
    return not no_download_flag and setting not in ("0", "false", "no", "off")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--source", required=True, help="registry key of the dataset source")
    parser.add_argument("--raw-dir", type=Path, required=True, help="folder that receives the raw files")
    parser.add_argument("--manifest", type=Path, required=True, help="manifest JSON to write")
    parser.add_argument("--mirror", type=Path, help="local mirror folder (default: $DDPM_MIRROR)")
    parser.add_argument("--options", default="{}", help="the dataset's config entry as JSON (sha256 pins ...)")
    parser.add_argument(
        "--no-download", action="store_true", help="never download; raw folder and mirror only (also: DDPM_DOWNLOAD=0)"
    )
    args = parser.parse_args()

    mirror = args.mirror or (Path(os.environ["DDPM_MIRROR"]) if os.environ.get("DDPM_MIRROR") else None)
    manifest = fetch_raw(
        args.source, args.raw_dir, options=parse_entry(args.options), mirror=mirror, download=download_allowed(args.no_download)
    )
    write_json(args.manifest, manifest)


if __name__ == "__main__":
    run(main)
