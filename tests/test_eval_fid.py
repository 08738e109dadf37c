"""FID/KID against saved references: agreement with a scipy oracle, behaviour, refusals, file round trip."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.linalg
import torch

from ddpm.errors import DataError, FeaturesUnavailableError, ReferenceMismatchError
from ddpm.evaluation.features import FeatureExtractor
from ddpm.evaluation.fid import (
    MetricConfig,
    compute_reference,
    load_reference,
    save_reference,
    score_against_reference,
    unavailable_reference,
)

SMALL = MetricConfig(batch_size=64, kid_reference_size=100, kid_subsets=20, kid_subset_size=50)


class PixelFeatures(FeatureExtractor):
    """Features = the pixels themselves, scaled: makes the features of a test exactly known."""

    def __init__(self, num_pixels: int, fingerprint: str = "pixels-v1") -> None:
        super().__init__("pixels", fingerprint, num_pixels)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return images.flatten(1).float() / 32


def random_images(n: int, seed: int, offset: int = 0, shape: tuple[int, ...] = (2, 3, 1)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    mixing = rng.integers(0, 3, (n, *shape))  # correlated pixels: a full, non-diagonal covariance
    return (rng.integers(0, 120, (n, *shape)) + 20 * mixing + offset).astype(np.uint8)


def oracle_fid(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance of the two feature Gaussians, via scipy's matrix square root."""
    x, y = (a.reshape(len(a), -1).astype(np.float64) / 32 for a in (real, fake))
    mu_x, mu_y = x.mean(0), y.mean(0)
    cov_x, cov_y = np.cov(x, rowvar=False), np.cov(y, rowvar=False)
    covmean = scipy.linalg.sqrtm(cov_x @ cov_y).real
    return float(((mu_x - mu_y) ** 2).sum() + np.trace(cov_x + cov_y - 2 * covmean))


def test_fid_matches_scipy_oracle() -> None:
    real, fake = random_images(400, seed=0), random_images(300, seed=1, offset=15)
    reference = compute_reference(real, PixelFeatures(6), config=SMALL)
    no_kid = dataclasses.replace(SMALL, kid=False)
    scores = score_against_reference(fake, PixelFeatures(6), reference, config=no_kid)
    assert scores.fid == pytest.approx(oracle_fid(real, fake), rel=1e-5)
    assert scores.kid_mean is None


def test_reference_moments_are_mean_and_unbiased_covariance() -> None:
    real = random_images(200, seed=0)
    reference = compute_reference(real, PixelFeatures(6), config=SMALL)
    features = real.reshape(200, -1) / 32
    assert reference.count == 200 and reference.image_shape == (2, 3, 1)
    np.testing.assert_allclose(reference.mean, features.mean(0), rtol=1e-6)
    np.testing.assert_allclose(reference.cov, np.cov(features, rowvar=False), rtol=1e-6, atol=1e-9)
    assert reference.mean.dtype == reference.cov.dtype == np.float64
    assert reference.kid_features.shape == (100, 6)


def test_fid_of_a_set_against_itself_is_zero_and_grows_with_a_shift() -> None:
    real = random_images(300, seed=0)
    reference = compute_reference(real, PixelFeatures(6), config=SMALL)
    scores = [score_against_reference(real, PixelFeatures(6), reference, config=SMALL)]
    scores += [
        score_against_reference(random_images(300, seed=0, offset=shift), PixelFeatures(6), reference, config=SMALL)
        for shift in (10, 40)
    ]
    assert abs(scores[0].fid) < 1e-6
    assert scores[0].fid < scores[1].fid < scores[2].fid
    assert scores[0].kid_mean < scores[1].kid_mean < scores[2].kid_mean
    assert scores[0].kid_subset_size == 50


def test_kid_subset_shrinks_to_the_sample_count_and_is_seeded() -> None:
    reference = compute_reference(random_images(200, seed=0), PixelFeatures(6), config=SMALL)
    fake = random_images(12, seed=1, offset=20)
    first, second = (score_against_reference(fake, PixelFeatures(6), reference, config=SMALL) for _ in range(2))
    assert first.kid_subset_size == 12
    assert first == second


def test_reference_of_another_extractor_is_refused() -> None:
    reference = compute_reference(random_images(50, seed=0), PixelFeatures(6), config=SMALL)
    with pytest.raises(ReferenceMismatchError, match="recompute the reference"):
        score_against_reference(random_images(50, seed=1), PixelFeatures(6, "pixels-v2"), reference, config=SMALL)
    with pytest.raises(ReferenceMismatchError, match=r"\(3, 2, 1\)"):
        score_against_reference(random_images(50, seed=1, shape=(3, 2, 1)), PixelFeatures(6), reference)


def test_unavailable_reference_raises_its_reason() -> None:
    reference = unavailable_reference("pixels", "no weights here", (2, 3, 1))
    assert not reference.available
    with pytest.raises(FeaturesUnavailableError, match="no weights here"):
        score_against_reference(random_images(10, seed=0), PixelFeatures(6), reference)


def test_reference_file_round_trip(tmp_path) -> None:
    reference = compute_reference(random_images(120, seed=0), PixelFeatures(6), config=SMALL)
    save_reference(tmp_path / "ref.npz", reference)
    loaded = load_reference(tmp_path / "ref.npz")
    assert (loaded.feature_set, loaded.fingerprint, loaded.image_shape, loaded.count, loaded.unavailable) == (
        "pixels", "pixels-v1", (2, 3, 1), 120, "",
    )
    for name in ("mean", "cov", "kid_features"):
        assert np.array_equal(getattr(loaded, name), getattr(reference, name))

    save_reference(tmp_path / "none.npz", unavailable_reference("inception", "offline", (2, 3, 1)))
    assert load_reference(tmp_path / "none.npz").unavailable == "offline"


def test_bad_reference_files_raise_data_errors(tmp_path) -> None:
    with pytest.raises(DataError, match="no such file"):
        load_reference(tmp_path / "absent.npz")
    (tmp_path / "corrupt.npz").write_bytes(b"garbage")
    with pytest.raises(DataError, match="not a readable .npz file"):
        load_reference(tmp_path / "corrupt.npz")
    np.savez(tmp_path / "other.npz", mean=np.zeros(3))
    with pytest.raises(DataError, match="not a reference statistics file"):
        load_reference(tmp_path / "other.npz")
