"""ddpm.processes: the check by which the run's helpers notice that their parent has ended, and the
environment in which a child Python process imports this package."""

import os
import subprocess
import sys
from pathlib import Path

import ddpm
from ddpm.processes import alive, env_with_package


def test_this_process_is_alive_and_an_ended_and_reaped_one_is_not():
    assert alive(os.getpid())
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert not alive(ended.pid)


def test_a_child_started_elsewhere_imports_the_same_package_and_keeps_the_given_path(tmp_path):
    env = env_with_package({"PATH": os.environ["PATH"], "PYTHONPATH": "/elsewhere"})
    assert env["PYTHONPATH"].endswith(os.pathsep + "/elsewhere") and "HOME" not in env
    # -S: no site packages (where an installed copy would be found anyway), only PYTHONPATH.
    command = [sys.executable, "-S", "-c", "import ddpm.processes; print(ddpm.__file__)"]
    child = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert child.returncode == 0, child.stderr
    assert Path(child.stdout.strip()) == Path(ddpm.__file__)
