"""scripts/summarize_run.py: what a finished run reports about its time and its GPU."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def summarize(tmp_path: Path, *extra: str) -> tuple[dict, str]:
    monitor = tmp_path / "gpu.csv"
    rows = [(99.0, 100), (100.0, 100), (101.0, 50), (102.0, 0), (110.0, 100)]  # the last one after the end
    monitor.write_text("unix_time,elapsed_s,gpu,utilization_percent,memory_used_mib\n" + "".join(f"{t},{t - 99},0,{u},1\n" for t, u in rows))
    bench = tmp_path / "benchmarks" / "train"
    bench.mkdir(parents=True)
    header = "s\th:m:s\tmax_rss\n"
    (bench / "new.tsv").write_text(header + "12.5\t0:00:12\t1\n")
    (bench / "old.tsv").write_text(header + "40.0\t0:00:40\t1\n")
    os.utime(bench / "old.tsv", (50.0, 50.0))  # written before the run started: an earlier run's job
    out = tmp_path / "summary.json"
    command = [sys.executable, "scripts/summarize_run.py", "--start", "100", "--end", "103", "--monitor", str(monitor)]
    command += ["--benchmarks", str(tmp_path / "benchmarks"), "--out", str(out), *extra]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=dict(os.environ, PYTHONPATH=str(REPO)), timeout=120)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text()), result.stdout


@pytest.mark.parametrize("sharing", ["mps", None])
def test_wall_time_busy_share_job_times_and_gpu_sharing(tmp_path, sharing):
    summary, printed = summarize(tmp_path, *(["--gpu-sharing", sharing] if sharing else []))
    assert summary["wall_seconds"] == 3.0
    assert summary["gpu_monitor_samples"] == 3 and summary["gpu_busy_share"] == pytest.approx(0.5)  # 100, 50, 0
    assert summary["sum_of_rule_seconds"] == 12.5 and summary["benchmarked_jobs"] == 1
    assert summary["gpu_sharing"] == sharing
    assert summary["model_flops"] == 0 and summary["fraction_of_bf16_peak"] is None
    assert "GPU busy 50% of the wall time (3 samples)" in printed
    assert ("jobs sharing it by mps" in printed) == (sharing == "mps")
