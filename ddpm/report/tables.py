"""The paper tables: one row per experiment, and one row per experiment and sampler run.

A :class:`Table` keeps raw values; each writer formats them. The CSV holds the numbers at full
precision in their column's unit (for further analysis), Markdown and LaTeX (booktabs) hold them
rounded for reading (FID to 2 decimals, accuracies in %). Missing values are empty in the CSV and
an en dash in the others; values the evaluation could not compute read "n/a". Optional columns that
no row fills (e.g. text accuracy when no experiment is text-conditional) are left out.
"""

from __future__ import annotations

import csv
import io
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from ddpm.evaluation.features import FEATURE_SETS
from ddpm.io import write_text
from ddpm.report.results import ExperimentResult, RunResult, Unavailable


@dataclass(frozen=True)
class Column:
    key: str  # CSV header and the row's key
    title: str  # header in Markdown and LaTeX
    show: Callable[[Any], str] = str  # formats a present value for reading
    numeric: bool = False  # right-aligned
    optional: bool = False  # left out when no row has a value
    display: bool = True  # False: in the CSV only


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]

    def used_columns(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if not c.optional or any(_is_value(row.get(c.key)) for row in self.rows))


def _is_value(value: Any) -> bool:
    return value is not None and not isinstance(value, Unavailable)


def _fixed(digits: int) -> Callable[[Any], str]:
    return lambda value: f"{value:.{digits}f}"


def _percent(value: float) -> str:
    text = f"{100 * value:.1f}%"
    if text == "100.0%" and value < 1:
        # Rounding up must not turn a miss into "all": 0.9995 reads 99.95%, not 100.0%.
        text = f"{math.floor(10000 * value) / 100:.2f}%"
    return text


def _rate(value: float) -> str:
    return f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def _millions(value: int) -> str:
    return f"{value / 1e6:.2f}" if value < 1e7 else f"{value / 1e6:.1f}"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 2 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _thousandths(value: float) -> str:
    return f"{1000 * value:.2f}"


# -- the two tables ---------------------------------------------------------------------------------


def experiments_table(experiments: Sequence[ExperimentResult]) -> Table:
    """Per experiment: data, model size, conditioning, diffusion, training cost, test loss, judge accuracy."""
    columns = (
        Column("experiment", "experiment"),
        Column("dataset", "dataset"),
        Column("parameters", "params (M)", _millions, numeric=True),
        Column("conditioning", "conditioning"),
        Column("schedule", "schedule"),
        Column("timesteps", "T", numeric=True),
        Column("target", "target"),
        Column("training_steps", "train steps", numeric=True),
        Column("train_time_s", "train time", _duration, numeric=True),
        Column("train_images_per_s", "train img/s", _rate, numeric=True),
        Column("test_loss", "test loss", _fixed(4), numeric=True),
        Column("classifier_test_accuracy", "classifier test acc.", _percent, numeric=True, optional=True),
        Column("recognizer_test_char_accuracy", "recognizer test char acc.", _percent, numeric=True, optional=True),
        Column("recognizer_test_string_accuracy", "recognizer test string acc.", _percent, numeric=True, optional=True),
    )
    rows = []
    for e in experiments:
        toy = e.diffusion.get("kind") == "toy"
        judge = e.judge or {}
        rows.append(
            {
                "experiment": e.name,
                "dataset": e.dataset,
                "parameters": e.parameters,
                "conditioning": e.conditioning,
                # The toy diffusion has no schedule or timesteps; its network predicts x0 directly.
                "schedule": "toy" if toy else e.diffusion.get("schedule"),
                "timesteps": None if toy else e.diffusion.get("timesteps"),
                "target": "x0" if toy else e.diffusion.get("target"),
                "training_steps": e.training_steps,
                "train_time_s": e.train_time_s,
                "train_images_per_s": e.images_per_s,
                "test_loss": e.test_loss,
                "classifier_test_accuracy": judge.get("accuracy") if judge.get("kind") == "class" else None,
                "recognizer_test_char_accuracy": judge.get("char_accuracy") if judge.get("kind") == "text" else None,
                "recognizer_test_string_accuracy": judge.get("string_accuracy") if judge.get("kind") == "text" else None,
            }
        )
    return Table("experiments", columns, tuple(rows))


def samples_table(runs: Sequence[RunResult]) -> Table:
    """Per experiment and sampler run: settings, sampling speed, FID and KID per feature set, accuracy."""
    columns = [
        Column("experiment", "experiment"),
        Column("run", "run"),
        Column("sampler", "sampler"),
        Column("steps", "steps", numeric=True),
        Column("eta_or_variance", "eta / variance"),
        Column("guidance", "guidance", lambda w: f"{w:g}", numeric=True, optional=True),
        Column("sampling_images_per_s", "sampling img/s", _rate, numeric=True),
    ]
    columns += [Column(f"fid_{fs}", f"FID ({fs})", _fixed(2), numeric=True) for fs in FEATURE_SETS]
    for fs in FEATURE_SETS:
        columns += [
            Column(f"kid_{fs}", f"KID x1000 ({fs})", _thousandths, numeric=True, optional=True),
            Column(f"kid_{fs}_std", f"KID std ({fs})", _thousandths, numeric=True, optional=True, display=False),
        ]
    columns += [
        Column("class_accuracy", "class acc.", _percent, numeric=True, optional=True),
        Column("char_accuracy", "char acc.", _percent, numeric=True, optional=True),
        Column("string_accuracy", "string acc.", _percent, numeric=True, optional=True),
    ]
    rows = []
    for r in runs:
        conditional = r.conditional or {}
        row: dict[str, Any] = {
            "experiment": r.experiment,
            "run": r.run,
            "sampler": r.sampler,
            "steps": r.steps,
            "eta_or_variance": f"eta {r.eta:g}" if r.sampler == "ddim" else r.variance if r.sampler == "ddpm" else None,
            "guidance": r.guidance,
            "sampling_images_per_s": r.images_per_s,
            "class_accuracy": conditional.get("accuracy") if conditional.get("kind") == "class" else None,
            "char_accuracy": conditional.get("char_accuracy") if conditional.get("kind") == "text" else None,
            "string_accuracy": conditional.get("string_accuracy") if conditional.get("kind") == "text" else None,
        }
        for fs in FEATURE_SETS:
            row[f"fid_{fs}"] = r.fid.get(fs)
            kid = r.kid.get(fs)
            row[f"kid_{fs}"] = kid[0] if isinstance(kid, tuple) else kid
            row[f"kid_{fs}_std"] = kid[1] if isinstance(kid, tuple) else kid
        rows.append(row)
    return Table("samples", tuple(columns), tuple(rows))


# -- writers ----------------------------------------------------------------------------------------


def to_csv(table: Table) -> str:
    columns = table.used_columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([c.key for c in columns])
    for row in table.rows:
        writer.writerow([_raw(row.get(c.key)) for c in columns])
    return buffer.getvalue()


def to_markdown(table: Table) -> str:
    columns = [c for c in table.used_columns() if c.display]
    lines = [
        "| " + " | ".join(_markdown_escape(c.title) for c in columns) + " |",
        "|" + "|".join("---:" if c.numeric else ":---" for c in columns) + "|",
    ]
    for row in table.rows:
        lines.append("| " + " | ".join(_markdown_escape(_shown(c, row.get(c.key))) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def to_latex(table: Table) -> str:
    """A booktabs ``tabular`` (``\\usepackage{booktabs}``), to ``\\input`` inside a ``table`` environment."""
    columns = [c for c in table.used_columns() if c.display]
    lines = [
        f"% {table.name} table written by ddpm-pipeline; needs \\usepackage{{booktabs}}",
        "\\begin{tabular}{" + "".join("r" if c.numeric else "l" for c in columns) + "}",
        "\\toprule",
        " & ".join(latex_escape(c.title) for c in columns) + " \\\\",
        "\\midrule",
    ]
    for row in table.rows:
        lines.append(" & ".join(latex_escape(_shown(c, row.get(c.key))) for c in columns) + " \\\\")
    lines += ["\\bottomrule", "\\end{tabular}"]
    return "\n".join(lines) + "\n"


def write_table(table: Table, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``<out_dir>/<name>.csv``, ``.md`` and ``.tex``, each atomically; returns the paths."""
    paths = []
    for suffix, render in (("csv", to_csv), ("md", to_markdown), ("tex", to_latex)):
        path = Path(out_dir) / f"{table.name}.{suffix}"
        write_text(path, render(table))
        paths.append(path)
    return paths


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "–": "--",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def _markdown_escape(text: str) -> str:
    return text.replace("|", "\\|")


def _raw(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Unavailable):
        return "n/a"
    return repr(value) if isinstance(value, float) else str(value)


def _shown(column: Column, value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, Unavailable):
        return value.short
    return column.show(value)
