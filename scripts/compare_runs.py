#!/usr/bin/env python3
"""Two runs of the same command side by side: their sample sets' FID and accuracy, and whether they
agree within the reproduction's tolerances (:mod:`ddpm.report.run_comparison`).

    python scripts/compare_runs.py results/reference results --labels "run 1" "run 2" [--markdown table.md]

Each folder is a run's ``results/`` or a folder published from one (``scripts/publish_reference.py``).
Prints the table (Markdown) and every disagreement; exits 1 when the runs disagree, 0 when they agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ddpm.cli import run
from ddpm.io import write_text
from ddpm.report.run_comparison import compare_runs, comparison_table
from ddpm.report.tables import to_markdown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("first", type=Path, help="the first run's results (or published) folder")
    parser.add_argument("second", type=Path, help="the second run's")
    parser.add_argument("--labels", nargs=2, default=("run A", "run B"), metavar=("FIRST", "SECOND"), help="names of the two runs")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args()
    comparison = compare_runs(args.first, args.second, tuple(args.labels))
    table = to_markdown(comparison_table(comparison))
    print(table)
    if args.markdown:
        write_text(args.markdown, table)
    if not comparison.agree:
        print(f"the runs disagree in {len(comparison.problems)} place(s):", *comparison.problems, sep="\n  ", file=sys.stderr)
        sys.exit(1)
    print("the runs agree within the tolerances")


if __name__ == "__main__":
    run(main)
