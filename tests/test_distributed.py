"""Two gloo processes with DistributedDataParallel follow the loss curve of one process."""

import csv
import sys

import pytest
import torch
from trainfiles import run, train_command, write_tiny_dataset

from ddpm.training import load_model_checkpoint

# Slow (starts processes with torchrun): deselected in the quick tier; `python -m pytest -m slow` runs it.
pytestmark = pytest.mark.slow


def _curve(folder):
    with open(folder / "train_log.csv") as f:
        rows = list(csv.DictReader(f))
    return [float(r["train_loss"]) for r in rows], [float(r["val_loss"]) for r in rows if r["val_loss"]]


def test_two_processes_follow_the_single_process_loss_curve(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    # No dropout: its random masks are drawn per process; everything else (batches, timesteps,
    # noise, condition dropout) comes from the generator all processes share.
    single, double = tmp_path / "one", tmp_path / "two"
    one = run(train_command(data, single, steps=30, dropout=0.0, cond_dropout=0.2))
    assert one.returncode == 0, one.stderr[-3000:]
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    two = run(train_command(data, double, steps=30, dropout=0.0, cond_dropout=0.2, launcher=torchrun), timeout=600)
    assert two.returncode == 0, two.stderr[-3000:]

    train_one, val_one = _curve(single)
    train_two, val_two = _curve(double)
    assert len(train_one) == len(train_two) == 6
    # The same global batches, split over two processes: same losses up to float summation order.
    torch.testing.assert_close(torch.tensor(train_two), torch.tensor(train_one), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(torch.tensor(val_two), torch.tensor(val_one), rtol=1e-4, atol=1e-5)
    # Weights: Adam divides by the gradients' running RMS, so where a gradient is ~0 rounding can
    # move a weight by up to lr per step; compare all weights as one vector.
    a = torch.cat([v.flatten() for v in load_model_checkpoint(single / "model.pt").model.state_dict().values()])
    b = torch.cat([v.flatten() for v in load_model_checkpoint(double / "model.pt").model.state_dict().values()])
    assert (b - a).norm() / a.norm() < 1e-3
    # Provenance records the two processes.
    assert '"world_size": 2' in (double / "provenance.json").read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="torchrun's standalone rendezvous is tested on Linux")
def test_batch_must_split_evenly_over_processes(tmp_path):
    data = write_tiny_dataset(tmp_path / "data")
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2"]
    result = run(train_command(data, tmp_path / "out", steps=4, batch_size=7, launcher=torchrun), timeout=300)
    assert result.returncode != 0 and "not divisible by the 2 processes" in result.stderr
