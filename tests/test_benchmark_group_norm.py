"""bench/benchmark_group_norm.py: its harness end to end on the CPU (Triton's interpreter), and the
correctness check it runs before timing."""

import json
import subprocess
import sys

import pytest
import torch

from bench_scripts import BENCH, load_bench_script
from ddpm.models import fused_group_norm
from ddpm.processes import env_with_package

pytestmark = pytest.mark.skipif(fused_group_norm.triton is None, reason="Triton is not installed")


@pytest.mark.slow
def test_the_quick_run_checks_the_kernels_and_writes_one_row_per_shape(tmp_path):
    out = tmp_path / "gn.json"
    result = subprocess.run(
        [sys.executable, str(BENCH / "benchmark_group_norm.py"), "--quick", "--device", "cpu", "--json", str(out)],
        capture_output=True, text=True, env={**env_with_package(), "TRITON_INTERPRET": "1"}, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(out.read_text())["rows"]
    assert [row["shape"] for row in rows] == [[2, 64, 8, 8], [2, 96, 4, 4]]
    assert all({"compiled", "compiled, NHWC", "fused"} <= set(row) for row in rows)
    assert "| all shapes |" in result.stdout


def test_the_check_stops_the_run_when_the_kernels_are_off(monkeypatch):
    bench = load_bench_script("benchmark_group_norm")
    x = torch.randn(2, 64, 4, 4).contiguous(memory_format=torch.channels_last)
    weight, bias = torch.ones(64), torch.zeros(64)
    bench.check(x, weight, bias)  # the kernels as they are: no error
    correct = fused_group_norm.group_norm_act
    monkeypatch.setattr(fused_group_norm, "group_norm_act", lambda *args, **kwargs: correct(*args, **kwargs) * 1.05)
    with pytest.raises(SystemExit, match="the fused kernels' y is off by"):
        bench.check(x, weight, bias)
