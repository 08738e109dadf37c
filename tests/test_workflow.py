"""The Snakemake workflow: the smoke run end to end, the report, lint, and bad configs.

Every test runs Snakemake in a copy of the repository in a temporary folder, never in the checkout.
The smoke run (every rule of the DAG on tiny synthetic data, CPU; the ``smoke_run`` fixture of
conftest.py) runs once per session; the tests that need it read its outputs. All are slow:
`python -m pytest -m slow` (or .ci/run) runs them.
"""

import csv
import math
import re

import pytest
import yaml
from PIL import Image

from workflow_runs import REPO, copy_repo, snakemake

pytestmark = pytest.mark.slow

SMOKE_EXPERIMENTS = yaml.safe_load((REPO / "config/smoke.yaml").read_text())["run"]


@pytest.fixture(scope="module")
def checkout_copy(tmp_path_factory):
    """A copy of the repository for dry runs (Snakemake writes its .snakemake folder there)."""
    return copy_repo(tmp_path_factory.mktemp("checkout"))


def _rows(path):
    with open(path) as f:
        return list(csv.DictReader(f))


def test_smoke_run_writes_tables_with_numbers(smoke_run):
    tables = smoke_run / "results/tables"
    experiments = _rows(tables / "experiments.csv")
    assert sorted(r["experiment"] for r in experiments) == sorted(SMOKE_EXPERIMENTS)
    for row in experiments:
        assert math.isfinite(float(row[f"test_loss_{row['target']}"])) and int(row["parameters"]) > 0
    samples = _rows(tables / "samples.csv")
    smoke = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    assert len(samples) == sum(len(smoke["experiments"][exp]["sampling"]["runs"]) for exp in SMOKE_EXPERIMENTS)
    speed = _rows(tables / "speed.csv")
    assert {r["job"] for r in speed if r["experiment"] == "digits_uncond"} >= {"training", "sampling ddpm50"}
    for row in samples:
        assert math.isfinite(float(row["fid_classifier"])), row
        assert "fid_inception" not in row  # no Inception weights offline: left out, with a note
    assert "Inception FID and KID: n/a" in (tables / "main.md").read_text()
    text_row = next(r for r in samples if r["experiment"] == "text_cond")
    assert 0.0 <= float(text_row["char_accuracy"]) <= 1.0
    latex = (tables / "samples.tex").read_text()
    assert "\\toprule" in latex and "\\bottomrule" in latex
    assert "| experiment |" in (tables / "experiments.md").read_text()


def test_smoke_run_writes_every_figure(smoke_run):
    results = smoke_run / "results"
    pngs = [results / "figures/schedules.png"]
    for exp in SMOKE_EXPERIMENTS:
        names = ["forward_process", "denoiser", "steps", "loss_curves", "fid_vs_steps"] + (["schedule"] if exp != "digits_toy" else [])
        pngs += [results / f"figures/{exp}/{name}.png" for name in names]
        pngs += list((results / f"experiments/{exp}/samples").glob("*.png"))
        with Image.open(results / f"experiments/{exp}/trajectory.gif") as gif:
            assert gif.n_frames > 2
    pngs += [results / f"figures/data/{d}/{split}.png" for d in ("digits", "text") for split in ("train", "test")]
    for png in pngs:
        with Image.open(png) as image:
            assert image.width > 100 and image.height > 50, png
    figures = [png for png in pngs if png.is_relative_to(results / "figures")]
    assert all(png.with_suffix(".pdf").read_bytes().startswith(b"%PDF") for png in figures)


def test_a_finished_run_has_nothing_left_to_do_and_makes_a_report(smoke_run):
    dry = snakemake(smoke_run, "-n", "--configfile", "config/smoke.yaml")
    assert dry.returncode == 0 and "Nothing to be done" in dry.stdout + dry.stderr, dry.stdout[-3000:]
    report = snakemake(smoke_run, "--configfile", "config/smoke.yaml", "--report", "report.html")
    assert report.returncode == 0, report.stderr[-3000:]
    html = (smoke_run / "report.html").read_text(errors="replace")
    assert "forward process" in html.lower() and len(html) > 100_000


def test_lint_and_a_dry_run_of_the_full_config_pass(checkout_copy):
    lint = snakemake(checkout_copy, "--lint")
    assert lint.returncode == 0, lint.stdout[-3000:]
    dry = snakemake(checkout_copy, "-n")
    assert dry.returncode == 0, dry.stderr[-3000:]
    for exp in ("mnist_uncond", "captcha_text", "mnist_toy"):
        assert f"results/experiments/{exp}/model.pt" in dry.stdout
    _check_scheduling(_dry_run_jobs(dry.stdout))


def _dry_run_jobs(text):
    """(rule, wildcards, priority, resources) of each job a dry run lists."""
    jobs = []
    for block in re.split(r"\n(?=(?:local)?rule \S+:)", text)[1:]:
        fields = dict(re.findall(r"^\s+(\w+): (.*)$", block, flags=re.M))
        resources = dict(item.split("=", 1) for item in fields.get("resources", "").split(", ") if "=" in item)
        jobs.append((block.split(":", 1)[0].split()[-1], fields.get("wildcards", ""), int(fields.get("priority", 0)), resources))
    return jobs


def _check_scheduling(jobs):
    """Every training takes a `training` slot and starts before any other job; after the
    trainings, the sampling and evaluation of the experiment that trains longest go first."""
    trainings = {wildcards: priority for rule, wildcards, priority, resources in jobs if rule == "train"}
    assert len(trainings) == len(yaml.safe_load((REPO / "config/config.yaml").read_text())["run"])
    assert all(resources.get("training") == "1" and resources.get("gpu") == "1" for rule, _, _, resources in jobs if rule == "train")
    assert not any("training" in resources for rule, _, _, resources in jobs if rule != "train")
    others = {rule: priority for rule, _, priority, _ in jobs if rule != "train"}
    assert min(trainings.values()) > max(others.values())
    longest = max(trainings, key=trainings.get).removeprefix("exp=")
    assert longest == "mnist_uncond"
    for kind in ("sample", "evaluate_samples"):
        ranked = {rule: priority for rule, priority in others.items() if rule.startswith(kind + "_")}
        assert max(ranked, key=ranked.get) == f"{kind}_{longest}" and len(set(ranked.values())) == len(ranked)


def _bad_config(tmp_path, edit):
    config = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    edit(config)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda c: c["experiments"]["digits_uncond"]["training"].update(stepz=10), "stepz"),
        (lambda c: c["experiments"]["digits_uncond"]["training"].update(steps="many"), "'many' is not of type 'integer'"),
        (lambda c: c["experiments"]["digits_uncond"]["sampling"]["runs"].append({"sampler": "euler", "steps": 5}), "euler"),
        (lambda c: c["datasets"]["digits"].update(path="/tmp"), "path"),
        (lambda c: c["experiments"]["digits_uncond"].update(dataset="digitz"), "uses dataset 'digitz'"),
        (lambda c: c["run"].append("nope"), "run lists 'nope'"),
    ],
)
def test_bad_configs_stop_before_any_job(checkout_copy, tmp_path, edit, message):
    result = snakemake(checkout_copy, "-n", "--configfile", str(_bad_config(tmp_path, edit)))
    assert result.returncode != 0
    assert message in result.stdout + result.stderr


def test_a_missing_dataset_offline_stops_before_training_with_the_fix(tmp_path):
    root = copy_repo(tmp_path)
    config = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    config["datasets"]["mnist"] = {"source": "mnist"}
    config["experiments"]["digits_uncond"]["dataset"] = "mnist"
    config["run"] = ["digits_uncond"]
    config["download"] = False
    (root / "offline.yaml").write_text(yaml.safe_dump(config))
    result = snakemake(root, "--cores", "1", "--configfile", "offline.yaml", timeout=300)
    assert result.returncode != 0
    log = (root / "logs/fetch_raw/mnist.log").read_text()
    assert "train-images-idx3-ubyte.gz" in log and "results/raw/mnist" in log and "http" in log
    assert not (root / "results/experiments").exists()


def test_the_smoke_run_again_from_empty_results_writes_byte_identical_tables(smoke_run, second_smoke_run):
    """Fixed steps and seeds: a second run from scratch reproduces every results table byte for byte
    (the speed table measures the machine, not the results, and is the one exception)."""
    first = sorted(p.name for p in (smoke_run / "results/tables").glob("*.csv") if p.name != "speed.csv")
    assert set(first) >= {"main.csv", "samples.csv", "experiments.csv"}
    again = second_smoke_run / "results/tables"
    assert first == sorted(p.name for p in again.glob("*.csv") if p.name != "speed.csv")
    for name in first:
        a = (smoke_run / "results/tables" / name).read_bytes()
        assert a == (again / name).read_bytes(), f"{name} differs between two runs of the smoke config"
