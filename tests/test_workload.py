"""The work estimate (ddpm.workload) and the workflow's stop before a CPU-only full reproduction."""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
import yaml

from ddpm.workload import CPU_LIMIT_MINUTES, CPU_RATE, evaluation_cost, exceeds_cpu_limit, experiment_workload, minutes

REPO = Path(__file__).resolve().parents[1]
UNET = {"base_channels": 64, "channel_mult": [1, 2, 2], "num_res_blocks": 2}


def test_unet_cost_scales_with_pixels_and_squared_width():
    base = evaluation_cost(UNET, (28, 28))
    assert evaluation_cost({**UNET, "base_channels": 128}, (28, 28)) == pytest.approx(4 * base)
    assert evaluation_cost(UNET, (56, 56)) == pytest.approx(4 * base)
    assert evaluation_cost({}, (28, 28)) == pytest.approx(base)  # the ModelConfig defaults


def test_training_images_and_sampling_evaluations_are_counted():
    experiment = {
        "model": {**UNET, "conditioning": "class"},
        "training": {"steps": 100, "batch_size": 8},
        "sampling": {"num_images": 10, "guidance_scale": 2.0, "runs": [{"sampler": "ddim", "steps": 20}, {"sampler": "ddpm", "steps": 50}]},
    }
    work = experiment_workload("e", experiment, (28, 28))
    assert work.training_images == 800
    assert work.sampling_evaluations == 10 * (20 + 50) * 2  # guidance: two passes per step
    assert experiment_workload("e", experiment, (28, 28), train=False, sampling_runs=[]).training_images == 0
    unguided = {**experiment, "sampling": {**experiment["sampling"], "guidance_scale": 1.0}}
    assert experiment_workload("e", unguided, (28, 28)).sampling_evaluations == 700
    training, sampling = minutes([work], CPU_RATE)
    assert training == pytest.approx(800 * 3 * work.evaluation_cost / CPU_RATE / 60)


def test_the_default_config_exceeds_the_cpu_limit_and_the_smoke_config_does_not():
    def workloads(name):
        config = yaml.safe_load((REPO / "config" / name).read_text())
        return [
            experiment_workload(exp, config["experiments"][exp], config["datasets"][config["experiments"][exp]["dataset"]].get("image_size", (28, 28)))
            for exp in config["run"]
        ]

    assert exceeds_cpu_limit(workloads("config.yaml"))
    assert sum(minutes(workloads("smoke.yaml"), CPU_RATE)) < CPU_LIMIT_MINUTES / 10


def _snakemake(tmp_path, *args):
    for part in ("workflow", "scripts", "config", "ddpm"):
        if not (tmp_path / part).exists():
            shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    start = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    return result, time.monotonic() - start


cpu_only = pytest.mark.skipif(torch.cuda.is_available(), reason="the check fires only on a machine without a GPU")


@cpu_only
@pytest.mark.slow
def test_default_config_on_the_cpu_stops_before_any_job_with_the_ways_on(tmp_path):
    result, seconds = _snakemake(tmp_path, "--cores", "1", "--config", "mirror=/nonexistent")
    assert result.returncode != 0
    assert "No GPU found" in result.stderr and "training about" in result.stderr and "days" in result.stderr
    assert "--configfile config/smoke.yaml" in result.stderr and "device=cpu" in result.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "logs").exists()
    assert seconds < 60


@cpu_only
@pytest.mark.slow
@pytest.mark.parametrize(
    "args", [("--configfile", "config/smoke.yaml"), ("--config", "device=cpu")], ids=["smoke", "device=cpu"]
)
def test_smoke_config_and_device_cpu_are_not_stopped(tmp_path, args):
    result, _ = _snakemake(tmp_path, "-n", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "No GPU found" not in result.stderr
    assert "rough time on this machine's CPU" in result.stderr
