"""Two runs of the same command, side by side: do their numbers agree?

Reads what a run publishes (``tables/samples.csv``, ``tables/experiments.csv`` and each experiment's
``provenance.json``, laid out as in ``results/`` or a folder written by
``scripts/publish_reference.py``) and checks what a reproduction must keep:

- the same experiments, trained for the same steps from the same seeds, and the same number of
  samples in every set both runs drew;
- every FID within :data:`FID_RELATIVE` of the first run's, or :data:`FID_ABSOLUTE`, whichever is
  larger (trainings on GPUs of different kinds differ in the last bits, and so do their samples);
- class accuracy within :data:`CLASS_POINTS` percentage points, string accuracy within
  :data:`STRING_POINTS`.

:func:`comparison_table` lays the two runs' numbers side by side as a table of
:mod:`ddpm.report.tables`.

A sample set only one run drew (a sampler added to the config in between) is listed, not counted
against agreement.

Beyond the tolerances, :func:`first_training_difference` says whether two trainings were the same
bit for bit: every loss and learning rate their ``train_log.csv`` logged is equal to the last bit
(the timing columns aside). Deterministic kernels give that on GPUs of one kind with the same
software; the table's notes name the experiments where it held and where it did not.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ddpm.errors import DataError
from ddpm.report.tables import SAMPLE_SET_COLUMNS, Column, Table, build_table, show_fixed, show_percent

FID_RELATIVE = 0.03
FID_ABSOLUTE = 0.1
CLASS_POINTS = 0.3
STRING_POINTS = 2.0
_ACCURACIES = (("class_accuracy", CLASS_POINTS), ("string_accuracy", STRING_POINTS))
# The columns of train_log.csv that a bitwise-equal training repeats (not its speed and clock).
TRAINING_LOG_VALUES = ("step", "train_loss", "val_loss", "lr")


@dataclass
class RunComparison:
    """``rows``: one dict per sample set both runs drew, keyed as :func:`comparison_table`'s columns;
    ``problems``: each disagreement, in words; ``only_in``: run label -> the sample sets only that run
    drew, as ``experiment/run``; ``training_differences``: experiment (trained in both, with both
    logs) -> the first logged step whose values differ, None where every logged value is equal."""

    labels: tuple[str, str]
    rows: list[dict]
    problems: list[str]
    only_in: dict[str, list[str]]
    training_differences: dict[str, int | None] = field(default_factory=dict)

    @property
    def agree(self) -> bool:
        return not self.problems


def fid_tolerance(first: float) -> float:
    return max(FID_RELATIVE * abs(first), FID_ABSOLUTE)


def _read_csv(folder: Path, name: str) -> pd.DataFrame:
    path = folder / "tables" / name
    if not path.is_file():
        raise DataError(f"{path} not found: give the results/ folder of a finished run or a published one")
    return pd.read_csv(path)


def _seed(folder: Path, experiment: str) -> int | None:
    path = folder / "experiments" / experiment / "provenance.json"
    return json.loads(path.read_text()).get("seed") if path.is_file() else None


def first_training_difference(first_log: Path, second_log: Path) -> int | None:
    """The first step at which two trainings' logs differ in a loss or learning rate (or in which
    steps they logged), None when every logged value is equal to the last bit."""
    # As text: the trainer writes each float's shortest round-trip repr, so equal text is equal bits.
    a, b = (pd.read_csv(path, usecols=list(TRAINING_LOG_VALUES), dtype=str, keep_default_na=False) for path in (first_log, second_log))
    for row_a, row_b in zip(a.itertuples(index=False), b.itertuples(index=False)):
        if tuple(row_a) != tuple(row_b):
            return min(int(row_a.step), int(row_b.step))
    if len(a) != len(b):
        return int((a if len(a) > len(b) else b)["step"].iloc[min(len(a), len(b))])
    return None


def compare_runs(first: Path, second: Path, labels: tuple[str, str] = ("run A", "run B")) -> RunComparison:
    """Compare the run published in ``first`` with the one in ``second``."""
    a, b = labels
    problems: list[str] = []
    training_differences: dict[str, int | None] = {}
    trained = _read_csv(first, "experiments.csv").merge(
        _read_csv(second, "experiments.csv"), on="experiment", how="outer", suffixes=(f"_{a}", f"_{b}"), indicator=True
    )
    for row in trained.to_dict("records"):
        name = row["experiment"]
        if row["_merge"] != "both":
            problems.append(f"{name}: trained only in {a if row['_merge'] == 'left_only' else b}")
            continue
        steps = (row[f"training_steps_{a}"], row[f"training_steps_{b}"])
        if steps[0] != steps[1]:
            problems.append(f"{name}: trained {steps[0]:g} steps in {a}, {steps[1]:g} in {b}")
        seeds = (_seed(first, name), _seed(second, name))
        if seeds[0] != seeds[1]:
            problems.append(f"{name}: seed {seeds[0]} in {a}, {seeds[1]} in {b}")
        logs = [folder / "experiments" / name / "train_log.csv" for folder in (first, second)]
        if all(log.is_file() for log in logs):
            training_differences[name] = first_training_difference(*logs)

    keys = ["experiment", "run"]
    # Rows in the first run's order, then the sets only the second run drew in its order.
    first_sets, second_sets = _read_csv(first, "samples.csv"), _read_csv(second, "samples.csv")
    first_sets["order_first"], second_sets["order_second"] = range(len(first_sets)), range(len(second_sets))
    sets = first_sets.merge(second_sets, on=keys, how="outer", suffixes=(f"_{a}", f"_{b}"), indicator=True)
    sets = sets.sort_values(["order_first", "order_second"], na_position="last")
    only_in = {
        label: [f"{r['experiment']}/{r['run']}" for r in sets[sets["_merge"] == side].to_dict("records")]
        for label, side in ((a, "left_only"), (b, "right_only"))
    }
    rows = []
    for row in sets[sets["_merge"] == "both"].to_dict("records"):
        where = f"{row['experiment']}/{row['run']}"
        problems_before = len(problems)
        if row[f"num_images_{a}"] != row[f"num_images_{b}"]:
            problems.append(f"{where}: {row[f'num_images_{a}']:g} samples in {a}, {row[f'num_images_{b}']:g} in {b}")
        fid_a, fid_b = float(row[f"fid_classifier_{a}"]), float(row[f"fid_classifier_{b}"])
        if not (math.isfinite(fid_a) and math.isfinite(fid_b) and abs(fid_b - fid_a) <= fid_tolerance(fid_a)):
            problems.append(f"{where}: FID {fid_a:.3g} in {a}, {fid_b:.3g} in {b} (allowed: ±{fid_tolerance(fid_a):.3g})")
        shown = {
            "experiment": row["experiment"], "run": row["run"], "sampler": row[f"sampler_{a}"],
            "steps": int(row[f"steps_{a}"]), "num_images": int(row[f"num_images_{a}"]),
            "fid_a": fid_a, "fid_b": fid_b, "fid_change": 100 * (fid_b - fid_a) / fid_a,
        }
        for column, points in _ACCURACIES:
            acc_a, acc_b = row.get(f"{column}_{a}"), row.get(f"{column}_{b}")
            if pd.isna(acc_a) and pd.isna(acc_b):
                continue
            shown.update(accuracy_a=acc_a, accuracy_b=acc_b)
            if not abs(100 * (acc_b - acc_a)) <= points:
                what = column.replace("_", " ")
                problems.append(f"{where}: {what} {100 * acc_a:.2f}% in {a}, {100 * acc_b:.2f}% in {b} (allowed: ±{points:g} points)")
        shown["agree"] = "yes" if len(problems) == problems_before else "no"
        rows.append(shown)
    return RunComparison(labels, rows, problems, only_in, training_differences)


def comparison_table(comparison: RunComparison) -> Table:
    """The side-by-side table (:func:`ddpm.report.tables.to_markdown` and friends write it)."""
    a, b = comparison.labels
    columns = [
        *SAMPLE_SET_COLUMNS,
        Column("fid_a", f"FID {a}", show_fixed(2), numeric=True),
        Column("fid_b", f"FID {b}", show_fixed(2), numeric=True),
        Column("fid_change", "FID change", lambda v: f"{v:+.1f}%", numeric=True),
        Column("accuracy_a", f"accuracy {a}", show_percent, numeric=True),
        Column("accuracy_b", f"accuracy {b}", show_percent, numeric=True),
        Column("agree", "agree"),
    ]
    notes = [
        f"Agree: FID within {100 * FID_RELATIVE:g}% or {FID_ABSOLUTE:g} (the larger), class accuracy within "
        f"{CLASS_POINTS:g} points, string accuracy within {STRING_POINTS:g} points, same N.",
        *(f"Only in {label}: {', '.join(sets)}." for label, sets in comparison.only_in.items() if sets),
        *_training_notes(comparison.training_differences),
    ]
    return build_table("comparison", columns, comparison.rows, notes)


def _training_notes(differences: dict[str, int | None]) -> list[str]:
    same = [name for name, step in differences.items() if step is None]
    other = [f"{name} (from step {step})" for name, step in differences.items() if step is not None]
    notes = [f"Trainings equal bit for bit (every logged loss and learning rate): {', '.join(same)}."] if same else []
    return notes + ([f"Trainings that differ: {', '.join(other)}."] if other else [])
