"""Sample grid PNGs for class-labelled, text and unlabelled splits."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ddpm.data import Split
from ddpm.data.grid import class_row_labels, write_grid


def split(label_kind, labels, channels=1, shape=(8, 8)):
    images = np.random.default_rng(0).integers(0, 256, (len(labels), *shape, channels), dtype=np.uint8)
    names = ["zero", "one", "two"] if label_kind == "class" else []
    meta = {"dataset": "tiny", "source": "test", "split": "train", "count": len(labels)}
    meta |= {"label_kind": label_kind, "class_names": names}
    return Split(images, np.asarray(labels), meta)


@pytest.mark.parametrize(
    "data",
    [
        split("class", [0, 1, 2, 1, 0, 2, 2]),
        split("class", [0, 1, 2], channels=3),
        split("text", np.array(["ab1", "b2a", "12a"]), shape=(8, 32)),
        split("none", np.zeros(5, dtype=np.int64)),
    ],
    ids=["class", "class-rgb", "text", "none"],
)
def test_grid_is_a_png(tmp_path, data):
    path = tmp_path / "grid.png"
    write_grid(data, path, per_row=4)
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width > 100 and image.height > 100
    assert [p.name for p in tmp_path.iterdir()] == ["grid.png"]


def test_many_classes_are_capped(tmp_path):
    data = split("class", [0, 1, 2])
    write_grid(data, tmp_path / "grid.png", max_rows=2)
    assert (tmp_path / "grid.png").exists()


def test_class_rows_carry_the_glyphs_the_font_draws(tmp_path):
    data = split("class", [0, 1, 2, 2])
    data.meta["class_glyphs"] = ["\u0627", "", "\ue000"]  # Alef; none; a private-use character no font draws
    assert class_row_labels(data.meta) == [("zero", "\u0627"), ("one", ""), ("two", "")]
    assert class_row_labels({"class_names": ["a", "b"]}) == [("a", ""), ("b", "")]  # sidecars without glyphs
    write_grid(data, tmp_path / "grid.png")
    assert (tmp_path / "grid.png").exists()


def test_forty_classes_get_a_row_each_by_default(tmp_path):
    labels = np.arange(40)
    images = np.zeros((40, 8, 8, 1), dtype=np.uint8)
    meta = {"dataset": "tiny", "source": "test", "split": "train", "count": 40, "label_kind": "class"}
    meta["class_names"] = [f"class {i}" for i in range(40)]
    write_grid(Split(images, labels, meta), tmp_path / "all.png")
    write_grid(Split(images, labels, meta), tmp_path / "capped.png", max_rows=20)
    with Image.open(tmp_path / "all.png") as every, Image.open(tmp_path / "capped.png") as capped:
        assert every.height > 1.8 * capped.height
