"""Shared plumbing for the thin command-line programs in ``scripts/``."""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from ddpm.errors import DdpmError

if TYPE_CHECKING:
    import numpy as np
    import torch

    from ddpm.config import SamplingConfig
    from ddpm.training.checkpoint import LoadedModel


def run(main: Callable[[], None]) -> None:
    """Run a script's ``main``: a :class:`DdpmError` becomes ``error: ...`` on stderr and a non-zero exit (2 unless the error says otherwise)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        main()
    except DdpmError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(getattr(exc, "exit_code", 2))


def paired(parser: argparse.ArgumentParser, inputs: list, outputs: list, input_flag: str) -> list[tuple]:
    """Repeated ``input_flag``/``--out`` arguments as (input, output) pairs; a count that differs is
    a usage error (exit 2) naming both."""
    if len(inputs) != len(outputs):
        parser.error(f"give one --out per {input_flag}: {len(inputs)} {input_flag}, {len(outputs)} --out")
    return list(zip(inputs, outputs))


@dataclass
class SamplingJob:
    """What every sampling program starts from: the model on its device, the sampling settings, and
    the held-out test labels (text models draw strings from them)."""

    loaded: "LoadedModel"
    config: "SamplingConfig"
    device: "torch.device"
    test_labels: "np.ndarray | None"


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of every program that runs a trained model: its checkpoint and the device."""
    parser.add_argument("--checkpoint", required=True, type=Path, help="model checkpoint (model.pt)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")


def load_model(args: argparse.Namespace) -> "tuple[LoadedModel, torch.device]":
    """The checkpoint named by :func:`add_model_arguments`, loaded onto its device."""
    from ddpm.runtime import resolve_device
    from ddpm.training import load_model_checkpoint

    device = resolve_device(args.device)
    return load_model_checkpoint(args.checkpoint, device), device


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments shared by the programs that sample a trained model."""
    add_model_arguments(parser)
    parser.add_argument("--sampling", default="{}", help="sampling settings as JSON (num_images, seed_start, guidance_scale, ...)")
    parser.add_argument("--test", type=Path, help="prepared test split: held-out strings for random_texts")


def load_for_sampling(args: argparse.Namespace) -> SamplingJob:
    """Load the checkpoint, settings and test labels named by :func:`add_sampling_arguments`."""
    import json

    from ddpm.config import SamplingConfig, from_dict
    from ddpm.data import load_split

    loaded, device = load_model(args)
    config = from_dict(SamplingConfig, json.loads(args.sampling), "sampling")
    test_labels = load_split(args.test).labels if args.test else None
    return SamplingJob(loaded, config, device, test_labels)
