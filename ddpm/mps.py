"""NVIDIA's Multi-Process Service (MPS) for the network jobs of one run.

Without it, processes that share a GPU take turns: the GPU runs one process's kernels at a time.
Under an MPS server their kernels run at once, which helps networks too small to fill the GPU
alone (three MNIST U-Net trainings at once on one H100: 9,774 images/s together time-sliced,
11,842 under MPS, with the same weights bit for bit; ``docs/benchmarks.md``). The numbers a job
computes do not change: each kernel is the same, only when it runs.

A run starts a private control daemon (its own pipe folder, so it neither uses nor disturbs
another daemon on the machine), checks that a client can open a context through it, hands its
folders to the jobs through the environment (``CUDA_MPS_PIPE_DIRECTORY``) and quits it at the end.

    python -m ddpm.mps check                           # exit status 0: a CUDA context opens here
    python -m ddpm.mps stop-after PID CONTROL FOLDER   # quit the daemon once process PID has ended
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ddpm.processes import alive, env_with_package

CONTROL = "nvidia-cuda-mps-control"
SHARINGS = ("auto", "mps", "time_slicing")  # config `gpu_sharing`
PIPE_VARIABLE = "CUDA_MPS_PIPE_DIRECTORY"
LOG_VARIABLE = "CUDA_MPS_LOG_DIRECTORY"
CUDA_SUCCESS = 0


class MpsUnavailable(RuntimeError):
    """The MPS daemon could not be started or could not serve a client."""


@dataclass(frozen=True)
class MpsDaemon:
    control: str  # the control program
    folder: Path  # holds pipe/ and log/; removed when the daemon stops

    @property
    def env(self) -> dict[str, str]:
        """The variables that make a CUDA process a client of this daemon."""
        return {PIPE_VARIABLE: str(self.folder / "pipe"), LOG_VARIABLE: str(self.folder / "log")}


def start_daemon(control: str | None = None, check_command: list[str] | None = None, check_timeout_s: float = 120.0) -> MpsDaemon:
    """Start a control daemon (``control``; by default the driver's program on PATH) with folders
    of its own and check that a client gets a context (``check_command``, run as the daemon's
    client; by default ``python -m ddpm.mps check``).

    Raises :class:`MpsUnavailable` (naming the cause) and leaves nothing running when either fails.
    """
    control = control or shutil.which(CONTROL)
    if control is None:
        raise MpsUnavailable(f"{CONTROL} is not on PATH (the NVIDIA driver installs it)")
    # A short path under the temporary folder: the pipe is a Unix socket, whose path is limited
    # to about 100 characters.
    daemon = MpsDaemon(control, Path(tempfile.mkdtemp(prefix="ddpm-mps-")))
    for path in daemon.env.values():
        Path(path).mkdir()
    env = {**os.environ, **daemon.env}
    try:
        started = subprocess.run([control, "-d"], env=env, capture_output=True, text=True, timeout=30)
        failure = None if started.returncode == 0 else f"exited with {started.returncode}: {_output(started)}"
    except (OSError, subprocess.TimeoutExpired) as exc:
        failure = f"did not start: {exc}"
    if failure:
        shutil.rmtree(daemon.folder, ignore_errors=True)
        raise MpsUnavailable(f"{control} -d {failure}")
    # The daemon starts a server for the GPU when the first client connects: one must succeed.
    try:
        check = subprocess.run(
            check_command or [sys.executable, "-m", "ddpm.mps", "check"],
            env=env_with_package(env),
            capture_output=True,
            text=True,
            timeout=check_timeout_s,
        )
        problem = None if check.returncode == 0 else f"exit status {check.returncode}: {_output(check)}"
    except subprocess.TimeoutExpired:
        problem = f"no answer within {check_timeout_s:.0f} s"
    if problem:
        log = Path(daemon.env[LOG_VARIABLE]) / "control.log"
        tail = log.read_text(errors="replace").strip().splitlines()[-3:] if log.exists() else []
        stop_daemon(daemon)
        raise MpsUnavailable("a CUDA client could not open a context through the MPS daemon (" + problem + ")" + "".join(f"\n  {line}" for line in tail))
    return daemon


def stop_daemon(daemon: MpsDaemon) -> None:
    """Quit the daemon (its server ends with it) and remove its folders; quiet when it is gone."""
    try:
        subprocess.run(
            [daemon.control], input="quit\n", env={**os.environ, **daemon.env}, capture_output=True, text=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        pass
    shutil.rmtree(daemon.folder, ignore_errors=True)


def stop_after(pid: int, daemon: MpsDaemon, poll_s: float = 2.0) -> None:
    """Quit the daemon once process ``pid`` has ended: a run killed before its own end hooks
    (``kill -9``, a crash) leaves no daemon behind."""
    while alive(pid):
        time.sleep(poll_s)
    stop_daemon(daemon)


def client_can_open_context() -> bool:
    """Whether this process can open a context on its first visible CUDA device (through the
    driver, not torch: the check costs a fraction of a second)."""
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    device, context = ctypes.c_int(0), ctypes.c_void_p()
    return (
        driver.cuInit(0) == CUDA_SUCCESS
        and driver.cuDeviceGet(ctypes.byref(device), 0) == CUDA_SUCCESS
        and driver.cuDevicePrimaryCtxRetain(ctypes.byref(context), device) == CUDA_SUCCESS
        and driver.cuDevicePrimaryCtxRelease(device) == CUDA_SUCCESS
    )


def _output(result: subprocess.CompletedProcess) -> str:
    return " ".join((result.stdout + result.stderr).split()) or "no output"


def main(argv: list[str]) -> int:
    if argv == ["check"]:
        return 0 if client_can_open_context() else 1
    if len(argv) == 4 and argv[0] == "stop-after" and argv[1].isdigit():
        stop_after(int(argv[1]), MpsDaemon(argv[2], Path(argv[3])))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
