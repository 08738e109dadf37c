"""Where a result came from: code version, packages, hardware."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

import torch

import ddpm

PACKAGES = ("torch", "torchvision", "torchmetrics", "numpy", "snakemake")


def git_commit(cwd: str | Path = ".") -> str:
    """The checked-out commit (with '-dirty' for uncommitted changes), or 'unknown' outside git."""
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit.stdout.strip() + ("-dirty" if git_changes(cwd) else "")


def git_changes(cwd: str | Path = ".") -> list[str]:
    """Tracked files that differ from the commit (``git status --porcelain`` lines): what '-dirty' means."""
    try:
        status = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=cwd, capture_output=True, text=True, timeout=10
        )
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in status.stdout.splitlines() if line.strip()]


def package_versions() -> dict[str, str]:
    versions = {"ddpm": ddpm.__version__, "python": platform.python_version()}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def device_description(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def provenance(device: torch.device) -> dict:
    return {
        "git_commit": git_commit(Path(ddpm.__file__).resolve().parent),
        # Run from a clean commit for results you publish; otherwise this names what differed.
        "git_changes": git_changes(Path(ddpm.__file__).resolve().parent),
        "packages": package_versions(),
        "device": device_description(device),
        "host": platform.node(),
    }
