"""Feature extractors: the classifier's penultimate layer, and Inception-v3 only from weights on disk."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch
from torchmetrics.image.fid import FrechetInceptionDistance

from ddpm.errors import ConfigError, FeaturesUnavailableError
from ddpm.evaluation.classifier import ClassifierConfig, ImageClassifier, save_classifier
from ddpm.evaluation.features import (
    INCEPTION_WEIGHTS_ENV,
    ClassifierFeatures,
    InceptionFeatures,
    build_extractor,
    inception_available,
)


@pytest.fixture
def classifier_checkpoint(tmp_path):
    model = ImageClassifier(
        ClassifierConfig(widths=(4, 8), feature_dim=16), image_shape=(8, 8, 1), class_names="abc",
        pixel_mean=[0.3], pixel_std=[0.2],
    )
    save_classifier(tmp_path / "judge.pt", model)
    return tmp_path / "judge.pt"


def test_classifier_features_feed_torchmetrics_fid(classifier_checkpoint) -> None:
    extractor = build_extractor("classifier", classifier_path=classifier_checkpoint)
    digest = hashlib.sha256(classifier_checkpoint.read_bytes()).hexdigest()
    assert extractor.feature_set == "classifier" and extractor.fingerprint == f"sha256:{digest}"
    assert extractor.num_features == 16
    images = torch.randint(0, 256, (10, 1, 8, 8), dtype=torch.uint8)
    assert extractor(images).shape == (10, 16) and extractor(images).dtype == torch.float32
    extractor.train()
    assert not extractor.training and not extractor.model.training  # batch norm keeps its running statistics

    fid = FrechetInceptionDistance(feature=extractor, normalize=False)
    fid.update(images, real=True)
    fid.update(torch.randint(0, 128, (10, 1, 8, 8), dtype=torch.uint8), real=False)
    assert torch.isfinite(fid.compute())


def test_inception_unavailable_offline_without_weights(offline) -> None:
    available, reason = inception_available()
    assert not available
    assert "no Inception weights" in reason and str(offline / "hub" / "checkpoints") in reason
    with pytest.raises(FeaturesUnavailableError, match="nothing is downloaded"):
        build_extractor("inception")


def test_inception_weights_path_from_argument_or_environment(offline, monkeypatch) -> None:
    missing = offline / "missing.pth"
    assert inception_available(missing) == (False, f"no Inception weights file at {missing}")
    monkeypatch.setenv(INCEPTION_WEIGHTS_ENV, str(offline / "env.pth"))
    assert not inception_available()[0]
    (offline / "env.pth").write_bytes(b"not weights")
    assert inception_available() == (True, str(offline / "env.pth"))
    with pytest.raises(FeaturesUnavailableError, match="could not be loaded"):
        InceptionFeatures()


def test_inception_features_from_weights_on_disk(offline) -> None:
    """Random weights in the layout of the FID Inception file: grey images become 2048-d features."""
    torchvision = pytest.importorskip("torchvision")
    network = torchvision.models.inception_v3(weights=None, aux_logits=False, num_classes=1008, init_weights=False)
    cache = offline / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    torch.save(network.state_dict(), cache / "pt_inception-2015-12-05-6726825d.pth")

    extractor = build_extractor("inception")
    assert extractor.feature_set == "inception" and extractor.fingerprint.startswith("sha256:")
    grey = torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)
    features = extractor(grey)
    assert features.shape == (2, 2048)
    assert torch.equal(features, extractor(grey.expand(-1, 3, -1, -1)))


def test_unknown_feature_set_and_missing_classifier_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown feature set 'vgg'"):
        build_extractor("vgg")
    with pytest.raises(ConfigError, match="needs a classifier checkpoint"):
        build_extractor("classifier")


def test_classifier_features_refuse_images_of_another_shape(classifier_checkpoint) -> None:
    extractor = ClassifierFeatures.from_checkpoint(classifier_checkpoint)
    with pytest.raises(Exception, match="trained on uint8 images of shape"):
        extractor(torch.zeros(2, 3, 8, 8, dtype=torch.uint8))
    assert np.isfinite(extractor(torch.zeros(2, 1, 8, 8, dtype=torch.uint8)).numpy()).all()
