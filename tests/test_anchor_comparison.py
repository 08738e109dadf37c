"""bench/anchor_comparison.py stops before training anything when a peer it is asked for is not installed."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_a_missing_peer_is_named_with_its_install_command_before_ours_trains(tmp_path):
    # The module set to None in sys.modules: it cannot be imported, as where it is not installed.
    code = (
        "import runpy, sys; sys.modules['denoising_diffusion_pytorch'] = None; sys.path.insert(0, 'bench'); "
        "sys.argv = ['anchor_comparison.py', '--only', 'ours,ddpm_pytorch', '--device', 'cpu', "
        f"'--data', {str(tmp_path / 'no-data')!r}, '--classifier', 'c.pt', '--reference', 'r.npz']; "
        "runpy.run_path('bench/anchor_comparison.py', run_name='__main__')"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1, result.stderr
    assert "not installed: denoising-diffusion-pytorch" in result.stderr
    assert "pip install denoising-diffusion-pytorch" in result.stderr
    assert "Traceback" not in result.stderr  # stopped before it looked for the (missing) data
    assert result.stdout == ""
