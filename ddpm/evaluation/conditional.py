"""Whether generated (or test) images show what was asked for: a class, or a text string.

The pure functions score predictions against requests, so the arithmetic is testable without a
network; :func:`conditional_accuracy` runs the judge network first.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch

from ddpm.errors import DataError
from ddpm.evaluation.classifier import Judge, TextRecognizer, predict


CONFUSED_PAIRS = 5  # how many of the most frequent mistakes a class score lists


def class_accuracy(predicted: np.ndarray, requested: np.ndarray, class_names: Sequence[str]) -> dict[str, Any]:
    """Share of images classified as their requested class, overall and per requested class, and the
    most frequent mistakes.

    Returns ``{"accuracy", "count", "per_class": {name: {"accuracy", "count"}}, "confused_pairs":
    [{"requested", "predicted", "count", "share"}]}``; ``per_class`` lists the classes that occur in
    ``requested``, in class order; ``confused_pairs`` the (at most :data:`CONFUSED_PAIRS`) commonest
    (requested, predicted) mistakes, most frequent first, ``share`` being that of the requested class's images.
    """
    predicted, requested = np.asarray(predicted), np.asarray(requested)
    _check_pairs(predicted, requested)
    if not np.issubdtype(requested.dtype, np.integer):
        raise DataError(f"requested classes must be integers, got {requested.dtype}; text needs a recognizer")
    if requested.min() < 0 or requested.max() >= len(class_names):
        raise DataError(
            f"requested classes span {requested.min()}..{requested.max()} but the classifier knows "
            f"{len(class_names)} classes; use the classifier trained on this dataset"
        )
    if predicted.min() < 0 or predicted.max() >= len(class_names):
        raise DataError(
            f"predicted classes span {predicted.min()}..{predicted.max()} but there are {len(class_names)} class names"
        )
    correct = predicted == requested
    per_class = {
        str(class_names[c]): {"accuracy": float(correct[requested == c].mean()), "count": int((requested == c).sum())}
        for c in np.unique(requested)
    }
    return {
        "accuracy": float(correct.mean()),
        "count": len(requested),
        "per_class": per_class,
        "confused_pairs": _confused_pairs(predicted, requested, class_names),
    }


def _confused_pairs(predicted: np.ndarray, requested: np.ndarray, class_names: Sequence[str]) -> list[dict[str, Any]]:
    """The commonest (requested, predicted) mistakes; ties in requested, then predicted, class order."""
    wrong = predicted != requested
    if not wrong.any():
        return []
    pairs, counts = np.unique(np.stack([requested[wrong], predicted[wrong]], axis=1), axis=0, return_counts=True)
    order = np.lexsort((pairs[:, 1], pairs[:, 0], -counts))[:CONFUSED_PAIRS]
    return [
        {
            "requested": str(class_names[pairs[i, 0]]),
            "predicted": str(class_names[pairs[i, 1]]),
            "count": int(counts[i]),
            "share": float(counts[i] / (requested == pairs[i, 0]).sum()),
        }
        for i in order
    ]


def text_accuracy(predicted: np.ndarray, requested: np.ndarray) -> dict[str, Any]:
    """Share of characters and of whole strings read as requested, overall and per requested string.

    Returns ``{"char_accuracy", "string_accuracy", "count", "per_string": {text: {"char_accuracy",
    "string_accuracy", "count"}}}``.
    """
    predicted, requested = np.asarray(predicted, dtype=str), np.asarray(requested, dtype=str)
    _check_pairs(predicted, requested)
    lengths = np.char.str_len(requested)
    mismatched = np.flatnonzero(np.char.str_len(predicted) != lengths)
    if mismatched.size:
        i = mismatched[0]
        raise DataError(f"text {i}: read {predicted[i]!r} but requested {requested[i]!r}, of another length")
    char_hits = np.array([sum(a == b for a, b in zip(p, r)) for p, r in zip(predicted, requested)])
    whole = predicted == requested

    def summary(mask: np.ndarray) -> dict[str, Any]:
        return {
            "char_accuracy": float(char_hits[mask].sum() / lengths[mask].sum()),
            "string_accuracy": float(whole[mask].mean()),
            "count": int(mask.sum()),
        }

    overall = summary(np.ones(len(requested), dtype=bool))
    return {**overall, "per_string": {str(text): summary(requested == text) for text in np.unique(requested)}}


def conditional_accuracy(
    model: Judge, images: np.ndarray, requested: np.ndarray, *, batch_size: int, device: torch.device | str = "cpu"
) -> dict[str, Any]:
    """Read ``images`` with the judge network and score them against ``requested`` labels.

    A recognizer gives ``{"kind": "text", **text_accuracy(...)}``, a classifier
    ``{"kind": "class", **class_accuracy(...)}``.
    """
    if isinstance(model, TextRecognizer):
        if np.asarray(requested).dtype.kind != "U":
            raise DataError(f"the recognizer scores text labels, got {np.asarray(requested).dtype} labels")
        model.encode(requested)  # raises, naming the string, on a length or character it cannot read
        predicted = predict(model, images, batch_size=batch_size, device=device)
        return {"kind": "text", **text_accuracy(predicted, requested)}
    predicted = predict(model, images, batch_size=batch_size, device=device)
    return {"kind": "class", **class_accuracy(predicted, requested, model.class_names)}


def _check_pairs(predicted: np.ndarray, requested: np.ndarray) -> None:
    if predicted.ndim != 1 or predicted.shape != requested.shape or len(requested) == 0:
        raise DataError(
            f"need one prediction per requested label: got shapes {predicted.shape} and {requested.shape}"
        )
