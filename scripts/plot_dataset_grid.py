#!/usr/bin/env python3
"""Draw a seeded random selection of one prepared split (rows = classes, or texts, or a plain grid)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import run
from ddpm.data import load_split
from ddpm.report.grids import split_grid_figure
from ddpm.report.style import save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", type=Path, required=True, help="a prepared <split>.npz (its .json beside it)")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write (its PDF is written beside it)")
    parser.add_argument("--per-row", type=int, default=10, help="images per row")
    parser.add_argument("--max-rows", type=int, default=40, help="rows (classes) at most")
    parser.add_argument("--max-images", type=int, default=40, help="images at most, for text and unlabelled data")
    parser.add_argument("--seed", type=int, default=0, help="picks the images shown")
    parser.add_argument("--title", default="", help="figure title (default: dataset, split and its size)")
    args = parser.parse_args()

    split = load_split(args.split)
    figure = split_grid_figure(
        split.images, split.labels, split.meta,
        seed=args.seed, per_row=args.per_row, max_rows=args.max_rows, max_images=args.max_images, title=args.title,
    )
    save_figure(figure, args.out)


if __name__ == "__main__":
    run(main)
