"""The judge networks learn trivially separable synthetic data in seconds and survive a save/load."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from ddpm.errors import ConfigError, DataError
from ddpm.evaluation.classifier import (
    ClassifierConfig,
    ColumnPool,
    ImageClassifier,
    TextRecognizer,
    load_classifier,
    predict,
    save_classifier,
)
from ddpm.evaluation.conditional import class_accuracy, text_accuracy
from ddpm.evaluation.judge_training import random_shift, train_classifier, train_recognizer
from ddpm.runtime import deterministic_kernels

TINY = ClassifierConfig(widths=(8, 16), feature_dim=32, steps=60, batch_size=32, warmup_steps=5, eval_every=30)
GLYPHS = {  # 8x8 patterns, one per character
    "a": np.s_[1:3, 1:7],  # bar at the top
    "b": np.s_[1:7, 3:5],  # vertical bar
    "c": np.s_[5:7, 1:7],  # bar at the bottom
}


def bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Three classes of 12x12 grey images: a top bar, a bottom bar, a vertical bar, on noise."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 3, n)
    images = rng.integers(0, 40, (n, 12, 12, 1)).astype(np.uint8)
    for image, label in zip(images, labels):
        image[[np.s_[2:5, 2:10], np.s_[7:10, 2:10], np.s_[2:10, 5:8]][label]] = 255
    return images, labels.astype(np.int64)


def strings(n: int, seed: int, length: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """8 x (8 * length) grey images of strings over "abc", one glyph per 8x8 slot."""
    rng = np.random.default_rng(seed)
    texts = np.array(["".join(rng.choice(list(GLYPHS), length)) for _ in range(n)])
    images = rng.integers(0, 40, (n, 8, 8 * length, 1)).astype(np.uint8)
    for image, text in zip(images, texts):
        for slot, char in enumerate(text):
            image[:, 8 * slot : 8 * slot + 8][GLYPHS[char]] = 255
    return images, texts


def test_classifier_learns_separable_classes() -> None:
    (images, labels), (val_images, val_labels) = bars(300, seed=0), bars(60, seed=1)
    model, history = train_classifier(
        images, labels, val_images=val_images, val_labels=val_labels, class_names=["top", "bottom", "vertical"],
        config=TINY, seed=0,
    )
    assert [row["step"] for row in history] == [30, 60]
    assert history[-1]["val_accuracy"] == 1.0
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    test_images, test_labels = bars(60, seed=2)
    predicted = predict(model, test_images, batch_size=16)
    assert class_accuracy(predicted, test_labels, model.class_names)["accuracy"] == 1.0
    features = model.features(torch.from_numpy(test_images).permute(0, 3, 1, 2))
    assert features.shape == (60, TINY.feature_dim)


def test_recognizer_learns_short_strings() -> None:
    config = ClassifierConfig(
        widths=(8, 16), feature_dim=32, text_columns=6, lr=3e-3, steps=100, batch_size=32, warmup_steps=5,
        eval_every=50, max_shift=1,
    )
    (images, texts), (val_images, val_texts) = strings(300, seed=0), strings(60, seed=1)
    model, history = train_recognizer(
        images, texts, val_images=val_images, val_texts=val_texts, alphabet="abc", text_length=3,
        config=config, seed=0,
    )
    assert history[-1]["val_string_accuracy"] == 1.0
    test_images, test_texts = strings(40, seed=2)
    read = predict(model, test_images, batch_size=16)
    assert read.dtype.kind == "U"
    assert text_accuracy(read, test_texts)["string_accuracy"] == 1.0


def test_training_is_reproducible_from_its_seed() -> None:
    images, labels = bars(64, seed=0)
    config = ClassifierConfig(widths=(4,), feature_dim=8, steps=5, batch_size=16, eval_every=5)
    runs = [
        train_classifier(images, labels, val_images=images, val_labels=labels, class_names="xyz", config=config, seed=3)
        for _ in range(2)
    ]
    assert runs[0][1] == runs[1][1]
    for a, b in zip(runs[0][0].state_dict().values(), runs[1][0].state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("train", ["classifier", "recognizer"])
def test_judges_train_with_deterministic_kernels_only(train, monkeypatch) -> None:
    """FID is computed on a judge's features, so every run must train the same judge: on a GPU that
    takes deterministic kernels (cuDNN's too). The settings hold while training and are restored."""
    from ddpm.evaluation import judge_training

    seen = []

    def fit(*args, **kwargs):
        seen.append((torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark))
        return []

    monkeypatch.setattr(judge_training, "_fit", fit)
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", True)
    before = (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic)
    if train == "classifier":
        images, labels = bars(16, seed=0)
        train_classifier(images, labels, val_images=images, val_labels=labels, class_names="xyz", config=TINY)
    else:
        images, texts = strings(16, seed=0)
        train_recognizer(images, texts, val_images=images, val_texts=texts, alphabet="abc", text_length=3, config=TINY)
    assert seen == [(True, True, False)]
    assert (torch.are_deterministic_algorithms_enabled(), torch.backends.cudnn.deterministic) == before
    assert torch.backends.cudnn.benchmark is True


@pytest.mark.parametrize("kind", ["classifier", "recognizer"])
def test_checkpoint_round_trip(tmp_path, kind: str) -> None:
    config = ClassifierConfig(widths=(4, 8), feature_dim=16, text_columns=3)
    stats = {"pixel_mean": [0.2], "pixel_std": [0.3]}
    if kind == "classifier":
        model = ImageClassifier(config, image_shape=(12, 12, 1), class_names=["p", "q", "r"], **stats)
        images, _ = bars(10, seed=0)
    else:
        model = TextRecognizer(config, image_shape=(8, 24, 1), alphabet="abc", text_length=3, **stats)
        images, _ = strings(10, seed=0)
    save_classifier(tmp_path / "judge.pt", model)
    loaded = load_classifier(tmp_path / "judge.pt")
    assert type(loaded) is type(model) and loaded.config == config and loaded.spec() == model.spec()
    model.eval()
    batch = torch.from_numpy(images).permute(0, 3, 1, 2)
    assert torch.equal(loaded(batch), model(batch))
    assert np.array_equal(predict(loaded, images, batch_size=4), predict(model, images, batch_size=4))


def test_load_refuses_missing_and_corrupt_checkpoints(tmp_path) -> None:
    with pytest.raises(DataError, match="no classifier checkpoint"):
        load_classifier(tmp_path / "absent.pt")
    (tmp_path / "corrupt.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="not a readable classifier checkpoint"):
        load_classifier(tmp_path / "corrupt.pt")
    torch.save({"kind": "classifier"}, tmp_path / "foreign.pt")
    with pytest.raises(DataError, match="not a checkpoint of this version"):
        load_classifier(tmp_path / "foreign.pt")


def test_wrong_inputs_raise_clear_errors() -> None:
    with pytest.raises(ConfigError, match="steps=0"):
        ClassifierConfig(steps=0)
    with pytest.raises(ConfigError, match="too small"):
        ImageClassifier(ClassifierConfig(), image_shape=(4, 4, 1), class_names="ab", pixel_mean=[0], pixel_std=[1])
    model = ImageClassifier(
        ClassifierConfig(widths=(4,)), image_shape=(12, 12, 1), class_names="ab", pixel_mean=[0], pixel_std=[1]
    )
    with pytest.raises(DataError, match="trained on uint8 images of shape"):
        predict(model, np.zeros((2, 12, 12, 3), np.uint8), batch_size=2)
    recognizer = TextRecognizer(
        ClassifierConfig(widths=(4,)), image_shape=(8, 24, 1), alphabet="abc", text_length=3,
        pixel_mean=[0], pixel_std=[1],
    )
    with pytest.raises(DataError, match="'abz'"):
        recognizer.encode(np.array(["abc", "abz"]))


def test_random_shift_translates_each_image_within_bounds() -> None:
    torch.manual_seed(0)
    images = torch.zeros(64, 1, 9, 9, dtype=torch.uint8)
    images[:, :, 4, 4] = 255
    shifted = random_shift(images, max_shift=2)
    assert shifted.shape == images.shape and shifted.dtype == torch.uint8
    rows, cols = (shifted[:, 0] == 255).nonzero()[:, 1:].T
    assert len(rows) == 64  # every dot survives: it is never shifted out
    assert rows.min() >= 2 and rows.max() <= 6 and cols.min() >= 2 and cols.max() <= 6
    assert len(set(zip(rows.tolist(), cols.tolist()))) > 5


@pytest.mark.parametrize("width, columns", [(16, 16), (16, 4), (10, 4), (7, 3), (5, 8)])
def test_column_pool_is_adaptive_average_pooling(width: int, columns: int) -> None:
    maps = torch.randn(2, 3, 4, width, dtype=torch.float64, requires_grad=True)
    ours = ColumnPool(columns)(maps)
    grad = torch.randn_like(ours)
    (ours_grad,) = torch.autograd.grad(ours, maps, grad)
    reference = nn.AdaptiveAvgPool2d((1, columns))(maps).flatten(2)
    (reference_grad,) = torch.autograd.grad(reference, maps, grad)
    torch.testing.assert_close(ours, reference, rtol=0, atol=1e-12)
    torch.testing.assert_close(ours_grad, reference_grad, rtol=0, atol=1e-12)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="CUDA's nondeterministic kernels")
def test_recognizer_backward_uses_only_deterministic_kernels_on_cuda() -> None:
    """Under the trainer's deterministic settings an op without a deterministic CUDA kernel warns
    (warn_only): turned into an error here, the warning names the op."""
    model = TextRecognizer(TINY, image_shape=(32, 128, 1), alphabet="abc", text_length=5, pixel_mean=[0.3], pixel_std=[0.3]).cuda()
    images = torch.randint(0, 256, (8, 1, 32, 128), dtype=torch.uint8, device="cuda")
    with deterministic_kernels("cuda"), warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*determinis")
        model(images).float().square().mean().backward()
