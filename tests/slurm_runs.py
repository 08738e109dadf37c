"""The smoke workflow on the one-node SLURM test cluster, once per session (fixtures for conftest.py).

tests/slurm/start_cluster.sh starts slurmctld, slurmd and munged from Debian's packages on
127.0.0.1 (or reuses the cluster it started before; `.ci/run` installs the packages and starts it).
``slurm_run`` runs the smoke workflow in a copy of the repository with

    snakemake --profile workflow/profiles/slurm --profile workflow/profiles/slurm-test

(the second profile only switches the job status queries to squeue, as this cluster has no
slurmdbd, and keeps the SLURM logs), and while it runs, requeues one training job the way SLURM
requeues a preempted job. tests/test_slurm.py checks that run; it is also the session's second
smoke run from empty results (``second_smoke_run`` in conftest.py).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from workflow_runs import REPO, copy_repo

CLUSTER_SCRIPT = REPO / "tests/slurm/start_cluster.sh"
PROFILES = ("--profile", "workflow/profiles/slurm", "--profile", "workflow/profiles/slurm-test")
# CPU for both runs: on a machine with GPUs SLURM would hand the GPU jobs a real GPU, and GPU
# results are not bitwise reproducible.
SMOKE = ("--configfile", "config/smoke.yaml", "--config", "device=cpu")
SMOKE_CONFIG = yaml.safe_load((REPO / "config/smoke.yaml").read_text())
PREEMPTED_EXPERIMENT = "digits_uncond"
SLURM_PROGRAMS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "srun")


def _have(program: str) -> bool:
    return shutil.which(program) is not None or Path("/usr/sbin", program).exists()


@pytest.fixture(scope="session")
def slurm_env():
    """SLURM_CONF of the one-node cluster: started here unless it is up already (then left up)."""
    missing = [p for p in SLURM_PROGRAMS if not _have(p)]
    if missing:
        pytest.skip(
            f"SLURM is not installed (no {', '.join(missing)}): apt-get install slurmctld slurmd slurm-client munge"
            " (.ci/run does)"
        )
    if os.geteuid() != 0:
        pytest.skip("the one-node SLURM cluster needs root (slurmd runs jobs as their submitter)")
    env = dict(os.environ)
    env.update(dict([subprocess.run([CLUSTER_SCRIPT, "env"], capture_output=True, text=True, check=True).stdout.strip().split("=", 1)]))
    was_up = subprocess.run([CLUSTER_SCRIPT, "status"], env=env, timeout=60).returncode == 0
    if not was_up:
        start = subprocess.run([CLUSTER_SCRIPT, "start"], env=env, capture_output=True, text=True, timeout=120)
        if start.returncode == 3:  # not startable here (see the script), not broken
            pytest.skip(start.stderr.strip())
        assert start.returncode == 0, start.stdout + start.stderr
    yield env
    if not was_up:
        subprocess.run([CLUSTER_SCRIPT, "stop"], env=env, timeout=60)


def _slurm_jobs(env, **filters) -> list[dict]:
    """`scontrol show job` as one dict per job (finished jobs are kept for MinJobAge seconds)."""
    out = subprocess.run(["scontrol", "show", "job", "-o"], env=env, capture_output=True, text=True, timeout=30).stdout
    jobs = []
    for line in out.splitlines():
        job = dict(re.findall(r"(\S+?)=(\S*)", line))
        if all(job.get(k) == v for k, v in filters.items()):
            jobs.append(job)
    return jobs


REQUEUE_RESTART_DELAY_S = 2.0


def _preempt_when_running(env, workdir: Path, comment: str, proc: subprocess.Popen, timeout: float = 600) -> dict:
    """Requeue the job with this comment once it runs, as SLURM does with a preempted job
    (PreemptMode=REQUEUE: SIGTERM, then back to the queue under the same id), and let it start again
    two seconds later (a requeued job is otherwise held for two minutes)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        running = [j for j in _slurm_jobs(env, JobState="RUNNING", WorkDir=str(workdir)) if j.get("Comment") == comment]
        if running:
            job_id = running[0]["JobId"]
            subprocess.run(["scontrol", "requeue", job_id], env=env, check=True, timeout=30)
            requeued = time.monotonic()
            while time.monotonic() < deadline and proc.poll() is None:
                state = _slurm_jobs(env, JobId=job_id)
                # slurmd refuses a credential issued in the same second as the job's revocation
                # ("Job credential revoked", the job then FAILED): restart it two seconds later.
                if state and state[0]["JobState"] == "PENDING" and time.monotonic() - requeued >= REQUEUE_RESTART_DELAY_S:
                    if subprocess.run(["scontrol", "update", f"jobid={job_id}", "starttime=now"], env=env, capture_output=True, timeout=30).returncode == 0:
                        return {"job_id": job_id}
                time.sleep(0.2)
            break
        time.sleep(0.2)
    return {}


@pytest.fixture(scope="session")
def slurm_run(slurm_env, tmp_path_factory):
    root = copy_repo(tmp_path_factory.mktemp("slurm"))
    out, err = root / "snakemake.out", root / "snakemake.err"
    started = time.monotonic()
    with open(out, "w") as stdout, open(err, "w") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "snakemake", *PROFILES, *SMOKE], cwd=root, env=slurm_env, stdout=stdout, stderr=stderr)
        try:
            preempted = _preempt_when_running(slurm_env, root, f"rule_train_wildcards_{PREEMPTED_EXPERIMENT}", proc)
            proc.wait(timeout=900)
        finally:
            if proc.poll() is None:  # Snakemake cancels its SLURM jobs on SIGINT
                proc.send_signal(2)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
    log = out.read_text() + err.read_text()
    assert proc.returncode == 0, log[-6000:]
    run_id = re.search(r"SLURM run ID: (\S+)", log).group(1)
    return {
        "root": root,
        "log": log,
        "seconds": time.monotonic() - started,
        "jobs": {j["JobId"]: j for j in _slurm_jobs(slurm_env, JobName=run_id)},
        "preempted": preempted,
    }
