"""Dataset grids of class-labelled splits: a row per class, labelled with the class's glyph where the font draws it."""

from __future__ import annotations

import numpy as np

from ddpm.report.grids import class_row_labels, split_grid_figure


def _meta(names, glyphs=None):
    meta = {"dataset": "tiny", "source": "test", "split": "train", "count": len(names), "label_kind": "class", "class_names": names}
    if glyphs is not None:
        meta["class_glyphs"] = glyphs
    return meta


def test_class_rows_carry_the_glyphs_the_font_draws():
    meta = _meta(["zero", "one", "two"], ["\u0627", "", "\ue000"])  # Alef; none; a private-use character no font draws
    assert class_row_labels(meta) == [("zero", "\u0627"), ("one", ""), ("two", "")]
    assert class_row_labels(_meta(["a", "b"])) == [("a", ""), ("b", "")]  # sidecars without glyphs


def test_forty_classes_get_a_row_each_by_default_and_glyphs_label_their_rows():
    labels = np.repeat(np.arange(40), 2)
    images = np.random.default_rng(0).integers(0, 256, (80, 8, 8, 1), dtype=np.uint8)
    names = [f"class {i}" for i in range(40)]
    glyphs = ["\u0628"] + [""] * 39  # Be
    figure = split_grid_figure(images, labels, _meta(names, glyphs), seed=0)
    texts = {t.get_text() for t in figure.findobj(lambda a: hasattr(a, "get_text"))}
    assert {"class 0  \u0628", "class 39"} <= texts and not any("first" in t for t in texts)
    capped = split_grid_figure(images, labels, _meta(names), seed=0, max_rows=20)
    capped_texts = {t.get_text() for t in capped.findobj(lambda a: hasattr(a, "get_text"))}
    assert "class 19" in capped_texts and "class 20" not in capped_texts
    assert any("first 20 of" in t.replace("\n", " ") for t in capped_texts)
