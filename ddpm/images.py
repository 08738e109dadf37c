"""The image contract: uint8 (N, H, W, C) arrays with C = 1 (grey) or 3 (RGB), ink bright.

Every image that crosses a file (prepared splits, samples, trajectories; docs/contracts.md) has this
form. Here are its check and its conversions to and from what the networks see: uint8 (N, C, H, W)
tensors on a device, and floats in [-1, 1].
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import numpy as np

from ddpm.errors import DataError

if TYPE_CHECKING:
    import torch
# The tensor conversions import torch where they run: the jobs that only check, plot or prepare
# images (most of a workflow's jobs) then start without it, in a fraction of the time.


def check_images(images: np.ndarray, source: str, *, fix: str = "") -> None:
    """Raise :class:`DataError` unless ``images`` is a non-empty uint8 (N, H, W, C) array, C = 1 or 3.

    ``source`` names where the images come from; ``fix``, if given, ends the message.
    """
    advice = f"; {fix}" if fix else ""
    if not isinstance(images, np.ndarray) or images.dtype != np.uint8 or images.ndim != 4:
        shape = getattr(images, "shape", None)
        dtype = getattr(images, "dtype", type(images).__name__)
        raise DataError(f"{source}: images must be a uint8 array of shape (N, H, W, C), got {dtype} {shape}{advice}")
    if images.shape[-1] not in (1, 3):
        raise DataError(
            f"{source}: images have {images.shape[-1]} channels in the last axis; expected 1 or 3 "
            f"(channels last, as docs/contracts.md specifies){advice}"
        )
    if len(images) == 0:
        raise DataError(f"{source}: holds no images{advice}")


def images_to_tensor(images: np.ndarray, device: torch.device | str) -> torch.Tensor:
    """uint8 (N, H, W, C) -> uint8 (N, C, H, W) on ``device`` (a channels-last view of the same memory)."""
    import torch

    check_images(images, "images")
    return torch.from_numpy(np.ascontiguousarray(images)).to(device).permute(0, 3, 1, 2)


def image_batches(images: np.ndarray, batch_size: int, device: torch.device | str) -> Iterator[torch.Tensor]:
    """Yield uint8 (B, C, H, W) tensors on ``device``.

    Each is a permuted view of NHWC memory, i.e. already channels-last, which is what convolutions on
    CUDA prefer; the host-to-device copies are asynchronous.
    """
    import torch

    for start in range(0, len(images), batch_size):
        batch = torch.from_numpy(np.ascontiguousarray(images[start : start + batch_size]))
        yield batch.to(device, non_blocking=True).permute(0, 3, 1, 2)


def to_model_range(images_uint8: torch.Tensor) -> torch.Tensor:
    """uint8 [0, 255] -> float32 [-1, 1]."""
    return images_uint8.float() / 127.5 - 1.0


def from_model_range(images: torch.Tensor) -> torch.Tensor:
    """float [-1, 1] (N, C, H, W) -> uint8 [0, 255] (N, H, W, C) on the CPU."""
    import torch

    return ((images.float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).cpu()
