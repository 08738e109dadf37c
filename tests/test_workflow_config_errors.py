"""Config mistakes stop the workflow before any job with one short message that says how to fix them."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from ddpm.training.loop import MAX_LR

REPO = Path(__file__).resolve().parents[1]
SMOKE = (REPO / "config/smoke.yaml").read_text()
TRAINING = "training: &tiny_training {steps: 60,"


def dry_run(tmp_path, config_text, *extra):
    path = tmp_path / "config.yaml"
    path.write_text(config_text)
    return subprocess.run(
        [sys.executable, "-m", "snakemake", "-n", "--configfile", str(path), *extra],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )


def test_unknown_top_level_key_is_named_in_a_few_lines(tmp_path):
    result = dry_run(tmp_path, SMOKE + "\nrunn: [digits_uncond]\n")
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert "at the top level: Additional properties are not allowed ('runn' was unexpected)" in output
    assert str(tmp_path / "config.yaml") in output
    assert len(output.splitlines()) < 15, output


def test_yaml_1_1_number_that_is_a_string_says_how_to_write_it(tmp_path):
    result = dry_run(tmp_path, SMOKE.replace(TRAINING, "training: &tiny_training {lr: 1.0e6, steps: 60,"))
    assert result.returncode != 0
    assert "training.lr: '1.0e6' is not of type 'number'; YAML reads 1.0e6 as text: write 1.0e+6" in result.stdout + result.stderr


def test_absurd_learning_rate_is_a_config_error_before_any_job(tmp_path):
    result = dry_run(tmp_path, SMOKE.replace(TRAINING, "training: &tiny_training {lr: 1.0e+38, steps: 60,"))
    assert result.returncode != 0
    assert "training.lr: 1e+38 is greater than the maximum of 1" in result.stdout + result.stderr


def test_lowercase_false_on_the_command_line_is_a_boolean(tmp_path):
    result = dry_run(tmp_path, SMOKE, "--config", "download=false")
    assert result.returncode == 0, result.stderr[-2000:]


def test_the_schema_and_the_trainer_agree_on_the_largest_learning_rate():
    schema = yaml.safe_load((REPO / "workflow/schemas/config.schema.yaml").read_text())
    assert schema["$defs"]["training"]["properties"]["lr"]["maximum"] == MAX_LR
