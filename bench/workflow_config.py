"""The workflow's config as the benchmarks read it: an experiment's section and its model.

Data flows one way here too: the benchmark reads config/config.yaml (or the file it is given) and
hands the package dataclasses, as the workflow's scripts do.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from ddpm.config import ModelConfig, from_dict

DEFAULT_CONFIG = Path(__file__).resolve().parents[1] / "config" / "config.yaml"
UNET_EXPERIMENT = "cifar10_ddpm"  # the experiment whose U-Net the speed benchmarks measure (Ho et al.'s CIFAR-10 U-Net)
UNET_IMAGE_SHAPE = (3, 32, 32)  # its data's images (CIFAR-10's), as (channels, height, width)


def experiment_section(config_path: Path, experiment: str) -> dict:
    """``experiments.<experiment>`` of the config; a missing one stops the benchmark naming those there are."""
    experiments = yaml.safe_load(config_path.read_text()).get("experiments", {})
    if experiment not in experiments:
        raise SystemExit(f"error: {config_path} has no experiment {experiment!r}; it has: {', '.join(experiments)}")
    return experiments[experiment]


def model_where(config_path: Path, experiment: str) -> str:
    return f"{config_path}: experiments.{experiment}.model"


def experiment_model(config_path: Path, experiment: str) -> ModelConfig:
    """The experiment's ``model`` section as the ModelConfig the trainer builds from."""
    return from_dict(ModelConfig, experiment_section(config_path, experiment).get("model"), model_where(config_path, experiment))
