"""The workflow's config as the benchmarks read it: an experiment and the dataclasses of its sections.

Data flows one way here too: the benchmark reads config/config.yaml (or the file it is given) and
hands the package dataclasses, as the workflow's scripts do.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import yaml

from ddpm.config import from_dict

T = TypeVar("T")

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
UNET_EXPERIMENT = "cifar10_ddpm"  # the experiment whose U-Net the speed benchmarks measure (Ho et al.'s CIFAR-10 U-Net)
UNET_IMAGE_SHAPE = (3, 32, 32)  # its data's images (CIFAR-10's), as (channels, height, width)


@dataclass(frozen=True)
class Experiment:
    """``experiments.<name>`` of a workflow config, read once."""

    config_path: Path
    name: str
    section: dict

    def where(self, key: str) -> str:
        """Where a key of the experiment is written, for error messages."""
        return f"{self.config_path}: experiments.{self.name}.{key}"

    def read(self, key: str, cls: type[T]) -> T:
        """The experiment's ``key`` section as the dataclass the workflow builds from it (e.g. ModelConfig)."""
        return from_dict(cls, self.section.get(key), self.where(key))


def load_experiment(config_path: Path, name: str) -> Experiment:
    """An experiment of the config; a missing one stops the benchmark naming those there are."""
    experiments = yaml.safe_load(config_path.read_text()).get("experiments", {})
    if name not in experiments:
        raise SystemExit(f"error: {config_path} has no experiment {name!r}; it has: {', '.join(experiments)}")
    return Experiment(config_path, name, experiments[name])
