"""MNIST-style normalisation of variable-size digit images (Hoda)."""

from __future__ import annotations

import numpy as np
import pytest

from ddpm.data.normalise import digit_box, normalise_digit


def ink_box(image: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(image.any(axis=1)), np.flatnonzero(image.any(axis=0))
    return rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    weights = image.astype(np.float64)
    ys, xs = np.indices(image.shape)
    return (weights * ys).sum() / weights.sum(), (weights * xs).sum() / weights.sum()


def tall_stroke(height: int = 60, width: int = 15, margin: int = 5) -> np.ndarray:
    """A tall bar with a foot on the right: its centre of mass is off its box centre."""
    image = np.zeros((height + 2 * margin, width + 2 * margin), dtype=np.uint8)
    image[margin : margin + height, margin : margin + 4] = 255
    image[margin + height - 4 : margin + height, margin : margin + width] = 255
    return image


@pytest.mark.parametrize("size", [(28, 28), (32, 32), (28, 40)])
def test_fits_the_box_keeps_aspect_and_centres_mass(size):
    out = normalise_digit(tall_stroke(), size)
    assert out.shape == size and out.dtype == np.uint8
    box_h, box_w = digit_box(size)
    height, width = ink_box(out)
    assert height == box_h and width <= box_w  # the long side fills the box
    assert width / height == pytest.approx(15 / 60, abs=1.5 / box_h)  # aspect kept
    cy, cx = centre_of_mass(out)
    assert abs(cy - (size[0] - 1) / 2) <= 0.75 and abs(cx - (size[1] - 1) / 2) <= 0.75


def test_box_is_20_of_28():
    assert digit_box((28, 28)) == (20, 20)
    assert digit_box((56, 14)) == (40, 10)


def test_small_digit_is_enlarged_with_anti_aliasing():
    out = normalise_digit(tall_stroke(12, 6, 0), (28, 28))
    assert ink_box(out)[0] == 20
    assert len(np.unique(out)) > 2  # grey edges, not a binary image
    assert out.max() >= 250  # ink stays bright on a dark background
    assert out[0, 0] == 0


def test_blank_image_stays_blank():
    assert not normalise_digit(np.zeros((10, 7), dtype=np.uint8), (28, 28)).any()
