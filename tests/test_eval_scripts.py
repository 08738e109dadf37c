"""The three evaluation scripts end to end on tiny prepared datasets and sample files in tmp_path."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ddpm.evaluation.fid import load_reference

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"


# Every test here runs as on a fresh offline machine (the offline fixture of conftest.py).
pytestmark = pytest.mark.usefixtures("offline")


def run_script(monkeypatch, name: str, *args: object) -> None:
    monkeypatch.setattr(sys, "argv", [name, *map(str, args)])
    runpy.run_path(str(SCRIPTS / name), run_name="__main__")


def write_split(folder: Path, split: str, images: np.ndarray, labels: np.ndarray, **meta: object) -> Path:
    """A prepared split as docs/contracts.md describes it: ``<split>.npz`` and its ``<split>.json``."""
    folder.mkdir(parents=True, exist_ok=True)
    np.savez(folder / f"{split}.npz", images=images, labels=labels)
    sidecar = {
        "dataset": "synthetic", "source": "test", "split": split, "count": len(images),
        "image_shape": list(images.shape[1:]), "num_classes": 0, "class_names": [], "class_counts": {},
        "alphabet": None, "text_length": None, "pixel_mean": [0.2], "pixel_std": [0.3], "sources": {},
        "preprocessing": {}, **meta,
    }
    (folder / f"{split}.json").write_text(json.dumps(sidecar))
    return folder / f"{split}.npz"


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 40, (n, 12, 12, 1)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[[np.s_[2:5, 2:10], np.s_[7:10, 2:10], np.s_[2:10, 5:8]][label]] = 255
    return images, labels.astype(np.int64)


def strings(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    texts = np.array(["".join(rng.choice(list("ab"), 2)) for _ in range(n)])
    images = rng.integers(0, 40, (n, 8, 16, 1)).astype(np.uint8)
    for image, text in zip(images, texts):
        for slot, char in enumerate(text):
            image[1:7, 8 * slot + 1 : 8 * slot + 7][np.s_[0:2] if char == "a" else np.s_[:, 2:4]] = 255
    return images, texts


def test_class_dataset_end_to_end(tmp_path, monkeypatch) -> None:
    meta = {"label_kind": "class", "num_classes": 3, "class_names": ["top", "bottom", "vertical"]}
    paths = {split: write_split(tmp_path / "data", split, *bars(n, seed), **meta)
             for split, n, seed in (("train", 300, 0), ("val", 60, 1), ("test", 200, 2))}
    ckpt, train_metrics = tmp_path / "judge.pt", tmp_path / "judge.json"
    run_script(monkeypatch, "train_classifier.py", "--train", paths["train"], "--val", paths["val"],
               "--test", paths["test"], "--out", ckpt, "--metrics", train_metrics, "--steps", 60, "--batch-size", 32)
    trained = json.loads(train_metrics.read_text())
    assert trained["kind"] == "classifier" and trained["steps"] == 60 and trained["num_train"] == 300
    assert trained["test"]["accuracy"] >= 0.9 and set(trained["test"]["per_class"]) == set(meta["class_names"])

    references = {features: tmp_path / f"ref_{features}.npz" for features in ("classifier", "inception")}
    pairs = [arg for features, path in references.items() for arg in ("--features", features, "--out", path)]
    run_script(monkeypatch, "fid_reference.py", "--data", paths["test"], *pairs, "--classifier", ckpt)
    assert load_reference(references["classifier"]).count == 200
    assert "no Inception weights" in load_reference(references["inception"]).unavailable

    test_images, test_labels = bars(200, seed=2)
    samples = {"close": tmp_path / "close.npz", "far": tmp_path / "far.npz"}
    np.savez(samples["close"], images=test_images[:64], labels=test_labels[:64], seeds=np.arange(64))
    np.savez(samples["far"], images=255 - test_images[:64], labels=test_labels[:64], seeds=np.arange(64))
    results = {}
    for name, path in samples.items():
        out = tmp_path / f"metrics_{name}.json"
        run_script(monkeypatch, "evaluate_samples.py", "--samples", path, "--reference", *references.values(),
                   "--classifier", ckpt, "--out", out)
        results[name] = json.loads(out.read_text())

    # All sets in one job: the same numbers, and each network loaded once for the whole job.
    import ddpm.evaluation.evaluate as evaluate_module

    loads = {"extractor": 0, "judge": 0}

    def counted(name, load):
        def wrapper(*args, **kwargs):
            loads[name] += 1
            return load(*args, **kwargs)
        return wrapper

    monkeypatch.setattr(evaluate_module, "build_extractor", counted("extractor", evaluate_module.build_extractor))
    monkeypatch.setattr(evaluate_module, "load_classifier", counted("judge", evaluate_module.load_classifier))
    together = [tmp_path / f"together_{name}.json" for name in samples]
    run_script(monkeypatch, "evaluate_samples.py", "--samples", *samples.values(), "--reference",
               references["classifier"], "--classifier", ckpt, "--out", *together)
    assert loads == {"extractor": 1, "judge": 1}
    for name, out in zip(samples, together):
        alone, joint = results[name], json.loads(out.read_text())
        assert joint["fid"]["classifier"] == pytest.approx(alone["fid"]["classifier"], rel=1e-6)
        assert joint["conditional"]["accuracy"] == alone["conditional"]["accuracy"]

    close = results["close"]
    assert close["num_images"] == 64 and close["image_shape"] == [12, 12, 1]
    assert close["fid"]["inception"] is None and close["kid"]["inception"] is None
    assert close["fid_unavailable"]["inception"].startswith("unavailable: no Inception weights")
    assert 0 <= close["fid"]["classifier"] < results["far"]["fid"]["classifier"]
    assert close["kid"]["classifier"]["subset_size"] == 64
    assert close["conditional"]["kind"] == "class" and close["conditional"]["accuracy"] >= 0.9
    assert results["far"]["conditional"]["accuracy"] < close["conditional"]["accuracy"]


def test_text_dataset_end_to_end(tmp_path, monkeypatch) -> None:
    meta = {"label_kind": "text", "alphabet": "ab", "text_length": 2}
    paths = {split: write_split(tmp_path / "data", split, *strings(n, seed), **meta)
             for split, n, seed in (("train", 200, 0), ("val", 40, 1), ("test", 40, 2))}
    ckpt, train_metrics = tmp_path / "reader.pt", tmp_path / "reader.json"
    config = {"widths": [8, 16], "feature_dim": 16, "text_columns": 4, "steps": 1000, "eval_every": 20}
    run_script(monkeypatch, "train_classifier.py", "--train", paths["train"], "--val", paths["val"],
               "--test", paths["test"], "--out", ckpt, "--metrics", train_metrics, "--config", json.dumps(config),
               "--steps", 40, "--batch-size", 32)
    trained = json.loads(train_metrics.read_text())
    assert trained["kind"] == "recognizer" and trained["config"]["widths"] == [8, 16]
    assert [row["step"] for row in trained["history"]] == [20, 40]  # --steps overrides the JSON
    assert {"char_accuracy", "string_accuracy", "per_string"} <= set(trained["test"])

    reference = tmp_path / "ref.npz"
    run_script(monkeypatch, "fid_reference.py", "--data", paths["test"], "--features", "classifier",
               "--classifier", ckpt, "--out", reference)
    images, texts = strings(16, seed=3)
    np.savez(tmp_path / "samples.npz", images=images, labels=texts, seeds=np.arange(16))
    run_script(monkeypatch, "evaluate_samples.py", "--samples", tmp_path / "samples.npz", "--reference", reference,
               "--classifier", ckpt, "--out", tmp_path / "metrics.json", "--config", '{"kid": false}')
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    assert metrics["fid"]["classifier"] >= 0 and metrics["kid"]["classifier"] is None
    assert metrics["conditional"]["kind"] == "text"
    assert set(metrics["conditional"]["per_string"]) == set(texts)


def test_missing_and_corrupt_inputs_exit_with_status_2(tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "corrupt.npz").write_bytes(b"truncated")
    np.savez(tmp_path / "no_sidecar.npz", images=np.zeros((4, 8, 8, 1), np.uint8), labels=np.zeros(4, np.int64))
    cases = [
        (("evaluate_samples.py", "--samples", tmp_path / "absent.npz", "--out", tmp_path / "m.json"),
         "absent.npz: no such file"),
        (("evaluate_samples.py", "--samples", tmp_path / "corrupt.npz", "--out", tmp_path / "m.json"),
         "corrupt.npz: not a readable .npz file"),
        (("fid_reference.py", "--data", tmp_path / "no_sidecar.npz", "--features", "classifier",
          "--out", tmp_path / "r.npz"), "no_sidecar.json: no such file"),
        (("fid_reference.py", "--data", tmp_path / "no_sidecar.npz", "--features", "classifier",
          "--features", "inception", "--out", tmp_path / "r.npz"), "give one --out per --features"),
        (("train_classifier.py", "--train", tmp_path / "corrupt.npz", "--val", tmp_path / "corrupt.npz",
          "--test", tmp_path / "corrupt.npz", "--out", tmp_path / "c.pt", "--metrics", tmp_path / "c.json"),
         "not a readable .npz file"),
        (("train_classifier.py", "--train", tmp_path / "no_sidecar.npz", "--val", tmp_path / "no_sidecar.npz",
          "--test", tmp_path / "no_sidecar.npz", "--out", tmp_path / "c.pt", "--metrics", tmp_path / "c.json",
          "--config", '{"widht": 3}'), "unknown key(s) ['widht'] in classifier"),
        (("evaluate_samples.py", "--samples", tmp_path / "no_sidecar.npz", "--out", tmp_path / "m.json",
          "--config", '{"kid_subsets": "many"}'), "metrics.kid_subsets must be of type int"),
    ]
    for args, message in cases:
        with pytest.raises(SystemExit) as exit_info:
            run_script(monkeypatch, *args)
        assert exit_info.value.code == 2
        assert message in capsys.readouterr().err
    assert not (tmp_path / "m.json").exists() and not (tmp_path / "r.npz").exists()


def test_command_line_reports_a_missing_reference(tmp_path) -> None:
    np.savez(tmp_path / "samples.npz", images=np.zeros((4, 8, 8, 1), np.uint8), seeds=np.arange(4))
    result = subprocess.run(
        [sys.executable, SCRIPTS / "evaluate_samples.py", "--samples", tmp_path / "samples.npz",
         "--reference", tmp_path / "absent_ref.npz", "--out", tmp_path / "m.json"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert "error:" in result.stderr and "absent_ref.npz: no such file" in result.stderr
