"""The three things a denoiser can predict, and exact conversions between them.

Given x_t = a x_0 + s eps with a = sqrt(abar_t) and s = sqrt(1 - abar_t) (so a^2 + s^2 = 1):

* ``eps``: the noise eps (Ho et al. 2020, Eq. 11);
* ``x0``: the clean sample x_0;
* ``v``: the velocity v = a eps - s x_0 (Salimans & Ho 2022, Sec. 4).

Each of x_0, eps and v is a linear function of (x_t, prediction), so every sampler can work with a
model trained on any target. ``a`` and ``s`` are tensors broadcastable to x_t (or floats).
"""

from __future__ import annotations

from enum import Enum

import torch

from ddpm.errors import ConfigError


class Target(str, Enum):
    EPS = "eps"
    X0 = "x0"
    V = "v"

    @classmethod
    def parse(cls, value: "str | Target") -> "Target":
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(f"unknown prediction target {value!r}; use one of eps, x0, v") from None


def x0_from_eps(x_t: torch.Tensor, eps: torch.Tensor, a, s) -> torch.Tensor:
    """Ho et al. 2020, Eq. 15: x_0 = (x_t - s eps) / a."""
    return (x_t - s * eps) / a


def eps_from_x0(x_t: torch.Tensor, x0: torch.Tensor, a, s) -> torch.Tensor:
    return (x_t - a * x0) / s


def v_from_x0_eps(x0: torch.Tensor, eps: torch.Tensor, a, s) -> torch.Tensor:
    return a * eps - s * x0


def x0_from_v(x_t: torch.Tensor, v: torch.Tensor, a, s) -> torch.Tensor:
    """a x_t - s v = a^2 x_0 + a s eps - s a eps + s^2 x_0 = x_0."""
    return a * x_t - s * v


def eps_from_v(x_t: torch.Tensor, v: torch.Tensor, a, s) -> torch.Tensor:
    """s x_t + a v = s a x_0 + s^2 eps + a^2 eps - a s x_0 = eps."""
    return s * x_t + a * v


def target_value(target: Target, x0: torch.Tensor, eps: torch.Tensor, a, s) -> torch.Tensor:
    """The regression target of a model trained to predict ``target``."""
    if target is Target.EPS:
        return eps
    if target is Target.X0:
        return x0
    return v_from_x0_eps(x0, eps, a, s)


def split_prediction(
    target: Target, prediction: torch.Tensor, x_t: torch.Tensor, a, s
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return (x0, eps) implied by a model's ``prediction`` of ``target`` at x_t."""
    if target is Target.EPS:
        return x0_from_eps(x_t, prediction, a, s), prediction
    if target is Target.X0:
        return prediction, eps_from_x0(x_t, prediction, a, s)
    return x0_from_v(x_t, prediction, a, s), eps_from_v(x_t, prediction, a, s)
