"""bench/check_determinism.py: runs of one mode agree when their weights' digests do."""

import subprocess
import sys
from pathlib import Path

import pytest

from bench_scripts import load_bench_script

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "bench" / "check_determinism.py"


@pytest.fixture(scope="module")
def check():
    return load_bench_script("check_determinism")


def result(mode, sha256):
    return {"mode": mode, "images_per_s": 1.0, "final_loss": 0.5, "sha256": sha256}


def test_runs_of_a_mode_agree_only_when_their_digests_do(check):
    lines = check.agreement(
        [result("deterministic", "aa"), result("nondeterministic", "bb"), result("deterministic", "aa"), result("nondeterministic", "cc")]
    )
    assert lines == ["deterministic: 2 runs, the same weights bit for bit", "nondeterministic: 2 runs, 2 different weights"]
    assert check.agreement([result("deterministic", "aa")]) == []  # one run proves nothing


def test_the_digest_covers_every_tensor_in_order(check):
    import hashlib

    import torch

    def digest(obj):
        d = hashlib.sha256()
        check.tensor_digest(obj, d)
        return d.hexdigest()

    state = {"model": {"w": torch.ones(2), "b": torch.zeros(())}, "step": 3, "opt": [torch.arange(3.0)]}
    changed = {"model": {"w": torch.tensor([1.0, 1.0 + 2**-20]), "b": torch.zeros(())}, "step": 3, "opt": [torch.arange(3.0)]}
    assert digest(state) == digest({k: state[k] for k in reversed(list(state))})
    assert digest(state) != digest(changed)


@pytest.mark.slow
def test_two_trainings_on_the_cpu_write_the_same_weights():
    """The text-conditional network (the widest code path: tokens, text encoder, cross-attention)."""
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--steps", "2", "--modes", "deterministic", "deterministic",
         "--conditioning", "text", "--strict"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "deterministic: 2 runs, the same weights bit for bit" in out
