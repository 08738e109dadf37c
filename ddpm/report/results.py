"""Reading one experiment's result files into plain records for figures and tables.

The files are the prepared data splits, the training log CSV, ``provenance.json``,
``test_loss.json``, the judge network's ``metrics.json``, and per sampler run the sample-info JSON
and the evaluation metrics JSON. A file that is missing or lacks a key raises a :class:`DataError`
naming the file and the rule that writes it; a value that the evaluation could not compute (FID without Inception weights) becomes
:class:`Unavailable`, so it is shown as such instead of failing the report.
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ddpm.errors import DataError


@dataclass(frozen=True)
class Unavailable:
    """A metric the evaluation could not compute, with its reason."""

    reason: str

    @property
    def short(self) -> str:
        return "n/a (weights unavailable)" if "weights" in self.reason.lower() else "n/a"


Metric = float | Unavailable | None  # None: not computed (e.g. no reference of that feature set)


@dataclass(frozen=True)
class KID:
    """Kernel inception distance: mean and std over ``subsets`` random subsets of ``subset_size`` images."""

    mean: float
    std: float
    subset_size: int | None
    subsets: int | None


@dataclass(frozen=True)
class SamplingSpeed:
    """What the sampling job measured on its device (absent keys: None). The rates are taken after
    warm-up, so they are the sampler's speed; start-up and compilation are reported apart."""

    images_per_second: float | None = None
    network_evaluations_per_second: float | None = None
    startup_seconds: float | None = None
    compile_seconds: float | None = None


@dataclass(frozen=True)
class TrainLog:
    steps: np.ndarray  # int64 (N,)
    train_loss: np.ndarray  # float64 (N,)
    val_loss: np.ndarray  # float64 (N,), NaN on rows without validation


@dataclass(frozen=True)
class RunResult:
    """One sampler run of one experiment: its settings, speed and scores."""

    experiment: str
    run: str
    sampler: str
    steps: int
    eta: float
    variance: str
    spacing: str
    guidance: float | None  # None for unconditional samples
    num_images: int | None  # images evaluated
    speed: SamplingSpeed
    fid: dict[str, Metric]  # feature set -> FID
    kid: dict[str, KID | Unavailable | None]  # feature set -> KID
    conditional: dict[str, Any] | None  # the metrics JSON's "conditional" block

    @property
    def series(self) -> str:
        """What distinguishes runs that differ only in their step count (a line in FID vs steps)."""
        return sampler_series(self.sampler, self.eta, self.variance, self.spacing)


# How the tables and figures name the samplers whose key is not their name.
SAMPLER_NAMES = {"dpmpp_2m": "DPM-Solver++(2M)", "heun": "Heun (EDM)", "toy": "toy"}


def sampler_series(sampler: str, eta: float = 0.0, variance: str = "small", spacing: str = "uniform") -> str:
    """A sampler family and the settings that change its results, whatever the step count:
    "DDIM, eta 0", "DDPM, small variance", or any other sampler by its name."""
    if sampler == "ddim":
        name = f"DDIM, eta {eta:g}"
    elif sampler == "ddpm":
        name = f"DDPM, {variance} variance"
    elif sampler in SAMPLER_NAMES:
        name = SAMPLER_NAMES[sampler]
    else:
        name = sampler
    return name if spacing == "uniform" or sampler == "toy" else f"{name}, {spacing} spacing"


@dataclass(frozen=True)
class ExperimentResult:
    name: str
    dataset: str
    parameters: int | None
    conditioning: str
    diffusion: dict[str, Any]  # the checkpoint's DiffusionConfig as a dict
    training_steps: int | None
    train_time_s: float | None
    images_per_s: float | None
    test_loss: float | None
    judge: dict[str, Any] | None  # the judge network's test accuracy block ("kind", accuracies)


def read_json_file(path: str | os.PathLike, fix: str) -> dict[str, Any]:
    """A JSON object from ``path``; ``fix`` says how to produce the file when it is missing."""
    try:
        with open(path) as f:
            data = json.load(f)
    except FileNotFoundError:
        raise DataError(f"{path}: no such file; {fix}") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc}); delete it and {fix}") from None
    if not isinstance(data, dict):
        raise DataError(f"{path}: expected a JSON object, got {type(data).__name__}; delete it and {fix}")
    return data


def read_train_log(path: str | os.PathLike) -> TrainLog:
    """The training log CSV (columns step, train_loss, val_loss, ...); empty val_loss cells become NaN."""
    fix = "run the training rule, which writes it"
    try:
        with open(path, newline="") as f:
            rows = list(csv.DictReader(f))
    except FileNotFoundError:
        raise DataError(f"{path}: no such training log; {fix}") from None
    missing = {"step", "train_loss", "val_loss"} - set(rows[0] if rows else ())
    if not rows or missing:
        raise DataError(f"{path}: expected rows with columns step, train_loss, val_loss (missing {sorted(missing) or 'rows'}); {fix}")
    try:
        return TrainLog(
            steps=np.array([int(row["step"]) for row in rows], dtype=np.int64),
            train_loss=np.array([float(row["train_loss"]) for row in rows]),
            val_loss=np.array([float(row["val_loss"]) if row["val_loss"] else math.nan for row in rows]),
        )
    except ValueError as exc:
        raise DataError(f"{path}: a row holds a non-number ({exc}); {fix}") from None


def read_run(metrics_path: str | os.PathLike, info_path: str | os.PathLike) -> RunResult:
    """One run from its evaluation metrics JSON and its sample-info JSON (written by sample.py)."""
    info = read_json_file(info_path, "run the sampling rule, which writes it")
    metrics = read_json_file(metrics_path, "run the evaluation rule, which writes it")
    sampler = _require(info, "sampler", info_path)
    fid_block = _require(metrics, "fid", metrics_path)
    unavailable = metrics.get("fid_unavailable") or {}
    sampling = info.get("sampling") or {}
    conditional = info.get("requested") is not None or metrics.get("conditional") is not None
    fid: dict[str, Metric] = {}
    kid: dict[str, KID | Unavailable | None] = {}
    for feature_set, value in fid_block.items():
        reason = unavailable.get(feature_set)
        fid[feature_set] = Unavailable(reason or "not computed") if value is None else float(value)
        kid_value = (metrics.get("kid") or {}).get(feature_set)
        if kid_value is not None:
            kid[feature_set] = KID(
                float(kid_value["mean"]), float(kid_value["std"]), _count(kid_value.get("subset_size")), _count(kid_value.get("subsets"))
            )
        else:
            kid[feature_set] = Unavailable(reason) if reason else None
    return RunResult(
        experiment=str(info.get("experiment") or ""),
        run=str(info.get("run") or sampler.get("name") or ""),
        sampler=str(_require(sampler, "sampler", info_path)),
        steps=int(_require(sampler, "steps", info_path)),
        eta=float(sampler.get("eta", 0.0)),
        variance=str(sampler.get("variance", "small")),
        spacing=str(sampler.get("spacing", "uniform")),
        guidance=float(sampling.get("guidance_scale", 1.0)) if conditional else None,
        num_images=_count(metrics.get("num_images", info.get("num_images"))),
        # Only the device-side measurements: the job's wall time includes start-up and compilation.
        speed=SamplingSpeed(*(_number(info.get(f.name)) for f in dataclasses.fields(SamplingSpeed))),
        fid=fid,
        kid=kid,
        conditional=metrics.get("conditional"),
    )


def read_experiment(
    name: str,
    provenance_path: str | os.PathLike,
    test_loss_path: str | os.PathLike | None = None,
    judge_metrics_path: str | os.PathLike | None = None,
) -> ExperimentResult:
    """One experiment from its provenance JSON, and, where given, its test loss and judge metrics."""
    provenance = read_json_file(provenance_path, "run the training rule, which writes it")
    settings = _require(provenance, "settings", provenance_path)
    meta = provenance.get("meta") or {}
    test_loss = None
    if test_loss_path is not None:
        test_loss = _number(read_json_file(test_loss_path, "run the test-loss rule, which writes it").get("test_loss"))
    judge = None
    if judge_metrics_path is not None:
        judge = read_json_file(judge_metrics_path, "run the train_classifier rule, which writes it").get("test")
    return ExperimentResult(
        name=name,
        dataset=str(meta.get("dataset") or ""),
        parameters=None if meta.get("parameters") is None else int(meta["parameters"]),
        conditioning=str((settings.get("model") or {}).get("conditioning", "none")),
        diffusion=dict(_require(settings, "diffusion", provenance_path)),
        training_steps=None if meta.get("steps") is None else int(meta["steps"]),
        train_time_s=_number(meta.get("train_time_s")),
        images_per_s=_number(meta.get("images_per_s")),
        test_loss=test_loss,
        judge=judge,
    )


_INPUT_KEYS = {"provenance", "test_loss", "classifier_metrics", "runs"}
_RUN_KEYS = {"metrics", "info"}


def read_results(inputs: dict[str, Any]) -> tuple[list[ExperimentResult], list[RunResult]]:
    """Every experiment and run named by ``inputs``, in its order.

    ``inputs`` maps experiment -> {"provenance": path, "test_loss": path | null, "classifier_metrics":
    path | null, "runs": {run: {"metrics": path, "info": path}}}; only "provenance" is required.
    """
    if not isinstance(inputs, dict) or not inputs:
        raise DataError("the tables' inputs must map at least one experiment name to its files")
    experiments, runs = [], []
    for name, files in inputs.items():
        _check_keys(files, _INPUT_KEYS, f"inputs[{name!r}]", required={"provenance"})
        experiments.append(read_experiment(name, files["provenance"], files.get("test_loss"), files.get("classifier_metrics")))
        run_files = files.get("runs") or {}
        if not isinstance(run_files, dict):
            raise DataError(f"inputs[{name!r}]['runs'] must map run names to {{'metrics': path, 'info': path}}")
        for run, paths in run_files.items():
            _check_keys(paths, _RUN_KEYS, f"inputs[{name!r}]['runs'][{run!r}]", required=_RUN_KEYS)
            # The inputs name the experiment: a checkpoint trained without --experiment records none.
            runs.append(dataclasses.replace(read_run(paths["metrics"], paths["info"]), experiment=name))
    return experiments, runs


def _check_keys(block: Any, allowed: set[str], where: str, *, required: set[str]) -> None:
    if not isinstance(block, dict):
        raise DataError(f"{where} must be a mapping with keys {sorted(allowed)}, got {type(block).__name__}")
    problems = [f"{what} keys {keys}" for what, keys in (("unknown", sorted(set(block) - allowed)), ("missing", sorted(required - set(block)))) if keys]
    if problems:
        raise DataError(f"{where}: {' and '.join(problems)}; the keys are {sorted(allowed)} ({sorted(required)} required)")


def _require(block: dict[str, Any], key: str, path: str | os.PathLike) -> Any:
    if key not in block or block[key] is None:
        raise DataError(f"{Path(path)}: key {key!r} is missing; the file is from another version, so rerun the rule that writes it")
    return block[key]


def _count(value: Any) -> int | None:
    return None if value is None else int(value)


def _number(value: Any) -> float | None:
    """A finite float, or None for missing or non-finite values (e.g. the NaN of a run without validation)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None
