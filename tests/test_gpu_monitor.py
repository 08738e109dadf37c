"""The GPU monitor records only the run's GPUs (CUDA_VISIBLE_DEVICES), through NVML or nvidia-smi."""

import csv
import os
import runpy
import subprocess
import sys
import types
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_monitor.py"
monitor = runpy.run_path(str(SCRIPT), run_name="gpu_monitor")


@pytest.mark.parametrize(
    "value, expected",
    [
        (None, None),
        ("1", ["1"]),
        ("2, 0", ["2", "0"]),
        ("GPU-8f0e7a1c-0000-1111-2222-333344445555,1", ["GPU-8f0e7a1c-0000-1111-2222-333344445555", "1"]),
        ("", []),
        ("-1", []),
        ("0,-1,1", ["0"]),  # CUDA stops at the first entry that names no device
    ],
)
def test_visible_gpus_reads_cuda_visible_devices(value, expected):
    environ = {} if value is None else {"CUDA_VISIBLE_DEVICES": value}
    assert monitor["visible_gpus"](environ) == expected


def fake_pynvml(utilisation_by_index: dict[int, int], uuids: dict[str, int]) -> types.ModuleType:
    nvml = types.ModuleType("pynvml")
    nvml.nvmlInit = lambda: None
    nvml.nvmlDeviceGetCount = lambda: len(utilisation_by_index)

    def by_index(i):
        if i not in utilisation_by_index:
            raise RuntimeError(f"no GPU {i}")
        return i

    nvml.nvmlDeviceGetHandleByIndex = by_index
    nvml.nvmlDeviceGetHandleByUUID = lambda uuid: uuids[uuid]
    nvml.nvmlDeviceGetUtilizationRates = lambda h: types.SimpleNamespace(gpu=utilisation_by_index[h])
    nvml.nvmlDeviceGetMemoryInfo = lambda h: types.SimpleNamespace(used=(h + 1) * 2**20)
    return nvml


def test_nvml_reader_reads_the_named_gpus_only(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", fake_pynvml({0: 10, 1: 20, 2: 30}, {"GPU-b": 1}))
    assert monitor["nvml_reader"](None)() == [(10, 1), (20, 2), (30, 3)]
    assert monitor["nvml_reader"](["2", "GPU-b"])() == [(30, 3), (20, 2)]
    assert monitor["nvml_reader"](["7"]) is None  # a GPU NVML does not know: try nvidia-smi


def test_monitor_writes_the_visible_gpus_rows_through_nvidia_smi(tmp_path):
    # A stand-in nvidia-smi that answers for the GPUs given with --id (all three without it).
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text(
        "#!/bin/sh\n"
        'ids=""; for a in "$@"; do case "$a" in --id=*) ids="${a#--id=}";; esac; done\n'
        'if [ -z "$ids" ]; then ids="0,1,2"; fi\n'
        'echo "$ids" | tr "," "\\n" | while read i; do echo "$((i * 10 + 5)), $((i * 100))"; done\n'
    )
    fake.chmod(0o755)
    parent = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(1.5)"])
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "CUDA_VISIBLE_DEVICES": "2,0", "PYTHONPATH": str(SCRIPT.parents[1])}
    out = tmp_path / "gpu.csv"
    # -S: no site packages, so no pynvml even where it is installed: the nvidia-smi path (the
    # package comes from the checkout).
    watcher = subprocess.Popen([sys.executable, "-S", str(SCRIPT), "--out", str(out), "--parent", str(parent.pid), "--interval", "0.2"], env=env)
    parent.wait()  # reaped, so the monitor sees it gone
    assert watcher.wait(timeout=30) == 0
    rows = list(csv.DictReader(out.open()))
    assert rows and {r["gpu"] for r in rows} == {"2", "0"}
    assert {(r["gpu"], r["utilization_percent"], r["memory_used_mib"]) for r in rows} == {("2", "25", "200"), ("0", "5", "0")}


def test_monitor_writes_nothing_when_no_gpu_is_visible(tmp_path):
    out = tmp_path / "gpu.csv"
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--parent", str(os.getpid())], env=env, check=True, timeout=30)
    assert not out.exists()
