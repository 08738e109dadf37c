"""FID and KID, split as in NVlabs/edm: reference statistics of the real images, computed once per dataset
and feature set and saved, then each sample set scored against a saved reference.

The arithmetic is torchmetrics': :class:`FrechetInceptionDistance` accumulates the real side when a
reference is made, and a saved reference is loaded back into its real-feature states when scoring.
A reference also keeps a seeded random subset of real features, because KID needs features, not moments.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import torch

from ddpm.errors import ConfigError, DataError, FeaturesUnavailableError, ReferenceMismatchError
from ddpm.evaluation.features import FeatureExtractor
from ddpm.images import check_images, image_batches
from ddpm.io import load_npz, save_npz


@dataclass(frozen=True)
class MetricConfig:
    """Settings of reference statistics and scores: the one home of their defaults."""

    batch_size: int = 250
    kid: bool = True  # KID runs the feature extractor over the samples a second time
    kid_reference_size: int = 2000  # real features a reference keeps for KID
    kid_subsets: int = 100
    kid_subset_size: int = 1000  # capped at the number of real and of generated features at hand
    seed: int = 0  # draws the reference's KID subset and KID's subsets

    def __post_init__(self) -> None:
        if self.batch_size < 1 or self.kid_subsets < 1 or min(self.kid_reference_size, self.kid_subset_size) < 2:
            raise ConfigError(
                f"metric config {self}: batch_size and kid_subsets must be >= 1, "
                "kid_reference_size and kid_subset_size >= 2"
            )


@dataclass(frozen=True)
class ReferenceStats:
    """Gaussian moments (float64) of one feature set on a dataset's real images.

    ``unavailable`` is empty when the features were computed, else the reason they could not be
    (e.g. no Inception weights offline); the arrays are then empty.
    """

    feature_set: str
    fingerprint: str
    image_shape: tuple[int, int, int]
    count: int
    mean: np.ndarray  # (D,)
    cov: np.ndarray  # (D, D), unbiased (N - 1), as torchmetrics computes it
    kid_features: np.ndarray  # float32 (M, D)
    unavailable: str = ""

    @property
    def available(self) -> bool:
        return not self.unavailable


@dataclass(frozen=True)
class SampleScores:
    """FID, and KID's mean and std over its subsets (None where KID was skipped)."""

    fid: float
    kid_mean: float | None = None
    kid_std: float | None = None
    kid_subset_size: int | None = None


def compute_reference(
    images: np.ndarray,
    extractor: FeatureExtractor,
    *,
    config: MetricConfig = MetricConfig(),
    device: torch.device | str = "cpu",
) -> ReferenceStats:
    """Moments of ``extractor``'s features on real uint8 (N, H, W, C) ``images``, plus KID features."""
    check_images(images, source="reference images")
    if len(images) < 2:
        raise DataError(f"reference statistics need at least 2 images, got {len(images)}")
    # Imported where used: torchmetrics loads all its domains (seconds), which a job that only
    # records an unavailable feature set does not need.
    from torchmetrics.image.fid import FrechetInceptionDistance  # noqa: PLC0415

    metric = FrechetInceptionDistance(feature=extractor).to(device)
    for batch in image_batches(images, config.batch_size, device):
        metric.update(batch, real=True)
    count = int(metric.real_features_num_samples)
    mean = metric.real_features_sum / count
    cov = (metric.real_features_cov_sum - count * torch.outer(mean, mean)) / (count - 1)

    rng = np.random.default_rng(config.seed)
    subset = np.sort(rng.choice(len(images), size=min(config.kid_reference_size, len(images)), replace=False))
    kid_features = torch.cat([extractor(batch) for batch in image_batches(images[subset], config.batch_size, device)])
    return ReferenceStats(
        feature_set=extractor.feature_set,
        fingerprint=extractor.fingerprint,
        image_shape=images.shape[1:],
        count=count,
        mean=mean.cpu().numpy(),
        cov=cov.cpu().numpy(),
        kid_features=kid_features.float().cpu().numpy(),
    )


def unavailable_reference(feature_set: str, reason: str, image_shape: tuple[int, int, int]) -> ReferenceStats:
    """A placeholder reference that records why a feature set could not be computed."""
    return ReferenceStats(
        feature_set=feature_set,
        fingerprint="",
        image_shape=tuple(image_shape),
        count=0,
        mean=np.zeros(0),
        cov=np.zeros((0, 0)),
        kid_features=np.zeros((0, 0), dtype=np.float32),
        unavailable=reason,
    )


def score_against_reference(
    images: np.ndarray,
    extractor: FeatureExtractor,
    reference: ReferenceStats,
    *,
    config: MetricConfig = MetricConfig(),
    device: torch.device | str = "cpu",
) -> SampleScores:
    """FID (and KID unless ``config.kid`` is False) of uint8 (N, H, W, C) ``images`` against ``reference``.

    Raises :class:`FeaturesUnavailableError` for an unavailable reference and
    :class:`ReferenceMismatchError` for one made with another extractor or image shape.
    """
    check_images(images, source="images to score")
    if len(images) < 2:
        raise DataError(f"FID needs at least 2 images, got {len(images)}")
    _check_compatible(reference, extractor, images.shape[1:])
    from torchmetrics.image.fid import FrechetInceptionDistance  # noqa: PLC0415 (see compute_reference)
    from torchmetrics.image.kid import KernelInceptionDistance  # noqa: PLC0415

    fid = FrechetInceptionDistance(feature=extractor).to(device)
    mean = torch.from_numpy(reference.mean).to(device)
    fid.real_features_sum = mean * reference.count
    fid.real_features_cov_sum = torch.from_numpy(reference.cov).to(device) * (reference.count - 1) + (
        reference.count * torch.outer(mean, mean)
    )
    fid.real_features_num_samples = torch.tensor(reference.count, device=device)

    subset_size = min(config.kid_subset_size, len(images), len(reference.kid_features))
    kid_metric = None
    if config.kid and subset_size >= 2:  # the unbiased MMD estimate needs pairs
        with warnings.catch_warnings():  # it warns that it keeps all features: known, and few here
            warnings.simplefilter("ignore", UserWarning)
            kid_metric = KernelInceptionDistance(
                feature=extractor, subsets=config.kid_subsets, subset_size=subset_size
            ).to(device)
        kid_metric.real_features = [torch.from_numpy(reference.kid_features).to(device)]

    for batch in image_batches(images, config.batch_size, device):
        fid.update(batch, real=False)
        if kid_metric is not None:
            kid_metric.update(batch, real=False)
    scores = SampleScores(fid=float(fid.compute()))
    if kid_metric is None:
        return scores
    with torch.random.fork_rng(devices=[]):  # KID draws its subsets from the global CPU generator
        torch.manual_seed(config.seed)
        kid_mean, kid_std = kid_metric.compute()
    return SampleScores(scores.fid, float(kid_mean), float(kid_std), subset_size)


def save_reference(path: str | os.PathLike, stats: ReferenceStats) -> None:
    """Write ``stats`` as one ``.npz`` file (atomically); strings are 0-d unicode arrays."""
    save_npz(
        path,
        feature_set=np.array(stats.feature_set),
        fingerprint=np.array(stats.fingerprint),
        unavailable=np.array(stats.unavailable),
        image_shape=np.array(stats.image_shape, dtype=np.int64),
        count=np.array(stats.count, dtype=np.int64),
        mean=stats.mean.astype(np.float64),
        cov=stats.cov.astype(np.float64),
        kid_features=stats.kid_features.astype(np.float32),
    )


def load_reference(path: str | os.PathLike) -> ReferenceStats:
    """Read a file written by :func:`save_reference`."""
    arrays = load_npz(path)
    try:
        stats = ReferenceStats(
            feature_set=str(arrays["feature_set"]),
            fingerprint=str(arrays["fingerprint"]),
            image_shape=tuple(int(v) for v in arrays["image_shape"]),
            count=int(arrays["count"]),
            mean=arrays["mean"],
            cov=arrays["cov"],
            kid_features=arrays["kid_features"],
            unavailable=str(arrays["unavailable"]),
        )
    except KeyError as exc:
        raise DataError(f"{path}: not a reference statistics file (no {exc} array); make it again") from None
    dim = len(stats.mean)
    if stats.available and (stats.cov.shape != (dim, dim) or stats.kid_features.shape[1:] != (dim,)):
        raise DataError(f"{path}: mean, covariance and KID features disagree in dimension; make it again")
    return stats


def _check_compatible(reference: ReferenceStats, extractor: FeatureExtractor, image_shape: tuple[int, ...]) -> None:
    if not reference.available:
        raise FeaturesUnavailableError(reference.unavailable)
    if (reference.feature_set, reference.fingerprint) != (extractor.feature_set, extractor.fingerprint):
        raise ReferenceMismatchError(
            f"the reference holds {reference.feature_set!r} features of extractor {reference.fingerprint}, "
            f"but the images are scored with {extractor.feature_set!r} features of {extractor.fingerprint}; "
            "recompute the reference with this extractor (scripts/fid_reference.py)"
        )
    if tuple(reference.image_shape) != tuple(image_shape) or len(reference.mean) != extractor.num_features:
        raise ReferenceMismatchError(
            f"the reference was computed on {tuple(reference.image_shape)} images with {len(reference.mean)}-d "
            f"features; the scored images are {tuple(image_shape)} with {extractor.num_features}-d features; "
            "use the reference of the dataset these images imitate"
        )
