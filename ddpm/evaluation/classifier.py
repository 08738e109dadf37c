"""Small CNNs that judge images: a class classifier and a fixed-length text recognizer.

Both read uint8 (N, C, H, W) tensors, which is what torchmetrics' FID feeds a feature extractor, and
normalise internally with the training images' per-channel statistics, so no caller prepares inputs.
Their penultimate activations (:meth:`features`) are the "classifier" feature set for FID.
A checkpoint is one file holding the weights, the full config and the class names or alphabet, so
loading a network never needs its dataset.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ddpm.errors import ConfigError, DataError
from ddpm.images import check_images, image_batches
from ddpm.io import atomic_path


@dataclass(frozen=True)
class ClassifierConfig:
    """Architecture and training settings of both networks: the one home of their defaults."""

    widths: tuple[int, ...] = (32, 64, 128)  # channels per stage; every stage halves height and width
    feature_dim: int = 256  # width of the penultimate layer = dimension of the FID features
    text_columns: int = 16  # recognizer: columns the image width is pooled to; characters are found among them
    steps: int = 3000
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_shift: int = 2  # random translation in pixels during training; 0 turns augmentation off
    eval_every: int = 500

    def __post_init__(self) -> None:
        positive = {
            "feature_dim": self.feature_dim, "steps": self.steps, "batch_size": self.batch_size,
            "eval_every": self.eval_every, "lr": self.lr, "text_columns": self.text_columns,
        }
        bad = [f"{name}={value}" for name, value in positive.items() if not value > 0]
        if not self.widths or min(self.widths) < 1:
            bad.append(f"widths={self.widths}")
        if self.weight_decay < 0 or self.warmup_steps < 0 or self.max_shift < 0:
            bad.append("weight_decay, warmup_steps and max_shift must be >= 0")
        if bad:
            raise ConfigError(f"classifier config: invalid {'; '.join(bad)}; fix these settings")


class _ConvNet(nn.Module):
    """The shared front: check and normalise uint8 input, then conv stages (conv-BN-ReLU x2 + max-pool)."""

    def __init__(
        self,
        config: ClassifierConfig,
        image_shape: Sequence[int],
        pixel_mean: Sequence[float],
        pixel_std: Sequence[float],
    ) -> None:
        super().__init__()
        height, width, channels = (int(v) for v in image_shape)
        smallest = 2 ** len(config.widths)
        if min(height, width) < smallest:
            raise ConfigError(
                f"images of {height}x{width} are too small for {len(config.widths)} pooling stages "
                f"(need at least {smallest}x{smallest}); use fewer `widths`"
            )
        if not (len(pixel_mean) == len(pixel_std) == channels):
            raise ConfigError(f"pixel_mean/pixel_std need {channels} values, one per channel")
        self.config = config
        self.image_shape = (height, width, channels)
        # Not persistent: the checkpoint stores them as plain numbers in the network's spec.
        for name, values in (("pixel_mean", pixel_mean), ("pixel_std", pixel_std)):
            self.register_buffer(name, torch.tensor(values, dtype=torch.float32).view(1, -1, 1, 1), persistent=False)

        layers: list[nn.Module] = []
        in_channels = channels
        for out_channels in config.widths:
            layers += [_conv_bn_relu(in_channels, out_channels), _conv_bn_relu(out_channels, out_channels)]
            layers.append(nn.MaxPool2d(2))
            in_channels = out_channels
        self.trunk = nn.Sequential(*layers)

    def convolve(self, images: torch.Tensor) -> torch.Tensor:
        """Trunk feature maps of uint8 (N, C, H, W) images."""
        height, width, channels = self.image_shape
        if images.dtype != torch.uint8 or tuple(images.shape[1:]) != (channels, height, width):
            raise DataError(
                f"the {type(self).__name__} was trained on uint8 images of shape (C, H, W) = "
                f"{(channels, height, width)}, got {images.dtype} {tuple(images.shape[1:])}; "
                "use the network trained on this dataset"
            )
        return self.trunk((images.float() / 255 - self.pixel_mean) / self.pixel_std)

    def spec(self) -> dict[str, Any]:
        """Constructor arguments besides the config: what a checkpoint needs to rebuild the network."""
        return {
            "image_shape": list(self.image_shape),
            "pixel_mean": self.pixel_mean.flatten().tolist(),
            "pixel_std": self.pixel_std.flatten().tolist(),
        }


class ImageClassifier(_ConvNet):
    """Class logits (N, num_classes) from uint8 (N, C, H, W) images."""

    kind = "classifier"

    def __init__(
        self,
        config: ClassifierConfig,
        *,
        image_shape: Sequence[int],
        class_names: Sequence[str],
        pixel_mean: Sequence[float],
        pixel_std: Sequence[float],
    ) -> None:
        super().__init__(config, image_shape, pixel_mean, pixel_std)
        if len(class_names) < 2:
            raise ConfigError(f"a classifier needs at least 2 classes, got {list(class_names)}")
        self.class_names = [str(name) for name in class_names]
        self.embed = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
            nn.Linear(config.widths[-1], config.feature_dim),
            nn.ReLU(inplace=True),
        )
        self.head = nn.Linear(config.feature_dim, len(self.class_names))

    @property
    def num_features(self) -> int:
        return self.config.feature_dim

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (N, feature_dim) of uint8 (N, C, H, W) images."""
        return self.embed(self.convolve(images))

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(images))

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "class_names": self.class_names}


class ColumnPool(nn.Module):
    """(N, C, H, W) -> (N, C, columns): the means of ``nn.AdaptiveAvgPool2d((1, columns))``, with a
    backward that is deterministic on CUDA (the adaptive pooling's scatters with atomic adds).

    Each output column averages the input columns floor(i W / columns) to ceil((i + 1) W / columns),
    as adaptive pooling does: a mean over the height, then a product with a fixed averaging matrix.
    """

    def __init__(self, columns: int) -> None:
        super().__init__()
        self.columns = int(columns)

    def forward(self, maps: torch.Tensor) -> torch.Tensor:
        width = maps.shape[-1]
        rows = maps.mean(dim=2)  # (N, C, W)
        if width == self.columns:
            return rows
        return rows @ _averaging_matrix(width, self.columns, rows.dtype, rows.device)  # (N, C, W) @ (W, columns)


@functools.lru_cache(maxsize=8)
def _averaging_matrix(width: int, columns: int, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """(width, columns): column i averages the inputs floor(i W / columns) .. ceil((i + 1) W / columns) - 1.

    Built in float64 and kept in the dtype and on the device it is used with, so a forward pass
    neither converts it nor copies it to the GPU.
    """
    start = torch.arange(columns) * width // columns
    end = -(-(torch.arange(1, columns + 1) * width) // columns)  # ceil
    index = torch.arange(width).unsqueeze(1)
    return (((index >= start) & (index < end)).double() / (end - start).double()).to(device=device, dtype=dtype)


class TextRecognizer(_ConvNet):
    """Per-position character logits (N, text_length, len(alphabet)) from uint8 (N, C, H, W) images.

    The trunk's maps are averaged over their height into ``text_columns`` column features, each mixed
    with its neighbours. For every character position a learned attention over the columns (content
    plus a learned column embedding) pools that character's slot, and one classifier shared by all
    positions reads each slot, so every character is learnt from the examples of all positions. A
    separate linear head per position over the flattened maps overfitted small CAPTCHA sets (synthetic
    5-character CAPTCHAs, 850 training images: 69% against 100% of validation strings read right).
    """

    kind = "recognizer"

    def __init__(
        self,
        config: ClassifierConfig,
        *,
        image_shape: Sequence[int],
        alphabet: str,
        text_length: int,
        pixel_mean: Sequence[float],
        pixel_std: Sequence[float],
    ) -> None:
        super().__init__(config, image_shape, pixel_mean, pixel_std)
        if len(alphabet) < 2 or len(set(alphabet)) != len(alphabet):
            raise ConfigError(f"the alphabet {alphabet!r} must hold at least 2 distinct characters, each once")
        if text_length < 1:
            raise ConfigError(f"text_length must be at least 1, got {text_length}")
        self.alphabet = alphabet
        self.text_length = int(text_length)
        width = config.feature_dim
        self.columns = nn.Sequential(
            ColumnPool(config.text_columns),
            nn.Flatten(2),  # (N, C, columns)
            nn.Conv1d(config.widths[-1], width, kernel_size=5, padding=2, bias=False),
            nn.BatchNorm1d(width),
            nn.ReLU(inplace=True),
        )
        self.column_embedding = nn.Parameter(torch.zeros(1, width, config.text_columns))
        self.attend = nn.Conv1d(width, self.text_length, kernel_size=1)  # per position: a score per column
        self.head = nn.Linear(width, len(alphabet))

    @property
    def num_features(self) -> int:
        return self.text_length * self.config.feature_dim

    def slots(self, images: torch.Tensor) -> torch.Tensor:
        """(N, text_length, feature_dim): each position's attention-pooled column features."""
        columns = self.columns(self.convolve(images))
        weights = self.attend(columns + self.column_embedding).softmax(dim=-1)  # (N, text_length, columns)
        return weights @ columns.transpose(1, 2)

    def features(self, images: torch.Tensor) -> torch.Tensor:
        """Penultimate activations (N, text_length * feature_dim): the slots, concatenated."""
        return self.slots(images).flatten(1)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.head(self.slots(images))

    def encode(self, texts: np.ndarray) -> np.ndarray:
        """Strings -> int64 (N, text_length) alphabet indices; raises on a wrong length or character."""
        lookup = {char: index for index, char in enumerate(self.alphabet)}
        encoded = np.empty((len(texts), self.text_length), dtype=np.int64)
        for row, text in enumerate(texts):
            text = str(text)
            if len(text) != self.text_length or not set(text) <= lookup.keys():
                raise DataError(
                    f"text {row} {text!r}: the recognizer reads {self.text_length} characters of "
                    f"{self.alphabet!r}; check the labels or train a recognizer on this alphabet and length"
                )
            encoded[row] = [lookup[char] for char in text]
        return encoded

    def decode(self, indices: np.ndarray) -> np.ndarray:
        """int (N, text_length) alphabet indices -> unicode strings (N,)."""
        chars = np.array(list(self.alphabet))[indices]
        return np.array(["".join(row) for row in chars], dtype=f"<U{self.text_length}")

    def spec(self) -> dict[str, Any]:
        return {**super().spec(), "alphabet": self.alphabet, "text_length": self.text_length}


Judge = ImageClassifier | TextRecognizer
_KINDS: dict[str, type[ImageClassifier] | type[TextRecognizer]] = {
    ImageClassifier.kind: ImageClassifier, TextRecognizer.kind: TextRecognizer,
}


@torch.no_grad()
def predict(model: Judge, images: np.ndarray, *, batch_size: int, device: torch.device | str = "cpu") -> np.ndarray:
    """Class indices (int64 (N,)) from a classifier, strings (unicode (N,)) from a recognizer.

    Leaves ``model`` in eval mode on ``device``.
    """
    check_images(images, source="images to classify")
    model.eval().to(device)
    indices = torch.cat([model(batch).argmax(-1) for batch in image_batches(images, batch_size, device)])
    indices = indices.cpu().numpy()
    return model.decode(indices) if isinstance(model, TextRecognizer) else indices


def save_classifier(path: str | os.PathLike, model: Judge) -> None:
    """Write the weights, the full config and the network's spec to one file, atomically."""
    checkpoint = {
        "kind": model.kind,
        "config": dataclasses.asdict(model.config),
        "spec": model.spec(),
        "state_dict": {name: tensor.detach().cpu() for name, tensor in model.state_dict().items()},
    }
    with atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)


def load_classifier(path: str | os.PathLike) -> Judge:
    """Rebuild a network saved by :func:`save_classifier` (on the CPU, in eval mode)."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise DataError(f"{path}: no classifier checkpoint; train one with scripts/train_classifier.py") from None
    except Exception as exc:  # torch.load raises many types for a truncated or foreign file
        raise DataError(f"{path}: not a readable classifier checkpoint ({exc}); train the classifier again") from None
    try:
        model = _KINDS[checkpoint["kind"]](ClassifierConfig(**checkpoint["config"]), **checkpoint["spec"])
        model.load_state_dict(checkpoint["state_dict"])
    except (KeyError, TypeError, RuntimeError) as exc:
        raise DataError(
            f"{path}: not a checkpoint of this version's classifier ({type(exc).__name__}: {exc}); "
            "train the classifier again"
        ) from None
    return model.eval()


def _conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )
