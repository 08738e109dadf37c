"""Training states are written every `checkpoint_every` steps, whether or not that step is a log step."""

import csv
import signal

import pytest
import torch
from test_preemption import _saved_step, _start_and_kill
from trainfiles import run, train_command, write_tiny_dataset

from ddpm.training import load_model_checkpoint

STEPS, FIRST_LOG = 60, 50
SETTINGS = dict(steps=STEPS, log_every=FIRST_LOG, val_every=FIRST_LOG, checkpoint_every=5)


def _log(folder):
    with open(folder / "train_log.csv") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return write_tiny_dataset(tmp_path_factory.mktemp("data"))


def test_kill_before_the_first_log_step_resumes_from_a_state(data, tmp_path_factory):
    straight = tmp_path_factory.mktemp("straight")
    assert run(train_command(data, straight, **SETTINGS)).returncode == 0
    killed = tmp_path_factory.mktemp("killed")
    command = train_command(data, killed, **SETTINGS)
    _start_and_kill(command, killed / "state.pt", signal.SIGKILL, after_step=10)
    saved = _saved_step(killed / "state.pt")
    assert 10 <= saved < FIRST_LOG, f"the kill landed at step {saved}, not before the first log step"

    restarted = run(command)
    assert restarted.returncode == 0, restarted.stderr[-3000:]
    assert f"at step {saved}" in restarted.stderr
    a = load_model_checkpoint(straight / "model.pt").model.state_dict()
    b = load_model_checkpoint(killed / "model.pt").model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    # The interval in progress was part of the state: the log's losses are those of the straight run.
    assert [(r["step"], r["train_loss"], r["val_loss"]) for r in _log(killed)] == [
        (r["step"], r["train_loss"], r["val_loss"]) for r in _log(straight)
    ]


def test_validation_runs_at_val_every_even_between_log_steps(data, tmp_path):
    assert run(train_command(data, tmp_path, steps=12, log_every=4, val_every=6, checkpoint_every=6)).returncode == 0
    rows = _log(tmp_path)
    assert [int(r["step"]) for r in rows] == [4, 6, 8, 12]
    assert [bool(r["val_loss"]) for r in rows] == [False, True, False, True]
