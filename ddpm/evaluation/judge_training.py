"""Train the judge networks (:mod:`ddpm.evaluation.classifier`) on a prepared dataset.

AdamW with linear warm-up and cosine decay; batches are drawn on the device from images held there,
so a step never waits on the host; bf16 autocast and channels-last on CUDA, deterministic kernels
(a judge is the same network on every run of the same command). The loss is read back only at
validation points, never inside a step.
"""

from __future__ import annotations

import contextlib
import math
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from ddpm.errors import DataError, TrainingDivergedError
from ddpm.evaluation.classifier import ClassifierConfig, ImageClassifier, Judge, TextRecognizer, predict
from ddpm.evaluation.conditional import class_accuracy, text_accuracy
from ddpm.images import check_images
from ddpm.runtime import deterministic_kernels

History = list[dict[str, float]]


def train_classifier(
    images: np.ndarray,
    labels: np.ndarray,
    *,
    val_images: np.ndarray,
    val_labels: np.ndarray,
    class_names: Sequence[str],
    config: ClassifierConfig = ClassifierConfig(),
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[ImageClassifier, History]:
    """Train an :class:`ImageClassifier`; history rows hold step, train_loss and val_accuracy."""
    for name, split_images, split_labels in (("training", images, labels), ("validation", val_images, val_labels)):
        _check_split(name, split_images, split_labels)
        integer = np.issubdtype(split_labels.dtype, np.integer)
        if not integer or split_labels.min() < 0 or split_labels.max() >= len(class_names):
            raise DataError(f"{name} labels must be integers in [0, {len(class_names)}), one per class name")

    def validate(model: Judge) -> dict[str, float]:
        predicted = predict(model, val_images, batch_size=config.batch_size, device=device)
        return {"val_accuracy": class_accuracy(predicted, val_labels, class_names)["accuracy"]}

    with _reproducible(seed, device):
        model = ImageClassifier(config, image_shape=images.shape[1:], class_names=class_names, **_pixel_stats(images))
        history = _fit(model, images, labels.astype(np.int64), F.cross_entropy, validate, config, device)
    return model, history


def train_recognizer(
    images: np.ndarray,
    texts: np.ndarray,
    *,
    val_images: np.ndarray,
    val_texts: np.ndarray,
    alphabet: str,
    text_length: int,
    config: ClassifierConfig = ClassifierConfig(),
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> tuple[TextRecognizer, History]:
    """Train a :class:`TextRecognizer`; history rows hold step, train_loss, val_char/string_accuracy."""
    _check_split("training", images, texts)
    _check_split("validation", val_images, val_texts)

    def validate(model: Judge) -> dict[str, float]:
        scores = text_accuracy(predict(model, val_images, batch_size=config.batch_size, device=device), val_texts)
        return {"val_char_accuracy": scores["char_accuracy"], "val_string_accuracy": scores["string_accuracy"]}

    def loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return F.cross_entropy(logits.flatten(0, 1), targets.flatten())  # mean over images and positions

    with _reproducible(seed, device):
        model = TextRecognizer(
            config, image_shape=images.shape[1:], alphabet=alphabet, text_length=text_length, **_pixel_stats(images)
        )
        model.encode(val_texts)  # fail before training, not at the first validation
        history = _fit(model, images, model.encode(texts), loss, validate, config, device)
    return model, history


def random_shift(images: torch.Tensor, max_shift: int) -> torch.Tensor:
    """Translate each uint8 (N, C, H, W) image by its own random offset in [-max_shift, max_shift].

    Vacated pixels are 0, the background of the prepared datasets (ink is bright).
    """
    n, _, height, width = images.shape
    padded = F.pad(images, (max_shift,) * 4).permute(0, 2, 3, 1)  # (N, H + 2s, W + 2s, C)
    offsets = torch.randint(0, 2 * max_shift + 1, (2, n, 1, 1), device=images.device)
    rows = offsets[0] + torch.arange(height, device=images.device).view(1, -1, 1)
    cols = offsets[1] + torch.arange(width, device=images.device).view(1, 1, -1)
    crops = padded[torch.arange(n, device=images.device).view(-1, 1, 1), rows, cols]  # (N, H, W, C)
    return crops.permute(0, 3, 1, 2)


def _fit(
    model: Judge,
    images: np.ndarray,
    targets: np.ndarray,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    validate: Callable[[Judge], dict[str, float]],
    config: ClassifierConfig,
    device: torch.device | str,
) -> History:
    device = torch.device(device)
    cuda = device.type == "cuda"
    all_images = torch.from_numpy(images).to(device).permute(0, 3, 1, 2)  # NCHW view of NHWC = channels-last
    all_targets = torch.from_numpy(targets).to(device)
    model.to(device, memory_format=torch.channels_last if cuda else torch.preserve_format).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: _lr_factor(step, config))

    history: History = []
    loss_sum, losses = torch.zeros((), device=device), 0
    for step in range(1, config.steps + 1):
        index = torch.randint(len(all_images), (config.batch_size,), device=device)
        batch = all_images[index]
        if config.max_shift:
            batch = random_shift(batch, config.max_shift)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=cuda):
            loss = loss_fn(model(batch).float(), all_targets[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        loss_sum += loss.detach()
        losses += 1
        if step % config.eval_every == 0 or step == config.steps:
            train_loss = (loss_sum / losses).item()
            if not math.isfinite(train_loss):
                raise TrainingDivergedError(
                    f"classifier training loss is {train_loss} by step {step}; lower `lr` in the classifier config"
                )
            history.append({"step": step, "train_loss": train_loss, **validate(model)})
            model.train()
            loss_sum, losses = torch.zeros((), device=device), 0
    model.eval()
    return history


def _lr_factor(step: int, config: ClassifierConfig) -> float:
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))


def _pixel_stats(images: np.ndarray) -> dict[str, list[float]]:
    """Per-channel mean and std on the [0, 1] scale; std floored so a constant channel cannot divide by 0."""
    pixels = images.reshape(-1, images.shape[-1])
    mean = pixels.mean(axis=0, dtype=np.float64) / 255
    std = np.maximum(pixels.std(axis=0, dtype=np.float64) / 255, 1 / 255)
    return {"pixel_mean": mean.tolist(), "pixel_std": std.tolist()}


def _check_split(name: str, images: np.ndarray, labels: np.ndarray) -> None:
    check_images(images, source=f"{name} images")
    if len(labels) != len(images):
        raise DataError(f"{name} split: {len(images)} images but {len(labels)} labels")


@contextlib.contextmanager
def _reproducible(seed: int, device: torch.device | str) -> Iterator[None]:
    """Inside the block: torch's generators (CPU and ``device``) seeded, and only deterministic
    kernels (:func:`ddpm.runtime.deterministic_kernels`); everything restored after.

    The judges' features are what FID is computed on, so two runs of the same command must train the
    same judge. A judge trains in seconds, so slower kernels cost little.
    """
    device = torch.device(device)
    cuda_devices = [torch.cuda.current_device() if device.index is None else device.index] if device.type == "cuda" else []
    with deterministic_kernels(device), torch.random.fork_rng(devices=cuda_devices):
        torch.manual_seed(seed)
        yield
