"""Test-wide settings."""

import pytest
import torch

from workflow_runs import copy_repo, snakemake

# One intra-op thread: the tensors in these tests are tiny, and with two threads on a busy
# 2-core machine OpenMP's spinning made small convolutions 100x slower (24 ms instead of 0.06 ms).
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke workflow run once per session in a copy of the repository; returns its folder."""
    root = copy_repo(tmp_path_factory.mktemp("smoke"))
    result = snakemake(root, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return root
