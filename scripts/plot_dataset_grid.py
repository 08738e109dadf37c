#!/usr/bin/env python3
"""Draw a seeded random selection of a prepared split (rows = classes, or texts, or a plain grid).

Several splits in one call: repeat ``--split`` and ``--out`` in pairs (the workflow draws a
dataset's train and test splits in one job).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import paired, run
from ddpm.data import load_split
from ddpm.report.grids import split_grid_figure
from ddpm.report.style import save_figure


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--split", type=Path, required=True, action="append", help="a prepared <split>.npz (its .json beside it)")
    parser.add_argument("--out", type=Path, required=True, action="append", help="PNG to write (its PDF is written beside it), one per --split")
    parser.add_argument("--per-row", type=int, default=10, help="images per row")
    parser.add_argument("--max-rows", type=int, default=40, help="rows (classes) at most")
    parser.add_argument("--max-images", type=int, default=40, help="images at most, for text and unlabelled data")
    parser.add_argument("--seed", type=int, default=0, help="picks the images shown")
    parser.add_argument("--title", default="", help="figure title (default: dataset, split and its size)")
    args = parser.parse_args()

    for path, out in paired(parser, args.split, args.out, "--split"):
        split = load_split(path)
        figure = split_grid_figure(
            split.images, split.labels, split.meta,
            seed=args.seed, per_row=args.per_row, max_rows=args.max_rows, max_images=args.max_images, title=args.title,
        )
        save_figure(figure, out)


if __name__ == "__main__":
    run(main)
