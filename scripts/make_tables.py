#!/usr/bin/env python3
"""Write the main table and the appendix tables (samples, experiments) as CSV, Markdown and LaTeX (booktabs).

--inputs is JSON mapping each experiment to its result files:
{"<experiment>": {"provenance": path, "test_loss": path or null, "classifier_metrics": path or null,
                  "runs": {"<run>": {"metrics": path, "info": path}}}}
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ddpm.cli import run
from ddpm.errors import ConfigError
from ddpm.report.results import read_results
from ddpm.report.tables import experiments_table, main_table, samples_table, speed_table, write_table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--inputs", required=True, help="JSON: experiment -> its result files (see above)")
    parser.add_argument("--out-dir", required=True, type=Path, help="folder for main.*, samples.* and experiments.*")
    args = parser.parse_args()

    try:
        inputs = json.loads(args.inputs)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--inputs is not valid JSON ({exc})") from None
    experiments, runs = read_results(inputs)
    for table in (main_table(runs), samples_table(runs), experiments_table(experiments), speed_table(experiments, runs)):
        write_table(table, args.out_dir)


if __name__ == "__main__":
    run(main)
