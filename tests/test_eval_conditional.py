"""Conditional accuracy arithmetic on hand-made predictions."""

from __future__ import annotations

import numpy as np
import pytest

from ddpm.errors import DataError
from ddpm.evaluation.conditional import class_accuracy, text_accuracy


def test_class_accuracy_overall_and_per_requested_class() -> None:
    requested = np.array([0, 0, 0, 0, 2, 2])
    predicted = np.array([0, 0, 1, 0, 2, 0])
    scores = class_accuracy(predicted, requested, ["zero", "one", "two"])
    assert scores["accuracy"] == pytest.approx(4 / 6)
    assert scores["count"] == 6
    assert scores["per_class"] == {"zero": {"accuracy": 0.75, "count": 4}, "two": {"accuracy": 0.5, "count": 2}}


def test_text_accuracy_counts_characters_and_whole_strings() -> None:
    requested = np.array(["fngff", "fngff", "gnfcd", "gnfcd"])
    predicted = np.array(["fngff", "fnqff", "gnfcd", "xxxxx"])
    scores = text_accuracy(predicted, requested)
    assert scores["char_accuracy"] == pytest.approx((5 + 4 + 5 + 0) / 20)
    assert scores["string_accuracy"] == pytest.approx(2 / 4)
    assert scores["count"] == 4
    assert scores["per_string"] == {
        "fngff": {"char_accuracy": 0.9, "string_accuracy": 0.5, "count": 2},
        "gnfcd": {"char_accuracy": 0.5, "string_accuracy": 0.5, "count": 2},
    }


def test_bad_requests_raise_data_errors() -> None:
    with pytest.raises(DataError, match="span 0..3"):
        class_accuracy(np.array([0, 1]), np.array([0, 3]), ["a", "b"])
    with pytest.raises(DataError, match="must be integers"):
        class_accuracy(np.array([0]), np.array(["a"]), ["a", "b"])
    with pytest.raises(DataError, match="one prediction per requested label"):
        class_accuracy(np.array([0, 1, 1]), np.array([0, 1]), ["a", "b"])
    with pytest.raises(DataError, match="of another length"):
        text_accuracy(np.array(["abc", "ab"]), np.array(["abc", "abc"]))


def test_class_accuracy_lists_the_commonest_mistakes() -> None:
    names = ["He", "Khe", "Jim", "Che", "Dal", "Zal", "Re"]
    requested = np.array([0] * 10 + [1] * 4 + [2] * 5 + [3, 4, 5, 6])
    predicted = np.array([1] * 3 + [2] + [0] * 6 + [0, 0, 1, 1] + [3] * 2 + [2] * 3 + [4, 5, 6, 0])
    pairs = class_accuracy(predicted, requested, names)["confused_pairs"]
    assert pairs == [
        {"requested": "He", "predicted": "Khe", "count": 3, "share": 0.3},
        {"requested": "Khe", "predicted": "He", "count": 2, "share": 0.5},
        {"requested": "Jim", "predicted": "Che", "count": 2, "share": 0.4},
        {"requested": "He", "predicted": "Jim", "count": 1, "share": 0.1},  # ties: requested, then predicted order
        {"requested": "Che", "predicted": "Dal", "count": 1, "share": 1.0},
    ]
    assert class_accuracy(requested, requested, names)["confused_pairs"] == []
    with pytest.raises(DataError, match="predicted classes span 0..7"):
        class_accuracy(np.array([0, 7]), np.array([0, 1]), names)
