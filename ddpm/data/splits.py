"""Deterministic train / validation / test carving, seeded through ``np.random.default_rng``.

A split size is either a count (an integer >= 1) or a fraction (a number strictly between 0 and 1)
of the data set: of all its images, or, where there is an official test split, of the official
training images. Indices come back sorted, so every split keeps the source's order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ddpm.errors import ConfigError


def split_count(size: float, available: int, option: str, of: int | None = None) -> int:
    """Resolve a count-or-fraction ``size`` (a fraction of ``of``, by default of ``available``)
    to a count that leaves images on both sides."""
    if isinstance(size, bool) or not isinstance(size, (int, float)):
        raise ConfigError(f"{option} must be a count (integer >= 1) or a fraction in (0, 1), got {size!r}")
    if 0 < size < 1:
        count = round(size * (available if of is None else of))
    elif size >= 1 and float(size).is_integer():
        count = int(size)
    else:
        raise ConfigError(f"{option} must be a count (integer >= 1) or a fraction in (0, 1), got {size!r}")
    if not 0 < count < available:
        raise ConfigError(
            f"{option}={size!r} asks for {count} of {available} images; it must leave at least one on each side"
        )
    return count


def carve(
    available: int, size: float, rng: np.random.Generator, option: str, of: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Randomly pick ``size`` of ``available`` indices: (kept, carved), both sorted."""
    order = rng.permutation(available)
    count = split_count(size, available, option, of)
    return np.sort(order[count:]), np.sort(order[:count])


def hold_out_texts(
    texts: Sequence[str], size: float, rng: np.random.Generator, option: str
) -> tuple[np.ndarray, np.ndarray]:
    """Pick ``size`` distinct strings; return (indices of other images, indices of images of those)."""
    distinct = sorted(set(texts))
    _, held = carve(len(distinct), size, rng, option)
    held_texts = {distinct[i] for i in held}
    is_held = np.fromiter((text in held_texts for text in texts), dtype=bool, count=len(texts))
    return np.flatnonzero(~is_held), np.flatnonzero(is_held)


def carve_stratified(
    labels: np.ndarray, size: float, rng: np.random.Generator, option: str, of: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Like :func:`carve`, but every class gives its share of ``size``: (kept, carved), both sorted.

    The total is exactly the count :func:`split_count` resolves; each class gives that count's
    proportional share, rounded down, and the leftover units go to the classes with the largest
    remainders (ties: the smaller label).
    """
    labels = np.asarray(labels)
    count = split_count(size, len(labels), option, of)
    classes, members = np.unique(labels, return_counts=True)
    exact = count * members / len(labels)
    shares = np.floor(exact).astype(np.int64)
    leftover = count - int(shares.sum())
    shares[np.argsort(-(exact - shares), kind="stable")[:leftover]] += 1
    carved = [rng.permutation(np.flatnonzero(labels == c))[:share] for c, share in zip(classes, shares, strict=True)]
    chosen = np.zeros(len(labels), dtype=bool)
    chosen[np.concatenate(carved)] = True
    return np.flatnonzero(~chosen), np.flatnonzero(chosen)
