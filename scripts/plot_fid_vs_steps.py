#!/usr/bin/env python3
"""Plot one experiment's FID against the number of sampling steps, per sampler and feature set."""

from __future__ import annotations

import argparse
from pathlib import Path

from ddpm.cli import run
from ddpm.errors import ConfigError
from ddpm.report.figures import plot_fid_vs_steps
from ddpm.report.results import read_run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--metrics", nargs="+", required=True, type=Path, help="evaluation metrics JSONs, one per run")
    parser.add_argument("--info", nargs="+", required=True, type=Path, help="the runs' sample-info JSONs, in the same order")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    if len(args.metrics) != len(args.info):
        raise ConfigError(f"got {len(args.metrics)} --metrics files but {len(args.info)} --info files; pass one of each per run, in the same order")
    runs = [read_run(metrics, info) for metrics, info in zip(args.metrics, args.info)]
    plot_fid_vs_steps(args.out, runs, description=args.description)


if __name__ == "__main__":
    run(main)
