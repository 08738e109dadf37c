"""Every metric of one sample set: FID/KID per reference feature set and, for labelled samples, accuracy.

A feature set whose features cannot be computed offline is reported as null with the reason, so one
missing Inception file never costs the rest of the evaluation.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import torch

from ddpm.errors import ConfigError, FeaturesUnavailableError
from ddpm.evaluation.classifier import load_classifier
from ddpm.evaluation.conditional import conditional_accuracy
from ddpm.evaluation.features import build_extractor
from ddpm.evaluation.fid import MetricConfig, ReferenceStats, score_against_reference
from ddpm.images import check_images


class SampleScorer:
    """Scores sample sets against ``references``; each network (feature extractor, judge) is loaded
    once, on first use, and serves every set scored after it (all sets of a model in one job)."""

    def __init__(
        self,
        references: Sequence[ReferenceStats],
        *,
        classifier_path: str | os.PathLike | None = None,
        inception_weights: str | os.PathLike | None = None,
        config: MetricConfig = MetricConfig(),
        device: torch.device | str = "cpu",
    ):
        feature_sets = [reference.feature_set for reference in references]
        if len(set(feature_sets)) != len(feature_sets):
            raise ConfigError(f"one reference per feature set, got {feature_sets}")
        self.references = list(references)
        self.classifier_path = classifier_path
        self.inception_weights = inception_weights
        self.config = config
        self.device = device
        self._extractors: dict[str, Any] = {}
        self._judge: torch.nn.Module | None = None

    def _extractor(self, feature_set: str):
        if feature_set not in self._extractors:
            self._extractors[feature_set] = build_extractor(
                feature_set, classifier_path=self.classifier_path, inception_weights=self.inception_weights
            )
        return self._extractors[feature_set]

    def _classifier(self) -> torch.nn.Module:
        if self.classifier_path is None:
            raise ConfigError("the samples carry requested labels; scoring them needs a classifier (--classifier)")
        if self._judge is None:
            self._judge = load_classifier(self.classifier_path)
        return self._judge

    def score(self, images: np.ndarray, labels: np.ndarray | None) -> dict[str, Any]:
        """Metrics of uint8 (N, H, W, C) ``images`` (requested ``labels`` for conditional samples).

        Returns ``{"num_images", "image_shape", "fid": {set: float | None}, "fid_unavailable": {set: reason},
        "kid": {set: {"mean", "std", "subset_size", "subsets"} | None}, "conditional": dict | None}``.
        """
        check_images(images, source="samples")
        metrics: dict[str, Any] = {
            "num_images": len(images),
            "image_shape": list(images.shape[1:]),
            "fid": {},
            "fid_unavailable": {},
            "kid": {},
            "conditional": None,
        }
        for reference in self.references:
            name = reference.feature_set
            try:
                if not reference.available:
                    raise FeaturesUnavailableError(reference.unavailable)
                scores = score_against_reference(
                    images, self._extractor(name), reference, config=self.config, device=self.device
                )
            except FeaturesUnavailableError as exc:
                metrics["fid"][name] = metrics["kid"][name] = None
                metrics["fid_unavailable"][name] = f"unavailable: {exc}"
                continue
            metrics["fid"][name] = scores.fid
            metrics["kid"][name] = None if scores.kid_mean is None else {
                "mean": scores.kid_mean,
                "std": scores.kid_std,
                "subset_size": scores.kid_subset_size,
                "subsets": self.config.kid_subsets,
            }
        if labels is not None:
            metrics["conditional"] = conditional_accuracy(
                self._classifier(), images, labels, batch_size=self.config.batch_size, device=self.device
            )
        return metrics


def evaluate_sample_set(
    images: np.ndarray,
    labels: np.ndarray | None,
    references: Sequence[ReferenceStats],
    **settings: Any,
) -> dict[str, Any]:
    """Metrics of one sample set (:meth:`SampleScorer.score`); ``settings`` are the scorer's keywords."""
    return SampleScorer(references, **settings).score(images, labels)
