"""The jobs that only fetch, prepare, plot or tabulate start without importing torch.

Most of a workflow's jobs are of these kinds, and importing torch is most of a small job's time
(about 2-3 s a job on a CPU machine, against well under a second for the rest): keeping it out
is what keeps the smoke run short.
"""

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
LIGHT = (
    "fetch_raw.py",
    "prepare_dataset.py",
    "plot_dataset_grid.py",
    "plot_schedules.py",
    "plot_loss_curves.py",
    "plot_fid_vs_steps.py",
    "make_tables.py",
)


@pytest.mark.parametrize("script", LIGHT)
def test_script_imports_no_torch(script):
    probe = (
        "import runpy, sys; runpy.run_path(sys.argv[1], run_name='probe'); "
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))[:3])"
    )
    result = subprocess.run([sys.executable, "-c", probe, str(SCRIPTS / script)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]", f"{script} imports torch: {result.stdout.strip()}"
