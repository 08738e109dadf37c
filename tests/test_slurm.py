"""The smoke workflow on a real (one-node) SLURM cluster, through the SLURM profile.

tests/slurm/start_cluster.sh starts slurmctld, slurmd and munged from Debian's packages on
127.0.0.1 (or reuses the cluster it started before; `.ci/run` installs the packages and starts it).
The smoke workflow then runs once in a copy of the repository through the SLURM profile, and
while it runs, one training job is requeued the way SLURM requeues a preempted job (the
``slurm_run`` fixture, tests/slurm_runs.py). The tests check that every job but the downloads ran as a SLURM job, with
the profile's requests, and that the outputs equal those of a local run.

Which outputs are compared: two local smoke runs on the CPU give byte-identical prepared datasets,
sample arrays and test losses, and model and classifier checkpoints whose tensors are identical
(their files differ only in the recorded training time). Those are compared with the session's
local smoke run (the ``smoke_run`` fixture). (CPU results depend on the number of threads, in the last bits; the
SLURM profile keeps the rules' one thread, like a local run, so they must be equal.)
"""

import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from slurm_runs import PREEMPTED_EXPERIMENT, REPO, SMOKE_CONFIG

pytestmark = [pytest.mark.slurm, pytest.mark.slow]


def _reference_targets():
    for name in SMOKE_CONFIG["datasets"]:
        yield from (f"results/data/{name}/{split}.npz" for split in ("train", "val", "test"))
        yield f"results/classifiers/{name}/classifier.pt"
    for exp in SMOKE_CONFIG["run"]:
        d = f"results/experiments/{exp}"
        yield from (f"{d}/model.pt", f"{d}/test_loss.json")
        for run in SMOKE_CONFIG["experiments"][exp]["sampling"]["runs"]:
            yield f"{d}/samples/{run.get('name') or run['sampler'] + str(run['steps'])}.npz"


@pytest.fixture(scope="module")
def local_run(smoke_run):
    """The same workflow run locally: the session's smoke run (conftest.py), whose outputs include
    every compared one."""
    assert all((smoke_run / target).exists() for target in _reference_targets())
    return smoke_run


def _job_stats(log: str) -> Counter:
    table = log[log.index("Job stats:"):].split("\n\n", 1)[0]
    return Counter({m[1]: int(m[2]) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m[1] != "total"})


def _submissions(log: str) -> list[tuple[str, str, Path]]:
    """(rule, SLURM job id, SLURM log) of every job the plugin submitted."""
    found = re.findall(r"Job \d+ has been submitted with SLURM jobid (\d+) \(log: (\S+?)\)\.?$", log, re.M)
    return [(re.search(r"/rule_(\w+)/", path)[1], job_id, Path(path)) for job_id, path in found]


def test_every_job_but_the_downloads_ran_as_a_slurm_job(slurm_run):
    log, root = slurm_run["log"], slurm_run["root"]
    stats = _job_stats(log)
    expected = Counter({rule: n for rule, n in stats.items() if rule not in ("fetch_raw", "all")})
    submitted = _submissions(log)
    # Each job once: none failed, none was submitted again (the requeued one kept its id).
    assert Counter(rule for rule, _, _ in submitted) == expected
    assert len({job_id for _, job_id, _ in submitted}) == len(submitted)
    # The downloads stayed on the submitting machine (a local rule) and still did their work.
    assert stats["fetch_raw"] == len(SMOKE_CONFIG["datasets"]) and "localrule fetch_raw:" in log
    assert not (root / ".snakemake/slurm_logs/rule_fetch_raw").exists()
    assert (root / "results/raw/digits/MANIFEST.json").exists()
    for rule, job_id, slurm_log in submitted:
        # SLURM named the log after the job id; in it, the job step ran the rule and finished.
        assert slurm_log.name == f"{job_id}.log" and slurm_log.exists(), slurm_log
        text = slurm_log.read_text()
        assert "--executor slurm-jobstep" in text and f"(Rule: {rule})" in text, slurm_log
        assert "1 of 1 steps (100%) done" in text, slurm_log
        # ...and SLURM itself knows the job, under the run's name, as completed.
        job = slurm_run["jobs"].get(job_id)
        assert job is not None, f"SLURM does not know job {job_id} ({rule})"
        assert job["JobState"] == "COMPLETED" and job["ExitCode"] == "0:0", job
        assert job["Comment"].startswith(f"rule_{rule}"), job


def test_slurm_got_the_profile_requests(slurm_run):
    profile = yaml.safe_load((REPO / "workflow/profiles/slurm/config.yaml").read_text())
    defaults, per_rule = profile["default-resources"], profile["set-resources"]
    gpu_rules = {"train", "train_classifier", "sample", "fid_reference", "evaluate_samples", "test_loss", "plot_denoiser", "plot_steps"}
    by_rule = {}
    for rule, job_id, _ in _submissions(slurm_run["log"]):
        # Rules made per experiment take the settings of their family (sample_<exp> -> sample).
        family = next((f for f in ("evaluate_samples", "sample") if rule.startswith(f + "_")), rule)
        by_rule.setdefault(family, slurm_run["jobs"][job_id])
    assert gpu_rules <= set(by_rule)
    for rule, job in by_rule.items():
        wanted = {**defaults, **per_rule.get(rule, {})}
        assert job["MinMemoryNode"] == f"{wanted['mem_mb']}M", (rule, job)
        hours, minutes = divmod(wanted["runtime"], 60)
        days, hours = divmod(hours, 24)
        assert job["TimeLimit"] == (f"{days}-" if days else "") + f"{hours:02d}:{minutes:02d}:00", (rule, job)
        assert job["CPUs/Task"] == str(wanted.get("cpus_per_task", 1)), (rule, job)
        assert job["Requeue"] == "1", (rule, job)  # slurm-requeue: preempted jobs go back to the queue
        if rule in gpu_rules:
            assert job.get("TresPerJob") == "gres:gpu:1", (rule, job)
        else:
            assert "gpu" not in job.get("TresPerJob", ""), (rule, job)


def test_a_requeued_training_job_ran_again_under_its_id(slurm_run):
    job_id = slurm_run["preempted"].get("job_id")
    assert job_id, "the training job was never seen running, so it could not be requeued"
    job = slurm_run["jobs"][job_id]
    assert job["Comment"] == f"rule_train_wildcards_{PREEMPTED_EXPERIMENT}"
    assert int(job["Restarts"]) >= 1 and job["JobState"] == "COMPLETED", job


def _tensors(obj, prefix=""):
    """Every tensor in a checkpoint, by its path (other values are metadata such as timings)."""
    if torch.is_tensor(obj):
        yield prefix, obj
    elif isinstance(obj, dict):
        for key, value in obj.items():
            yield from _tensors(value, f"{prefix}/{key}")
    elif isinstance(obj, (list, tuple)):
        for i, value in enumerate(obj):
            yield from _tensors(value, f"{prefix}[{i}]")


def test_the_outputs_equal_a_local_run(slurm_run, local_run):
    compared = []
    for target in _reference_targets():
        ours, theirs = slurm_run["root"] / target, local_run / target
        if target.endswith(".pt"):
            a = dict(_tensors(torch.load(ours, map_location="cpu", weights_only=False)))
            b = dict(_tensors(torch.load(theirs, map_location="cpu", weights_only=False)))
            assert a.keys() == b.keys() and a, target
            different = [k for k in a if not torch.equal(a[k], b[k])]
            assert not different, f"{target}: tensors {different[:5]} differ"
        elif target.endswith(".npz"):
            with np.load(ours) as a, np.load(theirs) as b:
                assert sorted(a.files) == sorted(b.files), target
                for key in a.files:
                    assert np.array_equal(a[key], b[key]), f"{target}: {key} differs"
        else:
            assert json.loads(ours.read_text()) == json.loads(theirs.read_text()), target
        compared.append(target)
    datasets, experiments = len(SMOKE_CONFIG["datasets"]), SMOKE_CONFIG["run"]
    runs = sum(len(SMOKE_CONFIG["experiments"][exp]["sampling"]["runs"]) for exp in experiments)
    assert len(compared) == datasets * (3 + 1) + 2 * len(experiments) + runs
