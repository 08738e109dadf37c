"""Whether a process is still running, for the helpers that outlive their parent's work (the GPU
monitor, the MPS daemon's watcher) and stop when it ends."""

from __future__ import annotations

import os


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only the check that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True
