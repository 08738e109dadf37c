"""The training loop: AdamW with warm-up, gradient clipping, EMA, bf16 on CUDA, exact resume.

The hot loop never waits for the GPU: losses are summed on the device and read back (one sync) only
every ``log_every`` steps (and every ``val_every`` steps, which add the validation loss), where
NaN/inf is detected, the CSV log is written and the time budget and stop signals are checked. Every
``checkpoint_every`` steps, whether or not it is a log step, a training state is written atomically
after checking that the loss and the weights are finite; a restarted run with the same settings
continues from it and ends with exactly the weights and log of an uninterrupted run (all random
generators and the partial log interval are part of the state). SIGTERM (preemption) writes a state
before the process exits. A model whose weights exploded is never written (ddpm/sanity.py).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import logging
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig, TrainingConfig, to_dict
from ddpm.errors import ConfigError, DdpmError, TrainingDivergedError
from ddpm.factory import build_diffusion, build_model
from ddpm.io import write_json, write_text
from ddpm.runtime import autocast, deterministic_kernels, mark_step, maybe_compile, memory_format, place, uses_bf16
from ddpm.sanity import check_weights
from ddpm.training import distributed
from ddpm.training.batches import DeviceBatches
from ddpm.training.checkpoint import STATE_FORMAT, load_torch, save_model_checkpoint, save_torch
from ddpm.training.ema import EMA
from ddpm.training.provenance import provenance
from ddpm.training.validation import mean_loss

log = logging.getLogger(__name__)

LOG_COLUMNS = ("step", "train_loss", "val_loss", "lr", "images_per_s", "elapsed_s")
# Progress on stdout (the console of a Snakemake run): at each tenth of the run, at most this long apart.
CONSOLE_EVERY_S = 60.0
# AdamW moves each weight by about lr per step: a larger rate only diverges (and one near 1e38
# overflows float32 inside the optimizer).
MAX_LR = 1.0


class TrainingInterrupted(DdpmError):
    """SIGTERM/SIGINT arrived; a training state was saved and a restart resumes from it."""

    exit_code = 143


@dataclass
class TrainingData:
    """The splits, as uint8 (N, H, W, C) images and condition tensors (class ids or token ids)."""

    train_images: np.ndarray
    train_cond: torch.Tensor | None
    val_images: np.ndarray
    val_cond: torch.Tensor | None
    fingerprint: str = ""  # identifies the data (e.g. the prepared files' sha256) for resume checks


@dataclass
class TrainingFiles:
    checkpoint: Path  # final model checkpoint (EMA weights + settings)
    state: Path  # resumable training state
    log_csv: Path
    provenance: Path


@dataclass
class TrainingSummary:
    steps: int
    final_train_loss: float
    final_val_loss: float
    images_per_s: float
    train_time_s: float
    resumed_from: int
    stopped_early: str | None = None
    rows: list[dict[str, Any]] = field(default_factory=list)


class _StopSignal:
    """Turns SIGTERM/SIGINT into a flag that the loop polls, restoring the old handlers after."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> "_StopSignal":
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                self._previous[sig] = signal.signal(sig, self._handle)
            except ValueError:  # not the main thread: signals cannot be caught here
                pass
        return self

    def _handle(self, signum, frame) -> None:
        self.received = signum

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def fingerprint(model: ModelConfig, data: DataSpec, diffusion: DiffusionConfig, training: TrainingConfig, data_id: str) -> str:
    """Settings that must match for a saved state to be resumed (the run length may grow)."""
    resumable = {k: v for k, v in to_dict(training).items() if k not in ("steps", "time_budget_s", "log_every", "checkpoint_every")}
    blob = json.dumps([to_dict(model), to_dict(data), to_dict(diffusion), resumable, data_id], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    hours, m = divmod(minutes, 60)
    return f"{hours}h{m:02d}m" if hours else f"{m}m{s:02d}s"


def warmup_factor(step: int, warmup_steps: int) -> float:
    """Linear learning-rate warm-up over ``warmup_steps`` optimizer steps, then constant (Ho et al.)."""
    return min(1.0, (step + 1) / warmup_steps) if warmup_steps > 0 else 1.0


def _check(training: TrainingConfig) -> None:
    positive = {k: getattr(training, k) for k in ("steps", "batch_size", "log_every", "checkpoint_every", "val_every", "val_batches")}
    bad = [f"{k}={v}" for k, v in positive.items() if v < 1]
    if bad:
        raise ConfigError(f"training settings must be at least 1: {', '.join(bad)}")
    if not 0.0 <= training.cond_dropout < 1.0:
        raise ConfigError(f"training.cond_dropout must be in [0, 1), got {training.cond_dropout}")
    if not 0 < training.lr <= MAX_LR:
        raise ConfigError(
            f"training.lr must be in (0, {MAX_LR:g}], got {training.lr:g}; diffusion models train with about 1e-4 (e.g. lr: 2.0e-4)"
        )


def train(
    model_config: ModelConfig,
    data: DataSpec,
    diffusion_config: DiffusionConfig,
    training: TrainingConfig,
    inputs: TrainingData,
    files: TrainingFiles,
    *,
    device: str = "auto",
    meta: dict[str, Any] | None = None,
    progress: bool = True,
) -> TrainingSummary:
    """Train (or resume) a model and write its checkpoint, log and provenance."""
    _check(training)
    process, dev = distributed.start(device)
    try:
        with deterministic_kernels(dev, training.deterministic):
            return _Run(model_config, data, diffusion_config, training, inputs, files, process, dev, meta or {}, progress).run()
    finally:
        distributed.stop()


class _Run:
    def __init__(self, model_config, data, diffusion_config, training, inputs, files, process, device, meta, progress):
        self.model_config, self.data, self.diffusion_config, self.training = model_config, data, diffusion_config, training
        self.inputs, self.files, self.process, self.device, self.meta = inputs, files, process, device, meta
        self.progress = progress and process.is_main
        torch.manual_seed(training.seed + process.rank)  # dropout; differs per process like its data slice

        self.raw_model = place(build_model(model_config, data), device)
        self.objective = build_diffusion(diffusion_config)
        self.conditional = model_config.conditioning != "none"
        self.ema = EMA(self.raw_model, training.ema_decay, training.ema_warmup)
        self.optimizer = torch.optim.AdamW(
            self.raw_model.parameters(),
            lr=training.lr,
            betas=training.adam_betas,
            weight_decay=training.weight_decay,
            fused=device.type == "cuda",
        )
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lambda s: warmup_factor(s, training.warmup_steps))
        self.generator = torch.Generator(device).manual_seed(training.seed)
        self.batches = DeviceBatches(
            inputs.train_images,
            inputs.train_cond,
            training.batch_size,
            device,
            self.generator,
            hflip=training.hflip,
            rank=process.rank,
            world_size=process.world_size,
        )
        self.fingerprint = fingerprint(model_config, data, diffusion_config, training, inputs.fingerprint)
        self.step = 0
        self.rows: list[dict[str, Any]] = []
        self.train_time = 0.0
        # The log interval in progress: a state written between log steps carries it over.
        self.loss_sum = torch.zeros((), device=device)
        self.interval_steps, self.interval_start = 0, time.perf_counter()
        self.saved_step: int | None = None  # the step of the last state this run wrote
        self.console_tenth, self.console_time = 0, time.monotonic()
        self.resumed_from = self._resume()

        model: nn.Module = self.raw_model
        if process.distributed:
            model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
        # CUDA graphs need a fixed step: one process (DDP's gradient hooks run outside the graphs).
        self.cuda_graphs = device.type == "cuda" and not process.distributed
        self.model = maybe_compile(model, device, training.compile, cuda_graphs=self.cuda_graphs)

    # -- state ------------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        return {
            "format": STATE_FORMAT,
            "fingerprint": self.fingerprint,
            "step": self.step,
            "model": self.raw_model.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "generator": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state(self.device) if self.device.type == "cuda" else torch.empty(0, dtype=torch.uint8),
            "rows": json.dumps(self.rows),
            "train_time": self.train_time,
            "interval": json.dumps(
                {
                    "loss_sum": distributed.mean_over_processes(self.loss_sum, self.process).item(),
                    "steps": self.interval_steps,
                    "elapsed": time.perf_counter() - self.interval_start,
                }
            ),
        }

    def _resume(self) -> int:
        if not self.files.state.exists():
            return 0
        state = load_torch(self.files.state, STATE_FORMAT)
        if state["fingerprint"] != self.fingerprint:
            log.warning("%s was saved with other settings or data; starting from scratch", self.files.state)
            return 0
        self.raw_model.load_state_dict(state["model"])
        self.ema.load_state_dict(state["ema"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.generator.set_state(state["generator"])
        torch.set_rng_state(state["torch_rng"])
        if self.device.type == "cuda" and state["cuda_rng"].numel():
            torch.cuda.set_rng_state(state["cuda_rng"], self.device)
        self.step = int(state["step"])
        self.rows = json.loads(state["rows"])
        self.train_time = float(state["train_time"])
        interval = json.loads(state.get("interval", '{"loss_sum": 0.0, "steps": 0, "elapsed": 0.0}'))
        self.loss_sum.fill_(interval["loss_sum"])
        self.interval_steps = int(interval["steps"])
        self.interval_start = time.perf_counter() - float(interval["elapsed"])
        log.info("resumed from %s at step %d", self.files.state, self.step)
        return self.step

    def _save_state(self) -> None:
        """Write a training state, after checking that nothing in it has diverged."""
        if self.saved_step == self.step:
            return
        loss = distributed.mean_over_processes(self.loss_sum, self.process).item()
        if not np.isfinite(loss):
            self._diverged(f"training loss became {loss} between steps {self.step - self.interval_steps} and {self.step}")
        self._check_weights()
        state = self._state()
        if self.process.is_main:
            save_torch(self.files.state, state)
        self.saved_step = self.step
        distributed.barrier(self.process)

    def _check_weights(self) -> None:
        try:
            check_weights(self.raw_model, f"step {self.step}")
            check_weights(self.ema.model, f"step {self.step} (EMA)")
        except TrainingDivergedError as exc:
            self._diverged(str(exc))

    def _diverged(self, what: str) -> None:
        """Stop with what happened and what really exists on disk (the state is never a diverged one)."""
        if self.saved_step is not None:
            kept = f"the state of step {self.saved_step}, written by this run, is kept in {self.files.state}"
        elif self.resumed_from:
            kept = f"the state of step {self.resumed_from}, which this run resumed from, is kept in {self.files.state}"
        else:
            kept = f"this run wrote no training state (the first would have been at step {self.training.checkpoint_every}); a rerun starts from step 0"
        raise TrainingDivergedError(
            f"{what}; {kept}; no model was written. Lower training.lr, raise warmup_steps or set grad_clip"
        )

    # -- one step ---------------------------------------------------------------------------
    def _train_step(self) -> torch.Tensor:
        x, cond = self.batches.next()
        full = self.training.batch_size
        draws = self.objective.draw_training_randomness(full, tuple(x.shape[1:]), self.device, self.generator)
        drop = torch.rand(full, device=self.device, generator=self.generator) < self.training.cond_dropout if self.conditional else None
        shard = self.batches.shard
        draws = {k: v[shard] for k, v in draws.items()}
        kwargs = {}
        if self.conditional:
            null = self.raw_model.null_condition(cond)
            mask = drop[shard].view(-1, *([1] * (cond.dim() - 1)))
            kwargs["cond"] = torch.where(mask, null, cond)
        x = x.contiguous(memory_format=memory_format(self.device))
        if self.cuda_graphs:
            mark_step()
        with autocast(self.device, self.training.precision):
            loss = self.objective.training_losses(self.model, x, **draws, **kwargs).mean()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.training.grad_clip > 0:
            nn.utils.clip_grad_norm_(self.raw_model.parameters(), self.training.grad_clip)
        self.optimizer.step()
        self.scheduler.step()
        self.ema.update(self.raw_model)
        return loss.detach()

    def _val_loss(self) -> float:
        return mean_loss(
            self.ema.model,
            self.objective,
            self.inputs.val_images,
            self.inputs.val_cond,
            batch_size=self.training.batch_size,
            max_batches=self.training.val_batches,
            seed=self.training.seed + 1,
            device=self.device,
            precision=self.training.precision,
        )

    # -- the loop ---------------------------------------------------------------------------
    def run(self) -> TrainingSummary:
        cfg = self.training
        stopped_early = None
        # A terminal gets a progress bar; a log file (every Snakemake rule's) one line per log
        # interval, as a bar's carriage returns would pile up into a single line there.
        show_bar = self.progress and sys.stderr.isatty()
        bar = tqdm(total=cfg.steps, initial=self.step, disable=not show_bar, desc="train", unit="step", dynamic_ncols=True)
        with _StopSignal() as stop:
            while self.step < cfg.steps:
                self.loss_sum += self._train_step()
                self.step += 1
                self.interval_steps += 1
                at_val = self.step % cfg.val_every == 0 or self.step == cfg.steps
                at_log = at_val or self.step % cfg.log_every == 0
                at_checkpoint = self.step % cfg.checkpoint_every == 0
                stop_now = stop.received is not None if not self.process.distributed else False
                if not (at_log or at_checkpoint or stop_now or (self.process.distributed and self.step % 10 == 0)):
                    continue
                if at_log:
                    # One host-device sync per interval: the mean loss (over every process's share
                    # of the global batch) and the NaN check.
                    steps = self.interval_steps
                    mean = (distributed.mean_over_processes(self.loss_sum, self.process) / steps).item()
                    elapsed = time.perf_counter() - self.interval_start
                    self.train_time += elapsed
                    if not np.isfinite(mean):
                        self._diverged(f"training loss became {mean} between steps {self.step - steps} and {self.step}")
                    images_per_s = steps * cfg.batch_size / max(elapsed, 1e-9)
                    val = self._val_loss() if at_val else None
                    self._log_row(mean, val, images_per_s)
                    if self.progress and not show_bar:
                        self._report_progress(mean, images_per_s)
                    bar.update(steps)
                    bar.set_postfix(loss=f"{mean:.4f}", img_s=f"{images_per_s:.0f}")
                    self.loss_sum.zero_()
                    self.interval_steps, self.interval_start = 0, time.perf_counter()
                if at_checkpoint:
                    self._save_state()
                over_budget = cfg.time_budget_s is not None and self.train_time >= cfg.time_budget_s
                if distributed.any_process(stop.received is not None, self.process, self.device):
                    self._save_state()
                    bar.close()
                    raise TrainingInterrupted(
                        f"stopped by a signal at step {self.step}; state saved to {self.files.state}, a restart resumes from it"
                    )
                if distributed.any_process(over_budget, self.process, self.device):
                    stopped_early = f"time budget of {cfg.time_budget_s} s reached at step {self.step}"
                    log.info(stopped_early)
                    break
        bar.close()
        self._save_state()  # also the last check of the loss and weights before the model is written
        summary = self._summary(stopped_early)
        if self.process.is_main:
            self._write_outputs(summary)
        distributed.barrier(self.process)
        return summary

    def _report_progress(self, loss: float, images_per_s: float) -> None:
        """One line per log step in the log (stderr); a few per run on stdout, which Snakemake shows."""
        cfg = self.training
        eta_s = (cfg.steps - self.step) * cfg.batch_size / max(images_per_s, 1e-9)
        name = self.meta.get("experiment", "train")
        line = f"{name}: step {self.step}/{cfg.steps}, loss {loss:.4f}, {images_per_s:.0f} img/s, ETA {_duration(eta_s)}"
        log.info("%s", line)
        tenth = cfg.steps / 10
        now = time.monotonic()
        if self.step == cfg.steps or self.step // tenth > self.console_tenth or now - self.console_time >= CONSOLE_EVERY_S:
            print(line, flush=True)
            self.console_tenth, self.console_time = self.step // tenth, now

    def _log_row(self, train_loss: float, val_loss: float | None, images_per_s: float) -> None:
        self.rows.append(
            {
                "step": self.step,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "lr": self.scheduler.get_last_lr()[0],
                "images_per_s": images_per_s,
                "elapsed_s": self.train_time,
            }
        )
        if self.process.is_main:
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=LOG_COLUMNS, lineterminator="\n")
            writer.writeheader()
            writer.writerows({k: ("" if v is None else v) for k, v in row.items()} for row in self.rows)
            write_text(self.files.log_csv, buffer.getvalue())

    def _summary(self, stopped_early: str | None) -> TrainingSummary:
        last = self.rows[-1] if self.rows else {}
        vals = [r["val_loss"] for r in self.rows if r["val_loss"] is not None]
        speeds = [r["images_per_s"] for r in self.rows[1:]] or [r["images_per_s"] for r in self.rows]
        return TrainingSummary(
            steps=self.step,
            final_train_loss=float(last.get("train_loss", float("nan"))),
            final_val_loss=float(vals[-1]) if vals else float("nan"),
            # The first interval includes compilation and warm-up; the median of the rest is the speed.
            images_per_s=float(np.median(speeds)) if speeds else float("nan"),
            train_time_s=self.train_time,
            resumed_from=self.resumed_from,
            stopped_early=stopped_early,
            rows=self.rows,
        )

    def _write_outputs(self, summary: TrainingSummary) -> None:
        meta = {
            **self.meta,
            "steps": summary.steps,
            "train_time_s": summary.train_time_s,
            "images_per_s": summary.images_per_s,
            "final_train_loss": summary.final_train_loss,
            "final_val_loss": summary.final_val_loss,
            "parameters": sum(p.numel() for p in self.raw_model.parameters()),
        }
        # JSON has no NaN: a value not measured (no validation or timed interval before a time
        # budget stopped the run) is null.
        meta = {k: None if isinstance(v, float) and not np.isfinite(v) else v for k, v in meta.items()}
        save_model_checkpoint(self.files.checkpoint, self.ema.model, self.model_config, self.data, self.diffusion_config, meta)
        write_json(
            self.files.provenance,
            {
                "settings": {
                    "model": to_dict(self.model_config),
                    "data": to_dict(self.data),
                    "diffusion": to_dict(self.diffusion_config),
                    "training": to_dict(self.training),
                },
                "seed": self.training.seed,
                "meta": meta,
                "resumed_from_step": summary.resumed_from,
                "stopped_early": summary.stopped_early,
                "world_size": self.process.world_size,
                "precision": "bf16 autocast" if uses_bf16(self.device, self.training.precision) else "fp32",
                **provenance(self.device),
            },
        )
