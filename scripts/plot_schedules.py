#!/usr/bin/env python3
"""Plot the constants of beta schedules against t (betas, alpha-bar, its square roots, posterior variance, log SNR)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddpm.cli import run
from ddpm.config import DiffusionConfig, from_dict
from ddpm.errors import ConfigError
from ddpm.report.figures import plot_schedules
from ddpm.schedules import beta_schedule_names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--schedules", nargs="+", default=beta_schedule_names(), help="schedule names (default: every registered one)")
    parser.add_argument("--timesteps", type=int, default=1000, help="T, the number of diffusion steps")
    parser.add_argument("--diffusion", help="an experiment's diffusion settings as JSON: plot its schedule and T instead")
    parser.add_argument("--description", default="", help="the experiment's description, shown under the figure's title")
    parser.add_argument("--out", required=True, type=Path, help="PNG to write (its PDF is written beside it)")
    args = parser.parse_args()

    schedules, timesteps = args.schedules, args.timesteps
    if args.diffusion:
        diffusion = from_dict(DiffusionConfig, json.loads(args.diffusion), "diffusion")
        if diffusion.kind != "gaussian":
            raise ConfigError(f"diffusion kind {diffusion.kind!r} has no beta schedule to plot; plot a Gaussian diffusion's")
        schedules, timesteps = [diffusion.schedule], diffusion.timesteps
    plot_schedules(args.out, schedules, timesteps, description=args.description)


if __name__ == "__main__":
    run(main)
