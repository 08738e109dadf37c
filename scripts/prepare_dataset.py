"""Prepare a dataset's train / val / test files (npz + JSON sidecars) from its fetched raw files."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import run
from ddpm.data import parse_entry, prepare_dataset


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", required=True, help="the dataset's name in the config")
    parser.add_argument("--manifest", type=Path, required=True, help="MANIFEST.json written by fetch_raw.py")
    parser.add_argument("--raw-dir", type=Path, help="folder of the raw files (default: the manifest's folder)")
    parser.add_argument("--options", required=True, help="the dataset's config entry as JSON, with `source`")
    parser.add_argument("--out-dir", type=Path, required=True, help="folder for {train,val,test}.{npz,json}")
    args = parser.parse_args()

    prepare_dataset(
        args.name,
        parse_entry(args.options),
        manifest=args.manifest,
        raw_dir=args.raw_dir or args.manifest.parent,
        out_dir=args.out_dir,
    )


if __name__ == "__main__":
    run(main)
