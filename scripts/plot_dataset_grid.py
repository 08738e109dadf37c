"""Draw a sample grid PNG of one prepared split (rows = classes, or texts, or a plain grid)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import run
from ddpm.data import load_split
from ddpm.data.grid import write_grid


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", type=Path, required=True, help="a prepared <split>.npz (its .json beside it)")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--per-row", type=int, default=10, help="images per row")
    parser.add_argument("--max-rows", type=int, help="rows (classes) at most (default: write_grid's)")
    args = parser.parse_args()

    limits = {} if args.max_rows is None else {"max_rows": args.max_rows}
    write_grid(load_split(args.split), args.out, per_row=args.per_row, **limits)


if __name__ == "__main__":
    run(main)
