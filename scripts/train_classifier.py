"""Train the dataset's judge network (class classifier, or text recognizer for text labels) and test it.

Writes the checkpoint (--out) and a metrics JSON (--metrics) with the test and validation accuracy,
the training history and the wall time.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time

from ddpm.cli import run
from ddpm.data import load_split
from ddpm.runtime import resolve_device
from ddpm.config import from_dict
from ddpm.errors import DataError
from ddpm.evaluation.classifier import ClassifierConfig, save_classifier
from ddpm.evaluation.conditional import conditional_accuracy
from ddpm.evaluation.judge_training import train_classifier, train_recognizer
from ddpm.io import write_json

log = logging.getLogger("train_classifier")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--train", required=True, help="prepared train.npz")
    parser.add_argument("--val", required=True, help="prepared val.npz")
    parser.add_argument("--test", required=True, help="prepared test.npz")
    parser.add_argument("--out", required=True, help="checkpoint to write")
    parser.add_argument("--metrics", required=True, help="metrics JSON to write")
    parser.add_argument("--config", default="{}", help="ClassifierConfig settings as JSON (default: its defaults)")
    parser.add_argument("--steps", type=int, help="training steps (overrides --config)")
    parser.add_argument("--batch-size", type=int, help="batch size (overrides --config)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    args = parser.parse_args()
    args.device = resolve_device(args.device)

    overrides = {"steps": args.steps, "batch_size": args.batch_size}
    config = from_dict(ClassifierConfig, json.loads(args.config), "classifier")
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    train, val, test = load_split(args.train), load_split(args.val), load_split(args.test)
    train_images, train_labels, meta = train.images, train.labels, train.meta
    val_images, val_labels = val.images, val.labels
    test_images, test_labels = test.images, test.labels

    common = dict(val_images=val_images, config=config, seed=args.seed, device=args.device)
    started = time.perf_counter()
    if meta.get("label_kind") == "class":
        model, history = train_classifier(
            train_images, train_labels, val_labels=val_labels, class_names=meta["class_names"], **common
        )
    elif meta.get("label_kind") == "text":
        model, history = train_recognizer(
            train_images, train_labels, val_texts=val_labels,
            alphabet=meta["alphabet"], text_length=meta["text_length"], **common,
        )
    else:
        raise DataError(
            f"{args.train}: label_kind is {meta.get('label_kind')!r}; a judge network needs class or text labels"
        )
    seconds = time.perf_counter() - started
    test = conditional_accuracy(model, test_images, test_labels, batch_size=config.batch_size, device=args.device)
    log.info("%s on %s: test %s", model.kind, meta.get("dataset"), {k: v for k, v in test.items() if "accuracy" in k})

    save_classifier(args.out, model)
    write_json(args.metrics, {
        "dataset": meta.get("dataset"),
        "kind": model.kind,
        "num_train": len(train_images),
        "steps": config.steps,
        "seed": args.seed,
        "device": str(args.device),
        "train_seconds": seconds,
        "config": dataclasses.asdict(config),
        "test": test,
        "val": history[-1],
        "history": history,
    })


if __name__ == "__main__":
    run(main)
