"""Per-image random streams: one ``torch.Generator`` per image seed (as in NVlabs/edm).

Image i's initial noise and every noise it receives along the chain come from its own generator,
so an image depends only on its seed and the sampler settings, not on the batch it was drawn in.
Step noise is drawn ``CHUNK`` steps at a time per generator, which keeps the number of generator
calls (each a kernel launch) small; the chunk size is a constant, so the stream is reproducible.
"""

from __future__ import annotations

from typing import Sequence

import torch

CHUNK = 16


class SeededNoise:
    def __init__(self, seeds: Sequence[int], shape: Sequence[int], device: torch.device | str, dtype: torch.dtype = torch.float32):
        self.shape = tuple(shape)
        self.device = torch.device(device)
        self.dtype = dtype
        self.generators = [torch.Generator(self.device).manual_seed(int(seed)) for seed in seeds]
        self._buffer: torch.Tensor | None = None
        self._used = CHUNK

    def __len__(self) -> int:
        return len(self.generators)

    def _draw(self, *leading: int) -> torch.Tensor:
        return torch.stack(
            [torch.randn(*leading, *self.shape, generator=g, device=self.device, dtype=self.dtype) for g in self.generators]
        )

    def initial(self) -> torch.Tensor:
        """x_T: (B, *shape), the first draw of every stream."""
        return self._draw()

    def gaussian(self) -> torch.Tensor:
        """The next N(0, I) noise of every stream: (B, *shape)."""
        if self._used == CHUNK:
            self._buffer = self._draw(CHUNK)
            self._used = 0
        out = self._buffer[:, self._used]
        self._used += 1
        return out

    def uniform(self) -> torch.Tensor:
        """U[0, 1) noise of every stream, (B, *shape) (the toy diffusion starts from uniform noise)."""
        return torch.stack([torch.rand(*self.shape, generator=g, device=self.device, dtype=self.dtype) for g in self.generators])
