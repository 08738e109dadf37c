"""The MPS daemon of a run (ddpm.mps), with a stand-in for nvidia-cuda-mps-control."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import pytest
import torch

from ddpm.mps import LOG_VARIABLE, PIPE_VARIABLE, MpsUnavailable, main, start_daemon, stop_after, stop_daemon
from workflow_runs import copy_repo, snakemake

# Behaves as the control program does for what the pipeline asks of it: `-d` starts a daemon
# listening in $CUDA_MPS_PIPE_DIRECTORY (here: a file named control), "quit" on stdin ends it.
FAKE_CONTROL = """#!{python}
import os, sys
pipe, log, record = os.environ["{pipe}"], os.environ["{log}"], os.environ["FAKE_MPS_RECORD"]
if sys.argv[1:] == ["-d"]:
    if os.environ.get("FAKE_MPS_FAIL"):
        sys.exit("An instance of this daemon is already running")
    open(os.path.join(pipe, "control"), "w").close()
    open(os.path.join(log, "control.log"), "w").write("server exited with status 1\\n")
    open(record, "a").write("start " + pipe + "\\n")
else:
    command = sys.stdin.read().strip()
    open(record, "a").write(command + " " + pipe + "\\n")
    if command == "quit" and os.path.exists(os.path.join(pipe, "control")):
        os.remove(os.path.join(pipe, "control"))
"""
# A client that succeeds only when it is given the daemon's pipe folder and the daemon listens there.
CLIENT = [sys.executable, "-c", f"import os, sys; sys.exit(0 if os.path.exists(os.path.join(os.environ['{PIPE_VARIABLE}'], 'control')) else 1)"]
FAILING_CLIENT = [sys.executable, "-c", "import sys; sys.exit(1)"]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def control(tmp_path, monkeypatch):
    program = tmp_path / "nvidia-cuda-mps-control"
    program.write_text(FAKE_CONTROL.format(python=sys.executable, pipe=PIPE_VARIABLE, log=LOG_VARIABLE))
    program.chmod(0o755)
    monkeypatch.setenv("FAKE_MPS_RECORD", str(tmp_path / "record.txt"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    return str(program)


def record(tmp_path: Path) -> list[str]:
    path = tmp_path / "record.txt"
    return path.read_text().splitlines() if path.exists() else []


def test_the_daemon_gets_folders_of_its_own_which_its_clients_are_given_and_stop_removes(tmp_path, control):
    daemon = start_daemon(control, check_command=CLIENT)
    pipe = daemon.folder / "pipe"
    assert daemon.folder.parent == tmp_path / "tmp" and daemon.folder.name.startswith("ddpm-mps-")
    assert daemon.env == {PIPE_VARIABLE: str(pipe), LOG_VARIABLE: str(daemon.folder / "log")}
    assert record(tmp_path) == [f"start {pipe}"] and (pipe / "control").exists()
    stop_daemon(daemon)
    assert record(tmp_path) == [f"start {pipe}", f"quit {pipe}"]
    assert not daemon.folder.exists()
    stop_daemon(daemon)  # a second stop is quiet


def test_a_daemon_that_does_not_start_is_an_error_with_its_message_and_leaves_nothing(tmp_path, control, monkeypatch):
    monkeypatch.setenv("FAKE_MPS_FAIL", "1")
    with pytest.raises(MpsUnavailable, match="exited with 1: An instance of this daemon is already running"):
        start_daemon(control, check_command=CLIENT)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_missing_control_program_is_an_error(tmp_path, control):
    with pytest.raises(MpsUnavailable, match="did not start"):
        start_daemon(str(tmp_path / "no-such-program"), check_command=CLIENT)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_no_control_program_on_path_is_an_error_naming_it(tmp_path, control, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(MpsUnavailable, match="nvidia-cuda-mps-control is not on PATH"):
        start_daemon(check_command=CLIENT)
    assert list((tmp_path / "tmp").iterdir()) == []


def test_a_client_that_cannot_connect_stops_the_daemon_and_the_error_quotes_its_log(tmp_path, control):
    with pytest.raises(MpsUnavailable, match="could not open a context") as error:
        start_daemon(control, check_command=FAILING_CLIENT)
    assert "server exited with status 1" in str(error.value)
    assert [line.split()[0] for line in record(tmp_path)] == ["start", "quit"]
    assert list((tmp_path / "tmp").iterdir()) == []


def test_stop_after_quits_the_daemon_once_the_process_has_ended(tmp_path, control):
    daemon = start_daemon(control, check_command=CLIENT)
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.5)"])
    threading.Thread(target=process.wait).start()  # reaped when it ends, as Snakemake's would be
    stop_after(process.pid, daemon, poll_s=0.05)
    assert process.poll() == 0
    assert record(tmp_path)[-1] == f"quit {daemon.folder / 'pipe'}" and not daemon.folder.exists()


def test_the_command_line(tmp_path, control, capsys):
    daemon = start_daemon(control, check_command=CLIENT)
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert main(["stop-after", str(ended.pid), control, str(daemon.folder)]) == 0
    assert not daemon.folder.exists()
    assert main(["start"]) == 2 and "stop-after PID CONTROL FOLDER" in capsys.readouterr().err


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a CUDA device")
def test_the_client_check_fails_without_a_cuda_device():
    check = subprocess.run([sys.executable, "-m", "ddpm.mps", "check"], cwd=REPO)
    assert check.returncode == 1



def _run(root: Path, *args: str) -> subprocess.CompletedProcess:
    """The smoke config's workflow in the copy ``root``, on one core."""
    return snakemake(root, "--cores", "1", "--configfile", "config/smoke.yaml", *args, timeout=300)


@pytest.mark.skipif(torch.cuda.is_available(), reason="a machine without a CUDA device")
def test_asking_for_mps_without_a_gpu_stops_the_run_before_it_writes_anything(tmp_path):
    result = _run(copy_repo(tmp_path), "--config", "gpu_sharing=mps", "--", "results/figures/schedules.png")
    assert result.returncode != 0
    assert "gpu_sharing: mps, but this run uses no GPU" in result.stderr and "gpu_sharing at auto" in result.stderr
    assert not (tmp_path / "results").exists()



def _workflow_seeing_a_gpu(tmp_path: Path, control: str) -> Path:
    """A copy of the repository whose workflow counts one GPU and whose MPS client check passes
    (the jobs still run on the CPU): the workflow's MPS wiring, with the stand-in control program."""
    copy_repo(tmp_path)
    devices = tmp_path / "ddpm" / "cuda_devices.py"
    devices.write_text(devices.read_text() + "\n\ndef cuda_device_count() -> int:\n    return 1\n")
    mps = tmp_path / "ddpm" / "mps.py"
    real = "def client_can_open_context() -> bool:\n"
    assert real in mps.read_text()
    mps.write_text(mps.read_text().replace(real, real + "    return True\n\n\ndef _replaced() -> bool:\n"))
    (tmp_path / "bin").mkdir()
    shutil.copy(control, tmp_path / "bin" / "nvidia-cuda-mps-control")
    return tmp_path


@pytest.mark.slow
@pytest.mark.parametrize("sharing", ["auto", "time_slicing"])
def test_the_workflow_starts_a_daemon_for_its_jobs_and_quits_it_at_the_end(tmp_path, control, monkeypatch, sharing):
    root = _workflow_seeing_a_gpu(tmp_path / "repo", control)
    monkeypatch.setenv("PATH", f"{root / 'bin'}:{os.environ['PATH']}")
    monkeypatch.delenv(PIPE_VARIABLE, raising=False)
    result = _run(root, "--config", f"gpu_sharing={sharing}", "--", "results/figures/schedules.png")
    assert result.returncode == 0, result.stderr[-3000:]
    summary = json.loads((root / "results" / "run" / "summary.json").read_text())
    if sharing == "time_slicing":
        assert summary["gpu_sharing"] == "time_slicing" and record(tmp_path) == []
        return
    assert summary["gpu_sharing"] == "mps" and "GPU sharing: MPS, a daemon for this run" in result.stderr
    started, quit_ = record(tmp_path)[:2]
    pipe = started.removeprefix("start ")
    assert quit_ == f"quit {pipe}" and not Path(pipe).parent.exists()  # quit at the end, folders removed
