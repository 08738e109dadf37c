"""The README's resume recipe after Snakemake itself is killed (-9): --unlock, then the same command."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from ddpm.training.checkpoint import STATE_FORMAT, load_torch

REPO = Path(__file__).resolve().parents[1]
TARGET = "results/experiments/digits_uncond/model.pt"


def _saved_step(path):
    try:
        return load_torch(path, STATE_FORMAT)["step"]
    except Exception:  # not written yet
        return -1


@pytest.mark.slow
def test_kill_9_then_unlock_then_the_same_command_resumes_the_training(tmp_path):
    for part in ("workflow", "scripts", "config", "ddpm"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    config = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
    config["run"] = ["digits_uncond"]
    config["experiments"]["digits_uncond"]["training"] = {
        **config["experiments"]["digits_uncond"]["training"], "checkpoint_every": 5, "log_every": 30,
    }
    (tmp_path / "resume.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--cores", "1", TARGET, "--configfile", "resume.yaml"]
    state = tmp_path / "results/experiments/digits_uncond/state.pt"

    run = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 300
    while _saved_step(state) < 5:
        assert run.poll() is None and time.time() < deadline, "the training ended or stalled before its first state"
        time.sleep(0.1)
    os.killpg(run.pid, signal.SIGKILL)  # Snakemake and its job, as a lost terminal or kill -9 would
    run.wait()
    saved = _saved_step(state)
    assert 5 <= saved < 60 and not (tmp_path / TARGET).exists()

    def again(*args):
        return subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=600)

    locked = again(*command)
    assert locked.returncode != 0 and "cannot be locked" in locked.stdout + locked.stderr
    assert again(sys.executable, "-m", "snakemake", "--unlock", "--configfile", "resume.yaml").returncode == 0
    resumed = again(*command)
    assert resumed.returncode == 0, (resumed.stdout + resumed.stderr)[-3000:]
    log = (tmp_path / "logs/train/digits_uncond.log").read_text()
    assert f"resumed from results/experiments/digits_uncond/state.pt at step {saved}" in log
    assert (tmp_path / TARGET).exists()
