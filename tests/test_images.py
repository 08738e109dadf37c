"""ddpm.images: the uint8 NHWC check and the conversions to and from the networks' range."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from ddpm.errors import DataError
from ddpm.images import check_images, from_model_range, image_batches, images_to_tensor, to_model_range


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((2, 4, 4, 1), dtype=np.float32), "must be a uint8 array of shape"),
        (np.zeros((4, 4, 1), dtype=np.uint8), "must be a uint8 array of shape"),
        ([[0]], "must be a uint8 array of shape"),
        (np.zeros((2, 1, 4, 4), dtype=np.uint8), "4 channels in the last axis"),
        (np.zeros((0, 4, 4, 3), dtype=np.uint8), "holds no images"),
    ],
)
def test_check_images_names_source_problem_and_fix(images, message):
    with pytest.raises(DataError, match=message) as error:
        check_images(images, "a.npz", fix="write it again")
    assert str(error.value).startswith("a.npz: ") and str(error.value).endswith("; write it again")


def test_check_images_accepts_grey_and_rgb():
    check_images(np.zeros((1, 2, 3, 1), dtype=np.uint8), "grey")
    check_images(np.zeros((1, 2, 3, 3), dtype=np.uint8), "rgb")


def test_model_range_reference_values_and_round_trip():
    pixels = np.array([0, 1, 127, 128, 254, 255], dtype=np.uint8).reshape(1, 1, 6, 1)
    x = to_model_range(images_to_tensor(pixels, "cpu"))
    assert x.dtype == torch.float32 and x.shape == (1, 1, 1, 6)
    expected = torch.tensor([-1.0, -1 + 2 / 255, -1 + 254 / 255, -1 + 256 / 255, 1 - 2 / 255, 1.0])
    torch.testing.assert_close(x.flatten(), expected)
    back = from_model_range(x)
    assert back.dtype == torch.uint8 and np.array_equal(back.numpy(), pixels)
    # Out of range values clamp; halfway values round to the nearest pixel.
    out = from_model_range(torch.tensor([-3.0, 3.0, -1 + 0.6 / 127.5]).view(1, 1, 1, 3)).flatten().tolist()
    assert out == [0, 255, 1]


def test_tensor_views_are_channels_last_nchw():
    images = np.arange(2 * 3 * 4 * 3, dtype=np.uint8).reshape(2, 3, 4, 3)
    tensor = images_to_tensor(images, "cpu")
    assert tensor.shape == (2, 3, 3, 4) and tensor.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(tensor[1, 2], torch.from_numpy(images[1, :, :, 2]))
    batches = list(image_batches(images, 1, "cpu"))
    assert [b.shape for b in batches] == [(1, 3, 3, 4)] * 2 and torch.equal(torch.cat(batches), tensor)
