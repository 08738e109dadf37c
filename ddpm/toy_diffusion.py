"""The Diffusion Playground's "toy" diffusion: learn to undo a random amount of noise in one go.

Corruption mixes an image with uniform noise over the data range, x_c = (1 - a) x + a u with
a ~ U[0, 1] per image and u ~ U[-1, 1]; the network sees only x_c and predicts x directly, with a
plain mean squared error. Its sampler (:func:`ddpm.samplers.toy.toy_sample`) walks from pure noise
to an image in N small moves towards the network's prediction. It is not a DDPM (there is no
variance-preserving forward process), which is what makes it a useful baseline to compare with.
"""

from __future__ import annotations

from typing import Callable

import torch


def corrupt(x0: torch.Tensor, amount: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Mix each image with ``noise`` in proportion ``amount`` (shape (B,), values in [0, 1])."""
    a = amount.view(-1, *([1] * (x0.dim() - 1))).to(x0.dtype)
    return x0 * (1.0 - a) + noise * a


class ToyDiffusion:
    """Training objective of the toy diffusion (the interface the trainer shares with GaussianDiffusion)."""

    def training_losses(
        self, model: Callable[[torch.Tensor], torch.Tensor], x0: torch.Tensor, amount: torch.Tensor, noise: torch.Tensor
    ) -> torch.Tensor:
        prediction = model(corrupt(x0, amount, noise))
        return (prediction.float() - x0.float()).square().mean(dim=tuple(range(1, x0.dim())))

    def draw_training_randomness(
        self, batch_size: int, shape: tuple[int, ...], device: torch.device, generator: torch.Generator | None = None
    ) -> dict[str, torch.Tensor]:
        """Amounts ~ U[0, 1] and noise ~ U[-1, 1] for a batch; keys match training_losses."""
        amount = torch.rand(batch_size, generator=generator, device=device)
        noise = torch.rand((batch_size, *shape), generator=generator, device=device) * 2.0 - 1.0
        return {"amount": amount, "noise": noise}

    def loss(self, model, x0: torch.Tensor, generator: torch.Generator | None = None, **model_kwargs) -> torch.Tensor:
        if model_kwargs.get("cond") is not None:
            raise ValueError("the toy diffusion is unconditional")
        draws = self.draw_training_randomness(x0.shape[0], tuple(x0.shape[1:]), x0.device, generator)
        return self.training_losses(model, x0, **draws)
