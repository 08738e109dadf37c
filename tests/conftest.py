"""Test-wide settings and fixtures."""

import os
import socket

import pytest
import torch

# Without a GPU, Triton's kernels (ddpm.models.fused_group_norm) run in its CPU interpreter; set
# before ddpm imports them, since Triton decides when a kernel is defined.
if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

from ddpm.evaluation.features import INCEPTION_WEIGHTS_ENV
from slurm_runs import slurm_env, slurm_run  # noqa: F401 (session fixtures, shared with test_slurm.py)
from workflow_runs import copy_repo, snakemake

# One intra-op thread: the tensors in these tests are tiny, and on a machine whose cores are busy
# OpenMP's spinning threads make small convolutions orders of magnitude slower.
torch.set_num_threads(1)


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """The smoke workflow run once per session in a copy of the repository; returns its folder."""
    return _run_smoke(tmp_path_factory.mktemp("smoke"))


def _run_smoke(folder):
    root = copy_repo(folder)
    result = snakemake(root, "--cores", "2", "--configfile", "config/smoke.yaml")
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-5000:]
    return root


@pytest.fixture(scope="session")
def second_smoke_run(request, tmp_path_factory):
    """The smoke workflow run a second time from empty results/, for the tests that compare two runs.

    Where the one-node SLURM test cluster runs, the session's SLURM run (tests/slurm_runs.py: the
    smoke config on the CPU, through the SLURM profile, one training requeued midway) is that second
    run, as it is made anyway; elsewhere a second local run.
    """
    try:
        return request.getfixturevalue("slurm_run")["root"]
    except pytest.skip.Exception:  # no SLURM here: the comparison still needs a second run
        return _run_smoke(tmp_path_factory.mktemp("smoke_again"))


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """A fresh offline machine: no network, an empty torch hub cache, no Inception weights variable.

    Returns the temporary folder that holds the hub cache (``<tmp_path>/hub``).
    """

    def refuse(*args, **kwargs):
        raise AssertionError("a network connection was attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    monkeypatch.delenv(INCEPTION_WEIGHTS_ENV, raising=False)
    return tmp_path
