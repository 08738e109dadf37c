"""Classifier-free guidance (Ho & Salimans 2022, Eq. 6).

    prediction = uncond + w * (cond - uncond)

w = 1 is the plain conditional model, w = 0 the unconditional one, w > 1 trades diversity for
fidelity to the condition. The conditional and null inputs run as one batch of twice the size.
The combination is linear, so it is valid for eps, x0 and v predictions alike.
"""

from __future__ import annotations

from typing import Callable

import torch
from torch import nn

Predictor = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def guided_predictor(model: nn.Module, cond: torch.Tensor | None, guidance_scale: float = 1.0) -> Predictor:
    """Wrap ``model(x, t, cond)`` into ``predict(x, t)`` with the condition and guidance applied."""
    if cond is None:
        if guidance_scale != 1.0:
            raise ValueError("guidance needs a condition; unconditional models sample with guidance_scale 1")
        return lambda x, t: model(x, t)
    if guidance_scale == 1.0:
        return lambda x, t: model(x, t, cond)
    null = model.null_condition(cond)
    both = torch.cat([cond, null])

    def predict(x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out_cond, out_null = model(torch.cat([x, x]), torch.cat([t, t]), both).chunk(2)
        return out_null + guidance_scale * (out_cond - out_null)

    return predict
