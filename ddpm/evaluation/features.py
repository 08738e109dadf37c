"""Feature extractors for FID/KID: modules from uint8 (N, C, H, W) images to (N, D) float features.

That input is what torchmetrics' ``FrechetInceptionDistance(feature=<module>, normalize=False)``
feeds its feature module. Each extractor names its feature set and carries a fingerprint of its
weights, so reference statistics made with other weights are refused instead of silently compared.

Inception-v3 is used only when its weights are on disk: nothing here downloads (the machines are
offline), and a missing file raises :class:`FeaturesUnavailableError` whose message callers record.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch
from torch import nn

from ddpm.errors import ConfigError, FeaturesUnavailableError
from ddpm.evaluation.feature_sets import FEATURE_SETS
from ddpm.evaluation.classifier import Judge, load_classifier

INCEPTION_WEIGHTS_ENV = "DDPM_INCEPTION_WEIGHTS"
# The TensorFlow FID network (2015-12-05) converted to PyTorch, under pytorch-fid's and torch-fidelity's
# download names; torch-fidelity's Inception module loads either.
INCEPTION_WEIGHT_FILES = ("pt_inception-2015-12-05-6726825d.pth", "weights-inception-2015-12-05-6726825d.pth")


class FeatureExtractor(nn.Module):
    """Base: ``forward(uint8 (N, C, H, W)) -> (N, num_features)``; never leaves eval mode."""

    def __init__(self, feature_set: str, fingerprint: str, num_features: int) -> None:
        super().__init__()
        self.feature_set = feature_set
        self.fingerprint = fingerprint
        self.num_features = num_features  # torchmetrics reads this instead of probing with a dummy image

    def train(self, mode: bool = True) -> FeatureExtractor:
        # Batch norm must use its running statistics, never those of a batch of generated images.
        return super().train(False)


class ClassifierFeatures(FeatureExtractor):
    """Penultimate activations of a trained :mod:`classifier <ddpm.evaluation.classifier>` network."""

    def __init__(self, model: Judge, fingerprint: str) -> None:
        super().__init__("classifier", fingerprint, model.num_features)
        self.model = model.requires_grad_(False)
        self.eval()

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike) -> ClassifierFeatures:
        return cls(load_classifier(path), fingerprint=f"sha256:{file_sha256(path)}")

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.model.features(images).float()


class InceptionFeatures(FeatureExtractor):
    """The standard 2048-d FID features: torch-fidelity's Inception-v3 pool3 layer.

    torch-fidelity resizes to 299x299 with TF1-compatible bilinear interpolation, as the reference
    TensorFlow FID does; grey images are repeated to three channels first.
    """

    def __init__(self, weights_path: str | os.PathLike | None = None) -> None:
        path = find_inception_weights(weights_path)
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3

        try:  # an explicit path: torch-fidelity downloads only when it is given None
            network = FeatureExtractorInceptionV3(
                "inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path)
            )
        except Exception as exc:  # torch.load / load_state_dict raise many types for a wrong file
            raise FeaturesUnavailableError(
                f"Inception weights at {path} could not be loaded ({type(exc).__name__}: {exc}); "
                f"replace the file with {INCEPTION_WEIGHT_FILES[0]}"
            ) from None
        super().__init__("inception", f"sha256:{file_sha256(path)}", 2048)
        self.network = network
        self.eval()

    @torch.no_grad()
    def forward(self, images: torch.Tensor) -> torch.Tensor:
        if images.shape[1] == 1:
            images = images.expand(-1, 3, -1, -1)
        (features,) = self.network(images)
        return features


def find_inception_weights(weights_path: str | os.PathLike | None = None) -> Path:
    """The Inception weights file: ``weights_path``, else $DDPM_INCEPTION_WEIGHTS, else torch hub's cache.

    Raises :class:`FeaturesUnavailableError` saying where it looked; never downloads.
    """
    if weights_path is None and os.environ.get(INCEPTION_WEIGHTS_ENV):
        weights_path = os.environ[INCEPTION_WEIGHTS_ENV]
    if weights_path is not None:
        if Path(weights_path).is_file():
            return Path(weights_path)
        raise FeaturesUnavailableError(f"no Inception weights file at {weights_path}")
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    for name in INCEPTION_WEIGHT_FILES:
        if (cache / name).is_file():
            return cache / name
    raise FeaturesUnavailableError(
        f"no Inception weights ({' or '.join(INCEPTION_WEIGHT_FILES)}) in {cache} and "
        f"${INCEPTION_WEIGHTS_ENV} is not set; put the file there to get Inception FID (nothing is downloaded)"
    )


def inception_available(weights_path: str | os.PathLike | None = None) -> tuple[bool, str]:
    """``(True, path)`` when the Inception weights file is on disk, else ``(False, reason)``."""
    try:
        return True, str(find_inception_weights(weights_path))
    except FeaturesUnavailableError as exc:
        return False, str(exc)


def build_extractor(
    feature_set: str,
    *,
    classifier_path: str | os.PathLike | None = None,
    inception_weights: str | os.PathLike | None = None,
) -> FeatureExtractor:
    """The extractor of a feature set in :data:`FEATURE_SETS` (on the CPU; move it as needed)."""
    if feature_set == "classifier":
        if classifier_path is None:
            raise ConfigError("the 'classifier' feature set needs a classifier checkpoint (--classifier)")
        return ClassifierFeatures.from_checkpoint(classifier_path)
    if feature_set == "inception":
        return InceptionFeatures(inception_weights)
    raise ConfigError(f"unknown feature set {feature_set!r}; choose one of {FEATURE_SETS}")


def file_sha256(path: str | os.PathLike) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
