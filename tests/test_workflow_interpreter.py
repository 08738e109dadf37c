"""Jobs run with the interpreter that runs Snakemake, whatever `python` is on PATH."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_job_runs_without_the_venv_on_path(tmp_path):
    for part in ("workflow", "scripts", "config", "ddpm"):
        shutil.copytree(REPO / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    # A `python` first on PATH that is not the interpreter running Snakemake (as with an
    # unactivated venv): a job that called it would fail.
    decoy = tmp_path / "bin"
    decoy.mkdir()
    (decoy / "python").write_text("#!/bin/sh\necho 'not the interpreter running Snakemake' >&2\nexit 3\n")
    (decoy / "python").chmod(0o755)
    env = {**os.environ, "PATH": f"{decoy}:/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "1", "results/figures/schedules.png", "--configfile", "config/smoke.yaml"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert (tmp_path / "results/figures/schedules.png").stat().st_size > 0
