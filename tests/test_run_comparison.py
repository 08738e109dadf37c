"""ddpm.report.run_comparison and scripts/compare_runs.py: two runs side by side, within tolerances."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ddpm.errors import DataError
from ddpm.report.run_comparison import compare_runs, comparison_table, fid_tolerance
from ddpm.report.tables import to_markdown

SCRIPT = Path(__file__).parents[1] / "scripts" / "compare_runs.py"
SETS = [
    # experiment, run, sampler, steps, N, FID, class accuracy, string accuracy
    ("digits", "ddpm1000", "DDPM, small variance", 1000, 2000, 2.40, None, None),
    ("digits", "ddim50", "DDIM, eta 0", 50, 2000, 2.80, None, None),
    ("letters", "ddim50", "DDIM, eta 0, guidance 2", 50, 2880, 9.00, 0.9837, None),
    ("captcha", "ddim50", "DDIM, eta 0, guidance 3", 50, 500, 470.0, None, 0.986),
]


def published_run(folder: Path, sets=SETS, steps=None, seeds=None) -> Path:
    steps = steps or {"digits": 14000, "letters": 6000, "captcha": 3500}
    (folder / "tables").mkdir(parents=True)
    pd.DataFrame(
        [{"experiment": e, "run": r, "sampler": s, "steps": n, "num_images": count, "fid_classifier": fid,
          "class_accuracy": acc, "string_accuracy": text} for e, r, s, n, count, fid, acc, text in sets]
    ).to_csv(folder / "tables" / "samples.csv", index=False)
    pd.DataFrame([{"experiment": e, "training_steps": n} for e, n in steps.items()]).to_csv(
        folder / "tables" / "experiments.csv", index=False)
    for experiment in steps:
        (folder / "experiments" / experiment).mkdir(parents=True)
        seed = (seeds or {}).get(experiment, 0)
        (folder / "experiments" / experiment / "provenance.json").write_text(json.dumps({"seed": seed}))
    return folder


def changed(index: int, **values) -> list[tuple]:
    names = ("experiment", "run", "sampler", "steps", "num_images", "fid", "class_accuracy", "string_accuracy")
    rows = [list(row) for row in SETS]
    for key, value in values.items():
        rows[index][names.index(key)] = value
    return [tuple(row) for row in rows]


def test_the_same_run_twice_agrees(tmp_path):
    first, second = published_run(tmp_path / "a"), published_run(tmp_path / "b")
    comparison = compare_runs(first, second)
    assert comparison.agree and comparison.problems == []
    assert [(r["experiment"], r["run"]) for r in comparison.rows] == [(e, r) for e, r, *_ in SETS]
    assert [r["agree"] for r in comparison.rows] == ["yes"] * len(SETS)


def test_fid_tolerance_is_three_percent_or_a_tenth():
    assert fid_tolerance(470.0) == pytest.approx(14.1)
    assert fid_tolerance(2.4) == pytest.approx(0.1)


@pytest.mark.parametrize(
    "index, change, agrees, message",
    [
        (1, {"fid": 2.89}, True, None),  # +3.2%, but within the 0.1 floor
        (1, {"fid": 2.91}, False, "digits/ddim50: FID 2.8 in run A, 2.91 in run B (allowed: ±0.1)"),
        (3, {"fid": 484.0}, True, None),  # +3.0%
        (3, {"fid": 485.0}, False, "captcha/ddim50: FID 470 in run A, 485 in run B"),
        (2, {"class_accuracy": 0.9810}, True, None),  # -0.27 points
        (2, {"class_accuracy": 0.9800}, False, "letters/ddim50: class accuracy 98.37% in run A, 98.00% in run B (allowed: ±0.3 points)"),
        (3, {"string_accuracy": 0.967}, True, None),  # -1.9 points
        (3, {"string_accuracy": 0.96}, False, "captcha/ddim50: string accuracy"),
        (0, {"num_images": 1000}, False, "digits/ddpm1000: 2000 samples in run A, 1000 in run B"),
    ],
)
def test_each_tolerance(tmp_path, index, change, agrees, message):
    comparison = compare_runs(published_run(tmp_path / "a"), published_run(tmp_path / "b", sets=changed(index, **change)))
    assert comparison.agree is agrees, comparison.problems
    if message:
        assert len(comparison.problems) == 1 and comparison.problems[0].startswith(message), comparison.problems
        assert comparison.rows[index]["agree"] == "no"


def test_steps_and_seeds_must_match_and_added_samplers_are_listed(tmp_path):
    first = published_run(tmp_path / "a")
    extra = SETS + [("captcha", "dpmpp_2m20", "DPM-Solver++(2M), trailing spacing, guidance 3", 20, 500, 400.0, None, 0.99)]
    second = published_run(tmp_path / "b", sets=extra, steps={"digits": 10000, "letters": 6000, "captcha": 3500}, seeds={"letters": 1})
    comparison = compare_runs(first, second, ("run 1", "run 2"))
    assert comparison.problems == [
        "digits: trained 14000 steps in run 1, 10000 in run 2",
        "letters: seed 0 in run 1, 1 in run 2",
    ]
    assert comparison.only_in == {"run 1": [], "run 2": ["captcha/dpmpp_2m20"]}
    markdown = to_markdown(comparison_table(comparison))
    assert "| FID run 1 | FID run 2 |" in markdown and "Only in run 2: captcha/dpmpp_2m20." in markdown


def test_a_folder_without_tables_is_named(tmp_path):
    with pytest.raises(DataError, match="samples.csv not found|experiments.csv not found"):
        compare_runs(tmp_path / "nothing", published_run(tmp_path / "b"))


def test_the_script_prints_the_table_and_exits_1_on_disagreement(tmp_path):
    first = published_run(tmp_path / "a")
    same = subprocess.run([sys.executable, str(SCRIPT), str(first), str(published_run(tmp_path / "b")), "--markdown", str(tmp_path / "t.md")],
                          capture_output=True, text=True)
    assert same.returncode == 0, same.stderr
    assert "the runs agree" in same.stdout and (tmp_path / "t.md").read_text().startswith("| experiment |")
    other = subprocess.run([sys.executable, str(SCRIPT), str(first), str(published_run(tmp_path / "c", sets=changed(1, fid=3.5)))],
                           capture_output=True, text=True)
    assert other.returncode == 1 and "digits/ddim50: FID 2.8 in run A, 3.5 in run B" in other.stderr
    missing = subprocess.run([sys.executable, str(SCRIPT), str(tmp_path / "none"), str(first)], capture_output=True, text=True)
    assert missing.returncode == 2 and "not found" in missing.stderr


def _training_log(path: Path, losses, seconds) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = [f"{100 * (i + 1)},{loss!r},{'' if i % 2 == 0 else 0.5},0.0002,{1000 + s},{s}" for i, (loss, s) in enumerate(zip(losses, seconds))]
    path.write_text("step,train_loss,val_loss,lr,images_per_s,elapsed_s\n" + "\n".join(rows) + "\n")
    return path


def test_trainings_equal_bit_for_bit_are_told_apart_from_ones_that_differ(tmp_path):
    losses = [0.9448871612548828, 0.5531884431838989, 0.1204388365149498]
    first, second = published_run(tmp_path / "a"), published_run(tmp_path / "b")
    for folder, seconds in ((first, [80.1, 82.0, 84.2]), (second, [90.0, 93.5, 95.1])):
        _training_log(folder / "experiments/digits/train_log.csv", losses, seconds)  # other speed and clock
        _training_log(folder / "experiments/letters/train_log.csv", losses, seconds)
    # The last bit of one loss differs at step 200.
    _training_log(second / "experiments/letters/train_log.csv", [losses[0], 0.5531884431838990, losses[2]], [1, 2, 3])
    comparison = compare_runs(first, second)
    assert comparison.training_differences == {"digits": None, "letters": 200}
    assert comparison.agree, "bitwise equality is reported, not required"
    notes = to_markdown(comparison_table(comparison))
    assert "Trainings equal bit for bit (every logged loss and learning rate): digits." in notes
    assert "Trainings that differ: letters (from step 200)." in notes


def test_a_training_that_logged_fewer_steps_differs_where_the_shorter_log_ends(tmp_path):
    from ddpm.report.run_comparison import first_training_difference

    losses = [0.9, 0.5, 0.1]
    full = _training_log(tmp_path / "full.csv", losses, [1, 2, 3])
    short = _training_log(tmp_path / "short.csv", losses[:2], [1, 2])
    assert first_training_difference(full, short) == 300 and first_training_difference(short, full) == 300
    assert first_training_difference(full, full) is None
