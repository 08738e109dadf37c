"""The data scripts end to end: exit status, error line, outputs (and none after an error)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PIL import Image

SCRIPTS = Path(__file__).parents[1] / "scripts"


def script(name, *args, env=None):
    command = [sys.executable, str(SCRIPTS / name), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, env=env)


def test_fetch_prepare_and_grid(tmp_path):
    entry = json.dumps({"source": "synthetic_text", "count": 40})
    manifest = tmp_path / "raw" / "MANIFEST.json"
    raw_dir, out_dir = tmp_path / "raw", tmp_path / "data"
    fetched = script(
        "fetch_raw.py", "--source", "synthetic_text", "--raw-dir", raw_dir, "--manifest", manifest, "--options", entry
    )
    assert fetched.returncode == 0, fetched.stderr
    prepared = script(
        "prepare_dataset.py", "--name", "text", "--manifest", manifest, "--options", entry, "--out-dir", out_dir
    )
    assert prepared.returncode == 0, prepared.stderr
    figures = tmp_path / "figures"
    drawn = script(
        "plot_dataset_grid.py", "--split", out_dir / "train.npz", "--out", figures / "train.png",
        "--split", out_dir / "test.npz", "--out", figures / "test.png",
    )
    assert drawn.returncode == 0, drawn.stderr
    assert sorted(p.name for p in out_dir.iterdir()) == ["test.json", "test.npz", "train.json", "train.npz", "val.json", "val.npz"]
    assert sorted(p.name for p in figures.iterdir()) == ["test.pdf", "test.png", "train.pdf", "train.png"]
    Image.open(figures / "train.png").verify()
    assert (figures / "train.png").read_bytes() != (figures / "test.png").read_bytes()
    unpaired = script("plot_dataset_grid.py", "--split", out_dir / "train.npz", "--split", out_dir / "test.npz", "--out", figures / "x.png")
    assert unpaired.returncode == 2 and "one --out per --split" in unpaired.stderr


def test_offline_fetch_fails_cleanly(tmp_path):
    manifest = tmp_path / "raw" / "MANIFEST.json"
    env = {"PATH": "/usr/bin:/bin", "DDPM_MIRROR": str(tmp_path / "empty-mirror")}
    result = script(
        "fetch_raw.py", "--source", "mnist", "--raw-dir", tmp_path / "raw", "--manifest", manifest,
        "--options", '{"source": "mnist"}', "--no-download", env=env,
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: dataset source 'mnist': 4 raw file(s) missing")
    assert "the mirror " + str(tmp_path / "empty-mirror") in result.stderr
    assert not manifest.exists()


def test_bad_options_json(tmp_path):
    result = script(
        "prepare_dataset.py", "--name", "x", "--manifest", tmp_path / "M.json", "--options", "{source: mnist",
        "--out-dir", tmp_path / "data",
    )
    assert result.returncode == 2 and "error: dataset options are not valid JSON" in result.stderr
