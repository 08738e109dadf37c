"""Child processes of the run's helpers: whether one is still running (the GPU monitor and the MPS
daemon's watcher stop when their parent ends), and the environment that lets a child Python
process import this package (the helpers and checks the workflow's own process starts)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# The folder that holds the ddpm package: the checkout, or site-packages where it is installed.
PACKAGE_PARENT = str(Path(__file__).resolve().parents[1])


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only the check that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def env_with_package(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """``base`` (default: this process's environment) with this package first on PYTHONPATH, so a
    ``python script.py`` started with it imports the same ddpm as this process."""
    env = dict(os.environ if base is None else base)
    env["PYTHONPATH"] = PACKAGE_PARENT + os.pathsep + env.get("PYTHONPATH", "")
    return env
