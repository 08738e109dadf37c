"""The trainer: outputs, exact resume, divergence, time budget (tiny models on the CPU)."""

import csv
import json

import numpy as np
import pytest
import torch

from ddpm.errors import TrainingDivergedError
from ddpm.training import load_model_checkpoint, train
from ddpm.training.checkpoint import STATE_FORMAT, load_torch

from trainfiles import DIFFUSION, MODEL, SPEC
from trainfiles import tiny_data as _data
from trainfiles import tiny_files as _files
from trainfiles import tiny_training as _training


def test_training_writes_checkpoint_log_and_provenance(tmp_path):
    summary = train(MODEL, SPEC, DIFFUSION, _training(), _data(), _files(tmp_path), meta={"experiment": "tiny"}, progress=False)
    assert summary.steps == 12 and np.isfinite(summary.final_train_loss) and np.isfinite(summary.final_val_loss)

    loaded = load_model_checkpoint(tmp_path / "model.pt")
    assert loaded.model_config == MODEL and loaded.data == SPEC and loaded.diffusion_config == DIFFUSION
    assert loaded.meta["experiment"] == "tiny" and loaded.meta["steps"] == 12
    assert not loaded.model.training  # ready to sample

    with open(tmp_path / "log.csv") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [3, 6, 9, 12]
    assert rows[1]["val_loss"] and not rows[0]["val_loss"]
    assert float(rows[0]["lr"]) == pytest.approx(2e-4)  # warm-up of 2 steps is over

    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["seed"] == 3 and prov["settings"]["training"]["steps"] == 12
    assert {"git_commit", "packages", "device"} <= set(prov)


def test_resumed_run_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    train(MODEL, SPEC, DIFFUSION, _training(), _data(), _files(straight), progress=False)
    # The same run stopped after 6 steps (its state saved), then restarted with the full length.
    first = train(MODEL, SPEC, DIFFUSION, _training(steps=6), _data(), _files(resumed), progress=False)
    assert first.steps == 6
    second = train(MODEL, SPEC, DIFFUSION, _training(), _data(), _files(resumed), progress=False)
    assert second.resumed_from == 6 and second.steps == 12

    a = load_model_checkpoint(straight / "model.pt").model.state_dict()
    b = load_model_checkpoint(resumed / "model.pt").model.state_dict()
    for key in a:
        torch.testing.assert_close(a[key], b[key], rtol=0, atol=0, msg=key)
    # The log of the resumed run is the uninterrupted run's log.
    assert [r["step"] for r in second.rows] == [3, 6, 9, 12]


def test_changed_settings_start_from_scratch(tmp_path):
    train(MODEL, SPEC, DIFFUSION, _training(steps=6), _data(), _files(tmp_path), progress=False)
    summary = train(MODEL, SPEC, DIFFUSION, _training(steps=6, lr=1e-3), _data(), _files(tmp_path), progress=False)
    assert summary.resumed_from == 0


def test_divergence_stops_with_a_clear_error_and_keeps_the_last_good_state(tmp_path, monkeypatch):
    files = _files(tmp_path)
    train(MODEL, SPEC, DIFFUSION, _training(steps=6), _data(), files, progress=False)
    original = torch.optim.AdamW.step

    def step_to_nan(self, *args, **kwargs):  # what an overflow does to the weights
        result = original(self, *args, **kwargs)
        with torch.no_grad():
            for group in self.param_groups:
                for p in group["params"]:
                    p.fill_(float("nan"))
        return result

    monkeypatch.setattr(torch.optim.AdamW, "step", step_to_nan)
    with pytest.raises(TrainingDivergedError, match="loss became nan.*state of step 6, which this run resumed from"):
        train(MODEL, SPEC, DIFFUSION, _training(steps=60), _data(), files, progress=False)
    kept = load_torch(files.state, STATE_FORMAT)
    assert kept["step"] == 6 and all(torch.isfinite(v).all() for v in kept["model"].values())
    # The finished run's checkpoint is not replaced by weights of the diverged one.
    checkpoint = load_model_checkpoint(files.checkpoint)
    assert checkpoint.meta["steps"] == 6
    assert all(torch.isfinite(v).all() for v in checkpoint.model.state_dict().values())


def test_time_budget_ends_the_run_early_with_a_checkpoint(tmp_path):
    summary = train(MODEL, SPEC, DIFFUSION, _training(steps=10_000, time_budget_s=1e-9), _data(), _files(tmp_path), progress=False)
    assert summary.steps == 3 and "time budget" in summary.stopped_early
    assert load_model_checkpoint(tmp_path / "model.pt").meta["steps"] == 3
