"""A training job killed mid-run and started again ends with exactly the weights of an uninterrupted run."""

import os
import signal
import subprocess
import time

import pytest
import torch
from trainfiles import run, train_command, write_tiny_dataset

from ddpm.training import load_model_checkpoint
from ddpm.training.checkpoint import STATE_FORMAT, load_torch

# Slow (kills and restarts training processes): deselected in the quick tier; `python -m pytest -m slow` runs it.
pytestmark = pytest.mark.slow

STEPS = 60


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="module")
def uninterrupted(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("straight")
    result = run(train_command(data, out, steps=STEPS))
    assert result.returncode == 0, result.stderr[-3000:]
    return load_model_checkpoint(out / "model.pt").model.state_dict()


def _saved_step(state_path):
    try:
        return load_torch(state_path, STATE_FORMAT)["step"]
    except Exception:  # not written yet (the rename is atomic, so never half-written)
        return -1


def _start_and_kill(command, state_path, sig, after_step=15):
    env = {"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": str(train_command.__globals__["REPO"])}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.time() + 120
    while _saved_step(state_path) < after_step:
        if process.poll() is not None or time.time() > deadline:
            process.kill()
            raise AssertionError(f"training ended or stalled before step {after_step}: {process.communicate()[1][-2000:]}")
        time.sleep(0.05)
    os.kill(process.pid, sig)
    _, stderr = process.communicate(timeout=60)
    return process.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_killed_and_restarted_training_matches_an_uninterrupted_run(data, uninterrupted, tmp_path, sig):
    command = train_command(data, tmp_path, steps=STEPS)
    code, stderr = _start_and_kill(command, tmp_path / "state.pt", sig)
    saved = _saved_step(tmp_path / "state.pt")
    assert 15 <= saved < STEPS, "the kill did not land mid-run; the test would prove nothing"
    assert not (tmp_path / "model.pt").exists()
    if sig == signal.SIGTERM:
        # SIGTERM: a final state is written before the process exits with 128 + 15.
        assert code == 143, stderr[-2000:]
        assert "state saved" in stderr
    else:
        assert code == -signal.SIGKILL

    restarted = run(command)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert f"resumed from {tmp_path / 'state.pt'} at step {saved}" in restarted.stderr
    resumed = load_model_checkpoint(tmp_path / "model.pt").model.state_dict()
    for key, value in uninterrupted.items():
        torch.testing.assert_close(resumed[key], value, rtol=0, atol=0, msg=key)
