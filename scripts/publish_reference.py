#!/usr/bin/env python3
"""Publish a finished run: copy its small, shareable outputs into a folder (results/reference).

Copied from the checkout (``--root``): the tables; the figures (.png, .pdf); per experiment the
sample grids, the denoising GIF, the metrics / sample / provenance / test-loss JSON files and
train_log.csv; per dataset the grid, the split sidecars and the raw files' MANIFEST.json; each
classifier's metrics; every job's log and benchmark (logs/, benchmarks/); and Snakemake's log of
the latest run (``.snakemake/log/``) as ``run/snakemake.log``. Never the arrays or weights (.npz,
.pt), nor the raw data.

Absolute paths of the machine become placeholders in the text files: the checkout root becomes a
relative path, the mirror ``<mirror>`` and the home folder ``~``. The folder is written beside the
target and swapped in whole, so a failure leaves the previous one untouched; entries named by
``--keep`` (glob patterns; by default the hand-written README.md, anchor/, probes/ (measurements made
by hand on a run's models, each saying which), speed/ (the speed benchmarks' recorded output) and the
earlier runs kept as run1/, run2/, ...) are carried over from it.

    python scripts/publish_reference.py [--root .] [--out results/reference] [--mirror /data/mirror]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sysconfig
import tempfile
from pathlib import Path

from ddpm.cli import run
from ddpm.errors import DataError

# Relative to results/: what a run publishes.
PUBLISHED_RESULTS = (
    "tables/*",
    "figures/**/*.png",
    "figures/**/*.pdf",
    "experiments/*/provenance.json",
    "experiments/*/train_log.csv",
    "experiments/*/test_loss.json",
    "experiments/*/trajectory.gif",
    "experiments/*/metrics/*.json",
    "experiments/*/samples/*.json",
    "experiments/*/samples/*.png",
    "experiments/*/samples/*.pdf",
    "classifiers/*/metrics.json",
    "data/*/*.json",
    "raw/*/MANIFEST.json",
    "run/*",  # the run's summary (wall time, GPU-busy share, FLOPs) and its GPU monitor's samples
)
# Relative to the root: copied whole.
PUBLISHED_FOLDERS = ("logs", "benchmarks")
NEVER_PUBLISHED = {".npz", ".pt"}
BINARY_SUFFIXES = {".png", ".pdf", ".gif"}
DEFAULT_KEEP = ("README.md", "anchor", "probes", "speed", "run[0-9]*")


def published_files(root: Path, out: Path) -> list[Path]:
    """The run's published files, relative to ``root``, sorted; never anything inside ``out``."""
    found: set[Path] = set()
    results = root / "results"
    for pattern in PUBLISHED_RESULTS:
        found.update(results.glob(pattern))
    for folder in PUBLISHED_FOLDERS:
        found.update((root / folder).rglob("*"))
    snakemake_log = latest_snakemake_log(root)
    if snakemake_log is not None:
        found.add(root / snakemake_log)
    out = out.resolve()
    return sorted(
        path.relative_to(root)
        for path in found
        if path.is_file() and path.suffix not in NEVER_PUBLISHED and not path.resolve().is_relative_to(out)
    )


SNAKEMAKE_LOGS = Path(".snakemake") / "log"
PUBLISHED_SNAKEMAKE_LOG = Path("run") / "snakemake.log"


def latest_snakemake_log(root: Path) -> Path | None:
    """Snakemake's log of the latest run in ``root`` (its file names start with the start time)."""
    logs = sorted((root / SNAKEMAKE_LOGS).glob("*.snakemake.log"))
    return logs[-1].relative_to(root) if logs else None


def target_of(relative: Path) -> Path:
    """Where a published file goes inside the output folder (results/ itself is dropped)."""
    parts = relative.parts
    if parts[:2] == SNAKEMAKE_LOGS.parts:
        return PUBLISHED_SNAKEMAKE_LOG
    return Path(*parts[1:]) if parts[0] == "results" else relative


# Snakemake's log starts with the command as the interpreter ran it: the path of Snakemake's package
# on the machine that ran it becomes the command's name.
SNAKEMAKE_COMMAND = (re.compile(r"^(\s*Command: )\S*/snakemake/__main__\.py(?= |$)", re.M), r"\1snakemake")


def placeholders(root: Path, mirror: str | None) -> list[tuple[re.Pattern, str]]:
    """Substitutions for the machine's paths: Snakemake's own in its log's command line, then the
    checkout, mirror, Python's packages (warnings in the logs name their file) and home folder, the
    longest path first (a mirror inside the home folder)."""
    root_abs = str(root.resolve())
    paths = [(root_abs + os.sep, ""), (root_abs, ".")]
    paths += [(path, "<site-packages>") for path in {sysconfig.get_path(scheme) for scheme in ("purelib", "platlib")}]
    paths.append((sysconfig.get_path("stdlib"), "<stdlib>"))
    if mirror:
        paths += [(str(Path(mirror).resolve()), "<mirror>"), (mirror.rstrip("/"), "<mirror>")]
    paths.append((str(Path.home()), "~"))
    paths.sort(key=lambda pair: len(pair[0]), reverse=True)
    # A path only counts where it is not part of a longer name ("data" in "metadata", "/home/u" in "/x/home/u").
    edge = r"[\w.~-]"
    return [SNAKEMAKE_COMMAND] + [
        (re.compile(rf"(?<!{edge}|/){re.escape(path)}" + ("" if path.endswith(os.sep) else rf"(?!{edge})")), text)
        for path, text in paths
        if path not in ("", os.sep, ".")
    ]


def scrub(text: str, substitutions: list[tuple[re.Pattern, str]]) -> str:
    for pattern, replacement in substitutions:
        text = pattern.sub(replacement, text)
    return text


def copy_published(source: Path, target: Path, substitutions: list[tuple[re.Pattern, str]]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix not in BINARY_SUFFIXES:
        try:
            text = source.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            pass
        else:
            target.write_text(scrub(text, substitutions), encoding="utf-8")
            shutil.copystat(source, target)
            return
    shutil.copy2(source, target)


def publish(root: Path, out: Path, mirror: str | None, keep: tuple[str, ...]) -> list[Path]:
    """Write ``out`` from the run in ``root``; return the published files (relative to ``out``)."""
    files = published_files(root, out)
    if not any(path.parts[0] == "results" for path in files):
        raise DataError(
            f"no published results under {root / 'results'}: run the workflow first, or point --root at its checkout"
        )
    substitutions = placeholders(root, mirror)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.new."))
    try:
        for relative in files:
            copy_published(root / relative, staging / target_of(relative), substitutions)
        for pattern in keep:
            for kept in sorted(out.glob(pattern)):  # none where out does not exist yet
                if kept.is_dir():
                    shutil.copytree(kept, staging / kept.name, dirs_exist_ok=True)
                else:
                    shutil.copy2(kept, staging / kept.name)
        os.chmod(staging, 0o777 & ~_umask())
        if out.exists():
            retired = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}.old."))
            os.replace(out, retired / out.name)
            os.replace(staging, out)
            shutil.rmtree(retired)
        else:
            os.replace(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [target_of(relative) for relative in files]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=Path("."), help="the checkout the run wrote into (default: .)")
    parser.add_argument("--out", type=Path, help="the folder to (re)write (default: <root>/results/reference)")
    parser.add_argument(
        "--mirror",
        default=os.environ.get("DDPM_MIRROR"),
        help="the run's raw-file mirror, shown as <mirror> (default: $DDPM_MIRROR)",
    )
    parser.add_argument(
        "--keep",
        action="append",
        help=f"entries of the old folder to carry over, a glob pattern (repeatable; default: {', '.join(DEFAULT_KEEP)})",
    )
    args = parser.parse_args()
    out = args.out if args.out is not None else args.root / "results" / "reference"
    files = publish(args.root, out, args.mirror, tuple(args.keep) if args.keep is not None else DEFAULT_KEEP)
    print(f"published {len(files)} files to {out}")


if __name__ == "__main__":
    run(main)
