"""scripts/publish_reference.py: which files it publishes, the placeholders, the atomic swap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

SCRIPT = Path(__file__).parents[1] / "scripts" / "publish_reference.py"


def publish(root: Path, *args, home: Path):
    env = {**os.environ, "HOME": str(home)}
    env.pop("DDPM_MIRROR", None)
    command = [sys.executable, str(SCRIPT), "--root", str(root), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def write(path: Path, content: str | bytes = "x") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


def finished_run(root: Path, mirror: Path, home: Path) -> None:
    results = root / "results"
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256))
    for name in ("experiments.csv", "experiments.md", "experiments.tex"):
        write(results / "tables" / name, "table")
    write(results / "figures" / "schedules.png", png)
    write(results / "figures" / "e" / "steps.pdf", b"%PDF-1.4 \xff")
    exp = results / "experiments" / "e"
    write(exp / "provenance.json", json.dumps({"checkout": str(root.resolve()), "data": f"{root.resolve()}/results/data/d"}))
    write(exp / "train_log.csv", "step,loss\n0,1.0\n")
    write(exp / "test_loss.json", "{}")
    write(exp / "trajectory.gif", b"GIF89a\xff")
    write(exp / "trajectory.npz", b"arrays")
    write(exp / "model.pt", b"weights")
    write(exp / "state.pt", b"weights")
    write(exp / "metrics" / "ddim5.json", "{}")
    write(exp / "samples" / "ddim5.json", "{}")
    write(exp / "samples" / "ddim5.png", png)
    write(exp / "samples" / "ddim5.npz", b"arrays")
    write(results / "classifiers" / "d" / "metrics.json", "{}")
    write(results / "classifiers" / "d" / "classifier.pt", b"weights")
    write(results / "fid_refs" / "d" / "classifier.npz", b"arrays")
    for split in ("train", "val", "test"):
        write(results / "data" / "d" / f"{split}.json", "{}")
        write(results / "data" / "d" / f"{split}.npz", b"arrays")
    manifest = {"files": {"a.gz": {"location": f"{mirror}/d/a.gz"}, "b.gz": {"location": "results/raw/d/b.gz"}}}
    write(results / "raw" / "d" / "MANIFEST.json", json.dumps(manifest))
    write(results / "raw" / "d" / "a.gz", b"raw data")
    site_packages, stdlib = sysconfig.get_path("purelib"), sysconfig.get_path("stdlib")
    write(root / "logs" / "train" / "e.log", f"reading {mirror}/d/a.gz\ncache in {home}/.cache\nmetadata stays\n"
          f"{site_packages}/torch/graph.py:869: UserWarning\n{stdlib}/warnings.py:1: UserWarning\n")
    write(root / "benchmarks" / "train" / "e.tsv", "s\th:m:s\n1.0\t0:00:01\n")
    write(root / ".snakemake" / "log" / "2026-12-01T090000.000001.snakemake.log", "an earlier run")
    write(root / ".snakemake" / "log" / "2026-12-02T090000.000001.snakemake.log", f"  Command: {home}/sm/snakemake/__main__.py --cores all\nWorking directory: {root.resolve()}\n")


def test_publishes_the_small_outputs_with_placeholders(tmp_path):
    root, home = tmp_path / "checkout", tmp_path / "home"
    mirror = home / "mirror"
    finished_run(root, mirror, home)
    out = root / "results" / "reference"
    write(out / "README.md", "hand-written")
    write(out / "anchor" / "anchor.json", "{}")
    write(out / "probes" / "p" / "ddim5.json", "{}")
    write(out / "speed" / "unet.json", "{}")
    write(out / "run1" / "tables" / "main.csv", "an earlier run")
    write(out / "stale.json", "{}")
    write(out / "runs.json", "{}")

    result = publish(root, "--mirror", mirror, home=home)
    assert result.returncode == 0, result.stderr

    published = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert published == sorted([
        "README.md", "anchor/anchor.json", "probes/p/ddim5.json", "speed/unet.json", "run1/tables/main.csv",
        "tables/experiments.csv", "tables/experiments.md", "tables/experiments.tex",
        "figures/schedules.png", "figures/e/steps.pdf",
        "experiments/e/provenance.json", "experiments/e/train_log.csv", "experiments/e/test_loss.json",
        "experiments/e/trajectory.gif", "experiments/e/metrics/ddim5.json", "experiments/e/samples/ddim5.json",
        "experiments/e/samples/ddim5.png",
        "classifiers/d/metrics.json",
        "data/d/train.json", "data/d/val.json", "data/d/test.json", "raw/d/MANIFEST.json",
        "logs/train/e.log", "benchmarks/train/e.tsv", "run/snakemake.log",
    ])
    assert (out / "run/snakemake.log").read_text() == "  Command: snakemake --cores all\nWorking directory: .\n"
    assert (out / "README.md").read_text() == "hand-written"
    assert json.loads((out / "experiments/e/provenance.json").read_text()) == {"checkout": ".", "data": "results/data/d"}
    assert json.loads((out / "raw/d/MANIFEST.json").read_text())["files"] == {
        "a.gz": {"location": "<mirror>/d/a.gz"}, "b.gz": {"location": "results/raw/d/b.gz"},
    }
    assert (out / "logs/train/e.log").read_text() == (
        "reading <mirror>/d/a.gz\ncache in ~/.cache\nmetadata stays\n"
        "<site-packages>/torch/graph.py:869: UserWarning\n<stdlib>/warnings.py:1: UserWarning\n"
    )
    assert (out / "figures/schedules.png").read_bytes() == (root / "results/figures/schedules.png").read_bytes()
    assert not list(out.parent.glob(".reference.*")), "the staging folders are removed"


def test_no_run_is_an_error_and_leaves_the_old_folder(tmp_path):
    root, out = tmp_path / "checkout", tmp_path / "published"
    write(out / "README.md", "old")
    write(root / "logs" / "x.log", "log")
    result = publish(root, "--out", out, home=tmp_path)
    assert result.returncode == 2
    assert "run the workflow first" in result.stderr
    assert [p.name for p in out.iterdir()] == ["README.md"]
    assert not list(tmp_path.glob(".published.*"))
