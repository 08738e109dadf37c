"""A diverged model never reaches a checkpoint, sample file or metric; JSON output is standard."""

import json

import numpy as np
import pytest
import torch

from ddpm.errors import ConfigError, DataError, TrainingDivergedError
from ddpm.io import write_json
from ddpm.sanity import MAX_ABS_WEIGHT, check_finite_samples, check_weights
from ddpm.training import train
from ddpm.training.checkpoint import STATE_FORMAT, load_torch

from trainfiles import DIFFUSION, MODEL, SPEC
from trainfiles import tiny_data as _data
from trainfiles import tiny_files as _files
from trainfiles import tiny_training as _training


def _blow_up_weights_at(monkeypatch, step, value):
    """AdamW steps as usual, then sets every weight to ``value`` from optimizer step ``step`` on."""
    original = torch.optim.AdamW.step
    calls = {"n": 0}

    def step_then_blow_up(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] >= step:
            with torch.no_grad():
                for group in self.param_groups:
                    for p in group["params"]:
                        p.fill_(value)
        return result

    monkeypatch.setattr(torch.optim.AdamW, "step", step_then_blow_up)


def _strict_json(path):
    def refuse(constant):
        raise AssertionError(f"{path} holds {constant}")

    return json.loads(path.read_text(), parse_constant=refuse)


def test_weights_exploding_on_the_last_step_write_no_model(tmp_path, monkeypatch):
    _blow_up_weights_at(monkeypatch, step=12, value=9e35)
    files = _files(tmp_path)
    with pytest.raises(TrainingDivergedError, match=r"weight became 9e\+35") as error:
        train(MODEL, SPEC, DIFFUSION, _training(), _data(), files, progress=False)
    assert not files.checkpoint.exists() and not files.provenance.exists()
    # The state of step 6 (the last checkpoint step before the blow-up) is what remains, and says so.
    assert "state of step 6, written by this run" in str(error.value)
    assert load_torch(files.state, STATE_FORMAT)["step"] == 6


def test_nan_message_says_no_state_exists_when_none_was_written(tmp_path, monkeypatch):
    _blow_up_weights_at(monkeypatch, step=1, value=float("nan"))
    files = _files(tmp_path)
    with pytest.raises(TrainingDivergedError, match="loss became nan") as error:
        train(MODEL, SPEC, DIFFUSION, _training(), _data(), files, progress=False)
    assert "wrote no training state" in str(error.value) and "is kept" not in str(error.value)
    assert not files.state.exists() and not files.checkpoint.exists()


def test_a_diverging_run_never_writes_a_diverged_state(tmp_path, monkeypatch):
    # Checkpoint steps that are not log steps: the state write itself checks the weights.
    _blow_up_weights_at(monkeypatch, step=4, value=float("inf"))
    files = _files(tmp_path)
    with pytest.raises(TrainingDivergedError, match="wrote no training state"):
        train(MODEL, SPEC, DIFFUSION, _training(log_every=100, val_every=100, checkpoint_every=4), _data(), files, progress=False)
    assert not files.state.exists()


@pytest.mark.parametrize("lr", [1.0e36, 1.0e38])
def test_absurd_learning_rate_is_a_config_error(tmp_path, lr):
    with pytest.raises(ConfigError, match=r"training.lr must be in \(0, 1\]"):
        train(MODEL, SPEC, DIFFUSION, _training(steps=1, lr=lr), _data(), _files(tmp_path), progress=False)
    assert not (tmp_path / "model.pt").exists()


def test_provenance_is_standard_json_when_no_validation_ran(tmp_path):
    # A time budget ends the run before its first validation: the value is null, not NaN.
    train(MODEL, SPEC, DIFFUSION, _training(steps=10_000, time_budget_s=1e-9), _data(), _files(tmp_path), progress=False)
    provenance = _strict_json(tmp_path / "provenance.json")
    assert provenance["meta"]["final_val_loss"] is None


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf"), np.float32("nan")])
def test_write_json_refuses_non_finite_numbers_and_names_them(tmp_path, bad):
    target = tmp_path / "metrics.json"
    with pytest.raises(DataError, match=r"value at \$\.runs\[1\]\.fid is not a finite number"):
        write_json(target, {"runs": [{"fid": 1.0}, {"fid": bad}]})
    assert not target.exists() and not list(tmp_path.iterdir())


def test_write_json_writes_finite_values_and_null(tmp_path):
    write_json(tmp_path / "a.json", {"x": 1.5, "y": None, "z": np.float64(2.0)})
    assert _strict_json(tmp_path / "a.json") == {"x": 1.5, "y": None, "z": 2.0}


def test_check_weights_refuses_exploded_and_non_finite_weights():
    layer = torch.nn.Linear(2, 2)
    check_weights(layer, "fine")
    with torch.no_grad():
        layer.weight[0, 0] = MAX_ABS_WEIGHT * 10
    with pytest.raises(TrainingDivergedError, match="exploded: a weight became 1e\\+05"):
        check_weights(layer, "exploded")
    with torch.no_grad():
        layer.bias[1] = float("nan")
    with pytest.raises(TrainingDivergedError, match="nan"):
        check_weights(layer, "nan")


def test_check_finite_samples():
    rng = np.random.default_rng(0)
    check_finite_samples(rng.integers(0, 256, (4, 8, 8, 1), dtype=np.uint8))
    check_finite_samples(torch.randn(4, 1, 8, 8) * 1e6)  # finite, whatever the range
    saturated = rng.choice(np.array([0, 255], dtype=np.uint8), (4, 8, 8, 1))
    with pytest.raises(TrainingDivergedError, match="every pixel of all 4 images is 0 or 255"):
        check_finite_samples(saturated)
    floats = torch.zeros(4, 1, 8, 8)
    floats[1, 0, 2, 3] = float("nan")
    with pytest.raises(TrainingDivergedError, match="ddim10: 1 of 256 values are NaN"):
        check_finite_samples(floats, "ddim10")

