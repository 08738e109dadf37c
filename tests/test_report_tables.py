"""Tables and result readers on per-experiment JSONs shaped like those the pipeline writes, in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import re
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ddpm.errors import DataError
from ddpm.report.results import KID, SamplingSpeed, Unavailable, read_results, read_run, read_train_log
from ddpm.report.tables import (
    speed_table,
    KID_MIN_SUBSET,
    MAIN_COLUMNS_MAX,
    experiments_table,
    main_table,
    samples_table,
    to_csv,
    to_latex,
    to_markdown,
)

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
NO_INCEPTION = "unavailable: no Inception weights (pt_inception-2015-12-05-6726825d.pth) in /hub/checkpoints and $DDPM_INCEPTION_WEIGHTS is not set"


def _json(path: Path, obj: dict) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))
    return str(path)


def _provenance(folder: Path, *, dataset: str, conditioning: str, diffusion: dict, parameters: int) -> str:
    return _json(
        folder / "provenance.json",
        {
            "settings": {"model": {"conditioning": conditioning}, "data": {}, "diffusion": diffusion, "training": {"steps": 2000}},
            "seed": 0,
            "meta": {
                "experiment": folder.name, "dataset": dataset, "steps": 2000, "train_time_s": 754.0,
                "images_per_s": 1234.5, "final_train_loss": 0.03, "final_val_loss": float("nan"), "parameters": parameters,
            },
            "device": "CPU",
        },
    )


def _run(
    folder: Path, run: str, sampler: dict, *, fid: dict, unavailable: dict, kid: dict, conditional: dict | None, guidance: float = 1.0, speed: dict | None = None
) -> dict:
    info = _json(
        folder / "samples" / f"{run}.json",
        {**(speed or {}),
            "experiment": folder.name, "run": run, "sampler": {"eta": 0.0, "variance": "small", "spacing": "uniform", "name": None, **sampler},
            "sampling": {"guidance_scale": guidance, "num_images": 30}, "num_images": 30, "seconds": 2.0, "images_per_s": 15.0,
            "device": "CPU", "requested": None if conditional is None else ["0", "1", "2"],
        },
    )
    metrics = _json(
        folder / "eval" / f"{run}.json",
        {"samples": "x.npz", "num_images": 30, "image_shape": [8, 8, 1], "fid": fid, "fid_unavailable": unavailable, "kid": kid, "conditional": conditional},
    )
    return {"metrics": metrics, "info": info}


@pytest.fixture
def inputs(tmp_path) -> dict:
    """A class-conditional experiment (two runs, Inception unavailable) and a text one (Inception available)."""
    cond = tmp_path / "mnist_cond"
    text = tmp_path / "captcha"
    gaussian = {"kind": "gaussian", "schedule": "linear", "timesteps": 1000, "target": "eps", "min_snr_gamma": None}
    class_acc = {"kind": "class", "accuracy": 0.9125, "count": 30, "per_class": {}}
    return {
        "mnist_cond": {
            "provenance": _provenance(cond, dataset="mnist", conditioning="class", diffusion=gaussian, parameters=35_712_345),
            "test_loss": _json(cond / "eval" / "test_loss.json", {"experiment": "mnist_cond", "test_loss": 0.031234, "images": 100, "seed": 0}),
            "classifier_metrics": _json(
                tmp_path / "classifiers" / "mnist" / "metrics.json",
                {"dataset": "mnist", "test": {"kind": "class", "accuracy": 0.987, "count": 100}},
            ),
            "runs": {
                "ddim10": _run(cond, "ddim10", {"sampler": "ddim", "steps": 10}, fid={"classifier": 12.3456, "inception": None},
                               unavailable={"inception": NO_INCEPTION}, kid={"classifier": {"mean": 0.0123, "std": 0.002, "subset_size": 1000, "subsets": 100}, "inception": None},
                               conditional=class_acc, guidance=3.0,
                               speed={"images_per_second": 250.0, "network_evaluations_per_second": 5000.0, "startup_seconds": 4.0}),
                "ddpm1000": _run(cond, "ddpm1000", {"sampler": "ddpm", "steps": 1000, "variance": "large"}, fid={"classifier": 5.0, "inception": None},
                                 unavailable={"inception": NO_INCEPTION}, kid={"classifier": None, "inception": None},
                                 conditional=class_acc, guidance=3.0),
            },
        },
        "captcha": {
            "provenance": _provenance(text, dataset="captcha", conditioning="text", diffusion={**gaussian, "schedule": "cosine"}, parameters=1_500_000),
            "test_loss": None,
            "classifier_metrics": None,
            "runs": {
                "ddim50": _run(text, "ddim50", {"sampler": "ddim", "steps": 50, "eta": 0.5}, fid={"classifier": 20.0, "inception": 40.5},
                               unavailable={}, kid={"classifier": {"mean": 0.01, "std": 0.02, "subset_size": 10, "subsets": 100}},
                               conditional={"kind": "text", "char_accuracy": 0.8, "string_accuracy": 0.5, "count": 30, "per_string": {}}),
            },
        },
    }


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_read_run_keeps_numbers_and_marks_unavailable_features(inputs):
    files = inputs["mnist_cond"]["runs"]["ddim10"]
    run = read_run(files["metrics"], files["info"])
    assert run.fid["classifier"] == pytest.approx(12.3456)
    assert run.fid["inception"] == Unavailable(NO_INCEPTION) and run.fid["inception"].short == "n/a (weights unavailable)"
    assert run.kid["classifier"] == KID(0.0123, 0.002, 1000, 100)
    assert run.guidance == 3.0 and run.steps == 10 and run.series == "DDIM, eta 0" and run.num_images == 30
    # The job's whole-run images_per_s is never taken for the sampler's speed.
    assert run.speed == SamplingSpeed(images_per_second=250.0, network_evaluations_per_second=5000.0, startup_seconds=4.0, compile_seconds=None)


def test_main_table_fits_one_column(inputs):
    _, runs = read_results(inputs)
    table = main_table(runs)
    assert len(table.shown.columns) <= MAIN_COLUMNS_MAX
    assert list(table.shown.columns) == ["experiment", "sampler", "steps", "N", "FID (classifier)", "FID (inception)", "accuracy"]
    assert table.shown["sampler"].tolist() == ["DDIM, eta 0, guidance 3", "DDPM, large variance, guidance 3", "DDIM, eta 0.5, guidance 1"]
    assert table.shown["accuracy"].tolist() == ["91.2%", "91.2%", "50.0%"]  # class, class, whole string
    assert table.shown["FID (inception)"].tolist() == ["n/a", "n/a", "40.50"]
    assert any(note.startswith("Inception FID and KID n/a: weights unavailable") for note in table.notes)


def test_main_latex_table_compiles_or_has_at_most_eight_columns(inputs, tmp_path):
    _, runs = read_results(inputs)
    latex = to_latex(main_table(runs))
    spec = re.search(r"\\begin\{tabular\}\{([lrc]+)\}", latex).group(1)
    assert len(spec) <= MAIN_COLUMNS_MAX
    pdflatex = shutil.which("pdflatex")
    if pdflatex is None:
        return  # the column count above is the check without a TeX installation
    (tmp_path / "main.tex").write_text(latex)
    document = "\\documentclass[twocolumn]{article}\\usepackage{booktabs}\\begin{document}\\begin{table}\\input{main.tex}\\end{table}\\end{document}\n"
    (tmp_path / "doc.tex").write_text(document)
    result = subprocess.run([pdflatex, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "Overfull \\hbox" not in (tmp_path / "doc.log").read_text(errors="replace")


def test_samples_table_values_and_formats(inputs):
    _, runs = read_results(inputs)
    table = samples_table(runs)
    rows = _rows(to_csv(table))
    assert [(r["experiment"], r["run"]) for r in rows] == [("mnist_cond", "ddim10"), ("mnist_cond", "ddpm1000"), ("captcha", "ddim50")]
    assert float(rows[0]["fid_classifier"]) == pytest.approx(12.3456) and rows[0]["fid_inception"] == ""
    assert float(rows[2]["fid_inception"]) == 40.5 and rows[1]["kid_classifier"] == ""
    assert float(rows[0]["kid_classifier_std"]) == 0.002 and rows[0]["kid_classifier_subset_size"] == "1000"
    assert float(rows[0]["class_accuracy"]) == 0.9125 and float(rows[2]["string_accuracy"]) == 0.5
    assert "images_per_second" not in rows[0]  # speeds are in the speed table only
    assert "kid_inception" not in rows[0]  # no run has an Inception KID: the column is left out
    assert rows[2]["kid_classifier"] == ""  # subsets of 10 images: too small for KID to mean anything

    markdown = to_markdown(table)
    assert "| 12.35 | 12.30 ± 2.00 |" in markdown  # FID, then KID x 1000 with its std
    assert "91.2%" in markdown and "80.0%" in markdown and "50.0%" in markdown
    assert f"fewer than {KID_MIN_SUBSET} images" in markdown

    latex = to_latex(table)
    assert all(rule in latex for rule in ("\\toprule", "\\midrule", "\\bottomrule", "\\begin{tabular}", "\\end{tabular}"))
    assert "mnist\\_cond" in latex and "mnist_cond" not in latex
    assert "91.2\\%" in latex and "12.30 $\\pm$ 2.00" in latex
    body = latex.split("\\midrule")[1].split("\\bottomrule")[0]
    assert body.count("\\\\") == len(runs)  # one line per run


def test_experiments_table_values_and_formats(inputs):
    experiments, _ = read_results(inputs)
    table = experiments_table(experiments)
    rows = _rows(to_csv(table))
    assert rows[0]["parameters"] == "35712345" and float(rows[0]["test_loss_eps"]) == pytest.approx(0.031234)
    assert float(rows[0]["classifier_test_accuracy"]) == 0.987 and rows[1]["classifier_test_accuracy"] == ""
    assert rows[1]["schedule"] == "cosine" and rows[1]["test_loss_eps"] == ""
    assert "recognizer_test_char_accuracy" not in rows[0]  # no experiment has a recognizer's metrics
    markdown = to_markdown(table)
    assert "| mnist_cond | mnist | 35.7 | class | linear | 1,000 | eps | 2,000 | 0.0312 | 98.7% |" in markdown
    assert "| captcha | captcha | 1.50 | text | cosine |" in markdown and "| – |" in markdown


def test_test_loss_has_a_column_per_prediction_target():
    from ddpm.report.results import ExperimentResult

    toy = ExperimentResult("toy", "mnist", 1000, "none", {"kind": "toy"}, 10, 1.0, 5.0, 0.1, None)
    v = ExperimentResult("v", "mnist", 1000, "none", {"kind": "gaussian", "schedule": "cosine", "timesteps": 10, "target": "v"}, 10, 1.0, 5.0, 0.2, None)
    table = experiments_table([toy, v])
    rows = _rows(to_csv(table))
    assert (rows[0]["schedule"], rows[0]["timesteps"], rows[0]["target"]) == ("toy", "", "x0")
    assert (rows[0]["test_loss_x0"], rows[0]["test_loss_v"], rows[1]["test_loss_x0"], rows[1]["test_loss_v"]) == ("0.1", "", "", "0.2")
    assert "test loss (x0)" in table.shown and "test loss (v)" in table.shown and "test loss (eps)" not in table.shown


def test_percent_never_rounds_a_shortfall_up_to_all():
    from ddpm.report.tables import show_percent

    assert [show_percent(v) for v in (1.0, 0.9995, 0.99999, 0.9994, 0.912, 0.0)] == [
        "100.0%", "99.95%", "99.99%", "99.9%", "91.2%", "0.0%"]


def test_read_results_refuses_unknown_keys_and_missing_files(inputs, tmp_path):
    with pytest.raises(DataError, match="unknown keys \\['provenence'\\]"):
        read_results({"x": {"provenence": "p.json"}})
    inputs["mnist_cond"]["provenance"] = str(tmp_path / "missing.json")
    with pytest.raises(DataError, match="missing.json: no such file; run the training rule"):
        read_results(inputs)


def test_read_train_log(tmp_path):
    path = tmp_path / "train_log.csv"
    path.write_text("step,train_loss,val_loss,lr,images_per_s,elapsed_s\n10,0.5,,1e-4,100,1\n20,0.25,0.3,1e-4,100,2\n")
    log = read_train_log(path)
    assert log.steps.tolist() == [10, 20] and log.train_loss.tolist() == [0.5, 0.25]
    assert log.val_loss[1] == 0.3 and log.val_loss[0] != log.val_loss[0]  # NaN where not validated
    (tmp_path / "bad.csv").write_text("step,loss\n1,2\n")
    with pytest.raises(DataError, match="columns step, train_loss, val_loss"):
        read_train_log(tmp_path / "bad.csv")


def _script(monkeypatch, name: str, *args: object) -> None:
    monkeypatch.setattr(sys, "argv", [name, *map(str, args)])
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")


def test_make_tables_script_writes_three_formats_of_every_table(monkeypatch, tmp_path, inputs):
    out = tmp_path / "tables"
    _script(monkeypatch, "make_tables.py", "--inputs", json.dumps(inputs), "--out-dir", out)
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{t}.{s}" for t in ("main", "experiments", "samples", "speed") for s in ("csv", "md", "tex"))
    assert "weights unavailable" in (out / "samples.md").read_text()
    assert "\\bottomrule" in (out / "experiments.tex").read_text()


def test_make_tables_script_exits_2_on_a_missing_file(monkeypatch, tmp_path, inputs, capsys):
    inputs["captcha"]["runs"]["ddim50"]["metrics"] = str(tmp_path / "nowhere.json")
    with pytest.raises(SystemExit) as exit_info:
        _script(monkeypatch, "make_tables.py", "--inputs", json.dumps(inputs), "--out-dir", tmp_path / "tables")
    assert exit_info.value.code == 2
    assert "nowhere.json: no such file; run the evaluation rule" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        _script(monkeypatch, "make_tables.py", "--inputs", "{not json", "--out-dir", tmp_path / "tables")
    assert exit_info.value.code == 2


def test_speed_table_holds_every_timing_and_the_other_tables_none(inputs):
    experiments, runs = read_results(inputs)
    rows = _rows(to_csv(speed_table(experiments, runs)))
    by_job = {(r["experiment"], r["job"]): r for r in rows}
    assert float(by_job[("mnist_cond", "sampling ddim10")]["images_per_second"]) == 250.0
    assert by_job[("mnist_cond", "sampling ddpm1000")]["images_per_second"] == ""
    assert float(by_job[("mnist_cond", "training")]["seconds"]) == 754.0
    # Results tables are reproducible byte for byte: no column of theirs measures time.
    for table in (main_table(runs), samples_table(runs), experiments_table(experiments)):
        assert not {c for c in table.values.columns if "second" in c or c.endswith("_s")}, table.name
