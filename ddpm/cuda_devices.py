"""How many CUDA devices torch would see, asked of the NVIDIA driver instead of torch.

The workflow's main process needs only this number, to declare GPU slots or to warn that the
network jobs would run on the CPU; importing torch for it cost seconds at every start of the
workflow. Where the answer could differ from ``torch.cuda.device_count()`` (a ROCm build of
torch, a driver older than torch's CUDA, another operating system, an unreadable torch), this
asks torch after all.
"""

from __future__ import annotations

import ast
import ctypes
import sys
from importlib.util import find_spec
from pathlib import Path

CUDA_SUCCESS = 0


def cuda_device_count() -> int:
    """The number ``torch.cuda.device_count()`` gives, usually without importing torch."""
    build = torch_build()
    if build is None or build[0] == "hip" or not sys.platform.startswith("linux"):
        return _torch_device_count()
    kind, cuda_major = build
    if kind == "cpu":
        return 0
    try:
        driver = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return 0  # no NVIDIA driver: torch's CUDA finds no device either
    count = ctypes.c_int(0)
    # cuInit fails without a usable device (or with CUDA_VISIBLE_DEVICES empty); the count
    # honours CUDA_VISIBLE_DEVICES, as torch's does.
    if driver.cuInit(0) != CUDA_SUCCESS or driver.cuDeviceGetCount(ctypes.byref(count)) != CUDA_SUCCESS:
        return 0
    version = ctypes.c_int(0)  # 1000 * major + 10 * minor
    if driver.cuDriverGetVersion(ctypes.byref(version)) != CUDA_SUCCESS or version.value // 1000 < cuda_major:
        # Torch's CUDA on an older driver works only with the forward-compatibility package.
        return _torch_device_count()
    return count.value


def torch_build() -> tuple[str, int | None] | None:
    """("cuda", major), ("hip", None) or ("cpu", None) from torch's ``version.py``, read as text
    (importing torch is what this module avoids); None where it cannot be read."""
    spec = find_spec("torch")
    locations = list(spec.submodule_search_locations or []) if spec else []
    if not locations:
        return None
    try:
        tree = ast.parse(Path(locations[0], "version.py").read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return None
    values = {}
    for node in tree.body:
        target = node.target if isinstance(node, ast.AnnAssign) else (node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and isinstance(node.value, ast.Constant):
            values[target.id] = node.value.value
    if values.get("hip"):
        return "hip", None
    cuda = values.get("cuda")
    if cuda is None:
        return ("cpu", None) if "cuda" in values else None
    try:
        return "cuda", int(str(cuda).split(".")[0])
    except ValueError:
        return None


def _torch_device_count() -> int:
    import torch

    return torch.cuda.device_count()
