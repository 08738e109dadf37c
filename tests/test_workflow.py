"""The Snakemake workflow: the smoke run end to end, the report, lint, and bad configs.

Every test runs Snakemake in a copy of the repository in a temporary folder, never in the checkout.
The smoke run (every rule of the DAG on tiny synthetic data, CPU) runs once per session; the tests
that need it read its outputs. All are slow: `python -m pytest -m slow` (or .ci/run) runs them.
"""

import csv
import math
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from PIL import Image

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SMOKE_EXPERIMENTS = yaml.safe_load((REPO / "config/smoke.yaml").read_text())["run"]


def copy_repo(dest: Path) -> Path:
    for part in ("workflow", "scripts", "config", "ddpm"):
        shutil.copytree(REPO / part, dest / part, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def snakemake(cwd: Path, *args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "snakemake", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("smoke"))
    result = snakemake(root, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return root


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
        assert math.isfinite(float(row["test_loss"])) and int(row["parameters"]) > 0
    samples = _rows(tables / "samples.csv")
    assert len(samples) == 6  # digits_uncond has three sampler settings, the others one each
    for row in samples:
        assert math.isfinite(float(row["fid_classifier"])), row
        assert row["fid_inception"] == "n/a"  # no Inception weights offline: said, not failed
        assert float(row["sampling_images_per_s"]) > 0
    text_row = next(r for r in samples if r["experiment"] == "text_cond")
    assert 0.0 <= float(text_row["char_accuracy"]) <= 1.0
    latex = (tables / "samples.tex").read_text()
    assert "\\toprule" in latex and "\\bottomrule" in latex
    assert "| experiment |" in (tables / "experiments.md").read_text()


def test_smoke_run_writes_every_figure(smoke_run):
    results = smoke_run / "results"
    pngs = [results / "figures/schedules.png"]
    for exp in SMOKE_EXPERIMENTS:
        pngs += [results / f"figures/{exp}/{name}.png" for name in ("forward_process", "denoiser", "steps", "loss_curves", "fid_vs_steps")]
        pngs += list((results / f"experiments/{exp}/samples").glob("*.png"))
        with Image.open(results / f"experiments/{exp}/trajectory.gif") as gif:
            assert gif.n_frames > 2
    pngs += [results / f"data/{d}/grid.png" for d in ("digits", "text")]
    for png in pngs:
        with Image.open(png) as image:
            assert image.width > 100 and image.height > 50, png


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
