"""Training: the loop (:mod:`.loop`), checkpoints (:mod:`.checkpoint`), EMA, batches, provenance."""

from ddpm.training.checkpoint import LoadedModel, load_model_checkpoint, save_model_checkpoint
from ddpm.training.loop import TrainingData, TrainingFiles, TrainingInterrupted, TrainingSummary, train

__all__ = [
    "LoadedModel",
    "TrainingData",
    "TrainingFiles",
    "TrainingInterrupted",
    "TrainingSummary",
    "load_model_checkpoint",
    "save_model_checkpoint",
    "train",
]
