"""ddpm.processes.alive: the check by which the run's helpers notice that their parent has ended."""

import os
import subprocess
import sys

from ddpm.processes import alive


def test_this_process_is_alive_and_an_ended_and_reaped_one_is_not():
    assert alive(os.getpid())
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    assert not alive(ended.pid)
