"""The paper tables, built as pandas DataFrames and written as CSV, Markdown and LaTeX (booktabs).

- ``main``: one row per experiment and sampler run, narrow enough for one page column
  (experiment, sampler, steps, N, FID, accuracy).
- ``samples`` (appendix): every run's settings, sampling speed, FID and KID per feature set, accuracies.
- ``experiments`` (appendix): per experiment the data, model size, diffusion, training cost, test
  loss (one column per prediction target: eps-, v- and x0-losses are not comparable) and the judge
  network's test accuracy.

Each :class:`Table` keeps two frames of the same rows: ``values`` (raw numbers in their column's
unit, NaN where missing or not computable; written to the CSV) and ``shown`` (text rounded for
reading; written to Markdown and LaTeX), and the notes that explain it, once per table rather than
in every figure. Columns that no row fills are left out.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import pandas as pd

from ddpm.evaluation.feature_sets import FEATURE_SETS
from ddpm.io import write_text
from ddpm.report.results import KID, ExperimentResult, RunResult, Unavailable

# Bińkowski et al. (2018) estimate KID on subsets of 1000 images; on smaller subsets the estimate's
# spread swamps differences between models (100-image subsets of CAPTCHA samples give a std twice
# the mean), so KID of smaller subsets is left out rather than shown as if it meant something.
KID_MIN_SUBSET = 1000
MISSING = "–"
TARGETS = ("eps", "v", "x0")
MAIN_COLUMNS_MAX = 8  # what fits one column of a two-column page


@dataclass(frozen=True)
class Column:
    key: str  # CSV header
    title: str  # header in Markdown and LaTeX
    show: Callable[[Any], str] = str  # formats a present value for reading
    numeric: bool = False  # right-aligned


@dataclass(frozen=True)
class Table:
    name: str
    values: pd.DataFrame  # raw, CSV headers
    shown: pd.DataFrame  # formatted text, display headers
    numeric: tuple[bool, ...]  # per shown column: right-aligned
    notes: tuple[str, ...]


def show_fixed(digits: int) -> Callable[[Any], str]:
    return lambda value: f"{value:.{digits}f}"


def show_percent(value: float) -> str:
    text = f"{100 * value:.1f}%"
    if text == "100.0%" and value < 1:
        # Rounding up must not turn a miss into "all": 0.9995 reads 99.95%, not 100.0%.
        text = f"{math.floor(10000 * value) / 100:.2f}%"
    return text


def _rate(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _millions(value: float) -> str:
    return f"{value / 1e6:.2f}" if value < 1e7 else f"{value / 1e6:.1f}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def show_count(value: float) -> str:
    return f"{int(value):,}"


def _shown(column: Column, value: Any) -> str:
    if isinstance(value, Unavailable):
        return "n/a"
    return column.show(value) if _is_value(value) else MISSING


def _is_value(value: Any) -> bool:
    return value is not None and not isinstance(value, Unavailable) and not (isinstance(value, float) and math.isnan(value))


def build_table(name: str, columns: Sequence[Column], rows: Sequence[dict[str, Any]], notes: Sequence[str] = ()) -> Table:
    """A :class:`Table` of ``rows`` (dicts keyed by column key); columns no row fills are left out."""
    used = [c for c in columns if any(_is_value(row.get(c.key)) for row in rows)]
    raw = {c.key: [row.get(c.key) if _is_value(row.get(c.key)) else None for row in rows] for c in used}
    values = pd.DataFrame(raw, columns=[c.key for c in used])
    for key, column in raw.items():
        present = [v for v in column if v is not None]
        if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            values[key] = values[key].astype("Int64")  # whole numbers stay whole beside missing ones
    shown = pd.DataFrame(
        {c.title: [_shown(c, row.get(c.key)) for row in rows] for c in used},
        columns=[c.title for c in used],
    )
    return Table(name, values, shown, tuple(c.numeric for c in used), tuple(notes))


# -- the tables -------------------------------------------------------------------------------------


def _sampler_name(run: RunResult) -> str:
    return run.series + (f", guidance {run.guidance:g}" if run.guidance is not None else "")


def _accuracy(run: RunResult) -> float | None:
    """The conditional samples' accuracy: of the class, or of the whole string."""
    conditional = run.conditional or {}
    return {"class": conditional.get("accuracy"), "text": conditional.get("string_accuracy")}.get(conditional.get("kind"))


def _unavailable_notes(runs: Sequence[RunResult]) -> list[str]:
    """One note per feature set whose FID some run lacks for a reason, with the evaluation's reason."""
    notes = []
    for fs in FEATURE_SETS:
        values = [r.fid.get(fs) for r in runs]
        reasons = [v for v in values if isinstance(v, Unavailable)]
        if not reasons:
            continue
        if any(isinstance(v, float) for v in values):
            notes.append(f"{fs.capitalize()} FID and KID n/a: {reasons[0].short.removeprefix('n/a ').strip('()')}.")
        else:
            notes.append(f"{fs.capitalize()} FID and KID: {reasons[0].short}; the columns are left out.")
    return notes


def main_table(runs: Sequence[RunResult]) -> Table:
    """One page column: experiment, sampler, steps, N, FID per available feature set, accuracy."""
    columns = [
        Column("experiment", "experiment"),
        Column("sampler", "sampler"),
        Column("steps", "steps", show_count, numeric=True),
        Column("num_images", "N", show_count, numeric=True),
        *[Column(f"fid_{fs}", f"FID ({fs})", show_fixed(2), numeric=True) for fs in FEATURE_SETS],
        Column("accuracy", "accuracy", show_percent, numeric=True),
    ]
    rows = [
        {
            "experiment": r.experiment,
            "sampler": _sampler_name(r),
            "steps": r.steps,
            "num_images": r.num_images,
            **{f"fid_{fs}": r.fid.get(fs) for fs in FEATURE_SETS},
            "accuracy": _accuracy(r),
        }
        for r in runs
    ]
    notes = [
        "N: samples evaluated. FID: lower is better; FIDs of different feature sets are not comparable.",
        "Accuracy: of the judge network on conditional samples (the class asked for; for text, the whole string).",
        *_unavailable_notes(runs),
    ]
    return build_table("main", columns, rows, notes)


# What names a sample set: the columns every per-set table starts with.
SAMPLE_SET_COLUMNS = (
    Column("experiment", "experiment"),
    Column("run", "run"),
    Column("sampler", "sampler"),
    Column("steps", "steps", show_count, numeric=True),
    Column("num_images", "N", show_count, numeric=True),
)


def samples_table(runs: Sequence[RunResult]) -> Table:
    """Appendix: per run its settings, sampling speed, FID and KID per feature set, accuracies."""
    columns = list(SAMPLE_SET_COLUMNS)
    for fs in FEATURE_SETS:
        columns += [
            Column(f"fid_{fs}", f"FID ({fs})", show_fixed(2), numeric=True),
            Column(f"kid_{fs}", f"KID×10³ ({fs})", show_fixed(5), numeric=True),
            Column(f"kid_{fs}_std", f"KID std ({fs})", show_fixed(5), numeric=True),
            Column(f"kid_{fs}_subset_size", f"KID subset ({fs})", show_count, numeric=True),
        ]
    columns += [
        Column("class_accuracy", "class acc.", show_percent, numeric=True),
        Column("char_accuracy", "char acc.", show_percent, numeric=True),
        Column("string_accuracy", "string acc.", show_percent, numeric=True),
    ]
    rows, small_kid = [], False
    for r in runs:
        conditional = r.conditional or {}
        kind = conditional.get("kind")
        row: dict[str, Any] = {
            "experiment": r.experiment,
            "run": r.run,
            "sampler": _sampler_name(r),
            "steps": r.steps,
            "num_images": r.num_images,
            "class_accuracy": conditional.get("accuracy") if kind == "class" else None,
            "char_accuracy": conditional.get("char_accuracy") if kind == "text" else None,
            "string_accuracy": conditional.get("string_accuracy") if kind == "text" else None,
        }
        for fs in FEATURE_SETS:
            row[f"fid_{fs}"] = r.fid.get(fs)
            kid = r.kid.get(fs)
            if isinstance(kid, KID) and kid.subset_size is not None and kid.subset_size < KID_MIN_SUBSET:
                small_kid, kid = True, None
            if isinstance(kid, KID):
                row[f"kid_{fs}"] = kid.mean
                row[f"kid_{fs}_std"] = kid.std
                row[f"kid_{fs}_subset_size"] = kid.subset_size
        rows.append(row)
    table = build_table("samples", columns, rows)
    table = dataclasses.replace(table, notes=tuple(_samples_notes(runs, set(table.values.columns), small_kid)))
    # KID reads as mean ± std (x 1000) in one display column; its std and subset size stay in the CSV.
    shown = table.shown.copy()
    keep = [True] * len(shown.columns)
    for fs in FEATURE_SETS:
        mean_title, std_title, size_title = f"KID×10³ ({fs})", f"KID std ({fs})", f"KID subset ({fs})"
        if mean_title in shown:
            means, stds = table.values[f"kid_{fs}"], table.values[f"kid_{fs}_std"]
            shown[mean_title] = [MISSING if pd.isna(m) else f"{1000 * m:.2f} ± {1000 * s:.2f}" for m, s in zip(means, stds)]
            for title in (std_title, size_title):
                keep[list(shown.columns).index(title)] = False
    columns_kept = [c for c, k in zip(shown.columns, keep) if k]
    numeric = tuple(n for n, k in zip(table.numeric, keep) if k)
    return Table(table.name, table.values, shown[columns_kept], numeric, table.notes)


def _samples_notes(runs: Sequence[RunResult], columns: set[str], small_kid: bool) -> list[str]:
    """Notes on the columns the samples table has."""
    notes = []
    if any(key.startswith("kid_") for key in columns):
        notes.append(
            "KID×10³: mean ± std over random subsets (subset size in the CSV). Where two samplers' "
            "KIDs differ by less than their std, KID does not rank them, even when FID does."
        )
    if small_kid:
        notes.append(f"KID is left out for runs evaluated on subsets of fewer than {KID_MIN_SUBSET} images: its std there exceeds the differences it would measure.")
    return notes + _unavailable_notes(runs)


def experiments_table(experiments: Sequence[ExperimentResult]) -> Table:
    """Appendix: per experiment its data, model, diffusion, training cost, test loss and judge accuracy."""
    columns = [
        Column("experiment", "experiment"),
        Column("dataset", "dataset"),
        Column("parameters", "params (M)", _millions, numeric=True),
        Column("conditioning", "conditioning"),
        Column("schedule", "schedule"),
        Column("timesteps", "T", show_count, numeric=True),
        Column("target", "target"),
        Column("training_steps", "train steps", show_count, numeric=True),
        *[Column(f"test_loss_{target}", f"test loss ({target})", show_fixed(4), numeric=True) for target in TARGETS],
        Column("classifier_test_accuracy", "classifier test acc.", show_percent, numeric=True),
        Column("recognizer_test_char_accuracy", "recognizer test char acc.", show_percent, numeric=True),
        Column("recognizer_test_string_accuracy", "recognizer test string acc.", show_percent, numeric=True),
    ]
    rows = []
    for e in experiments:
        toy = e.diffusion.get("kind") == "toy"
        judge = e.judge or {}
        # The toy diffusion has no schedule or timesteps; its network predicts x0 directly.
        target = "x0" if toy else str(e.diffusion.get("target"))
        rows.append(
            {
                "experiment": e.name,
                "dataset": e.dataset,
                "parameters": e.parameters,
                "conditioning": e.conditioning,
                "schedule": "toy" if toy else e.diffusion.get("schedule"),
                "timesteps": None if toy else e.diffusion.get("timesteps"),
                "target": target,
                "training_steps": e.training_steps,
                f"test_loss_{target}": e.test_loss,
                "classifier_test_accuracy": judge.get("accuracy") if judge.get("kind") == "class" else None,
                "recognizer_test_char_accuracy": judge.get("char_accuracy") if judge.get("kind") == "text" else None,
                "recognizer_test_string_accuracy": judge.get("string_accuracy") if judge.get("kind") == "text" else None,
            }
        )
    notes = ["Test loss: mean squared error of the network's prediction target (eps, v or x0) on the test split; losses of different targets are not comparable."]
    return build_table("experiments", columns, rows, notes)


def speed_table(experiments: Sequence[ExperimentResult], runs: Sequence[RunResult]) -> Table:
    """How fast each job ran: training, and every sampler run after warm-up.

    The only table whose numbers depend on the machine and its load: the others hold results of
    fixed steps and seeds, and a rerun reproduces them exactly (on the same kind of device).
    """
    columns = [
        Column("experiment", "experiment"),
        Column("job", "job"),
        Column("seconds", "time", _duration, numeric=True),
        Column("images_per_second", "img/s", _rate, numeric=True),
        Column("network_evaluations_per_second", "NFE/s", _rate, numeric=True),
        Column("startup_seconds", "start-up", _duration, numeric=True),
        Column("compile_seconds", "compile", _duration, numeric=True),
    ]
    rows: list[dict[str, Any]] = []
    for e in experiments:
        rows.append({"experiment": e.name, "job": "training", "seconds": e.train_time_s, "images_per_second": e.images_per_s})
        for r in runs:
            if r.experiment == e.name:
                rows.append(
                    {
                        "experiment": r.experiment,
                        "job": f"sampling {r.run}",
                        "images_per_second": r.speed.images_per_second,
                        "network_evaluations_per_second": r.speed.network_evaluations_per_second,
                        "startup_seconds": r.speed.startup_seconds,
                        "compile_seconds": r.speed.compile_seconds,
                    }
                )
    notes = [
        "Training: wall time of the training loop (compilation included) and its images/s.",
        "Sampling: img/s and NFE/s (network evaluations per second) measured on the device after warm-up; "
        "start-up (process start to model ready) and compilation (the first batch's excess time) reported apart.",
        "Speeds depend on the machine and on what else ran on it at the time.",
    ]
    return build_table("speed", columns, rows, notes)


# -- writers ----------------------------------------------------------------------------------------


def to_csv(table: Table) -> str:
    """Raw values at full precision; missing values are empty."""
    return table.values.to_csv(index=False, lineterminator="\n")


def to_markdown(table: Table) -> str:
    """A pipe table of the shown values (``DataFrame.to_markdown`` would need ``tabulate``), then the notes."""
    escape = lambda text: str(text).replace("|", "\\|")  # noqa: E731
    lines = [
        "| " + " | ".join(escape(c) for c in table.shown.columns) + " |",
        "|" + "|".join("---:" if n else ":---" for n in table.numeric) + "|",
        *("| " + " | ".join(escape(v) for v in row) + " |" for row in table.shown.itertuples(index=False)),
    ]
    if table.notes:
        lines += ["", *(f"- {note}" for note in table.notes)]
    return "\n".join(lines) + "\n"


def to_latex(table: Table) -> str:
    """A booktabs ``tabular`` (``\\usepackage{booktabs}``) and its notes, to ``\\input`` inside a ``table``."""
    styler = table.shown.style.hide(axis="index").format(escape="latex").format_index(escape="latex", axis=1)
    tabular = styler.to_latex(column_format="".join("r" if n else "l" for n in table.numeric), hrules=True)
    tabular = tabular.replace("×10³", r"$\times 10^3$").replace("±", r"$\pm$").replace(MISSING, "--")
    notes = ""
    if table.notes:
        text = " ".join(table.notes).replace("×10³", r"$\times 10^3$").replace("±", r"$\pm$")
        notes = "\\par\\smallskip\n{\\footnotesize " + _latex_text(text) + "\\par}\n"
    return f"% {table.name} table written by ddpm-pipeline; needs \\usepackage{{booktabs}}\n" + tabular + notes


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "–": "--"}


def _latex_text(text: str) -> str:
    """Escapes the characters of running text that LaTeX reads as commands (math kept as written)."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def write_table(table: Table, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<out_dir>/<name>.csv``, ``.md`` and ``.tex``, each atomically; returns the paths."""
    paths = []
    for suffix, render in (("csv", to_csv), ("md", to_markdown), ("tex", to_latex)):
        path = Path(out_dir) / f"{table.name}.{suffix}"
        write_text(path, render(table))
        paths.append(path)
    return paths
