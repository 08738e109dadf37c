#!/usr/bin/env python3
"""Plot an experiment's training and validation loss against the training step (log y)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import run
from ddpm.report.figures import plot_loss_curves
from ddpm.report.results import read_train_log


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--log", required=True, type=Path, help="the training log CSV")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    plot_loss_curves(args.out, read_train_log(args.log), description=args.description)


if __name__ == "__main__":
    run(main)
