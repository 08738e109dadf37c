"""Reference statistics of a dataset's real test images, per feature set (FID/KID).

Several feature sets in one call: repeat ``--features`` and ``--out`` in pairs (the workflow makes
a dataset's references in one job). For --features inception without weights on disk, writes a
reference that records why, so the rules downstream still get their input and report the feature
set as unavailable.
"""

from __future__ import annotations

import argparse
import json
import logging

from ddpm.cli import paired, run
from ddpm.data import load_split
from ddpm.runtime import resolve_device
from ddpm.config import from_dict
from ddpm.errors import FeaturesUnavailableError
from ddpm.evaluation.feature_sets import FEATURE_SETS
from ddpm.evaluation.features import build_extractor
from ddpm.evaluation.fid import MetricConfig, compute_reference, save_reference, unavailable_reference

log = logging.getLogger("fid_reference")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", required=True, help="prepared test.npz")
    parser.add_argument("--features", required=True, choices=FEATURE_SETS, action="append", help="a feature set, one per --out")
    parser.add_argument("--classifier", help="classifier checkpoint (for --features classifier)")
    parser.add_argument(
        "--inception-weights", help="Inception weights file (else $DDPM_INCEPTION_WEIGHTS, then torch hub's cache)"
    )
    parser.add_argument("--out", required=True, action="append", help="reference statistics .npz to write, one per --features")
    parser.add_argument("--config", default="{}", help="MetricConfig settings as JSON (default: its defaults)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    args = parser.parse_args()
    outputs = paired(parser, args.features, args.out, "--features")
    args.device = resolve_device(args.device)

    config = from_dict(MetricConfig, json.loads(args.config), "metrics")
    split = load_split(args.data)
    images, meta = split.images, split.meta
    for features, out in outputs:
        try:
            extractor = build_extractor(features, classifier_path=args.classifier, inception_weights=args.inception_weights)
        except FeaturesUnavailableError as exc:
            log.warning("%s features unavailable: %s", features, exc)
            save_reference(out, unavailable_reference(features, str(exc), images.shape[1:]))
            continue
        stats = compute_reference(images, extractor, config=config, device=args.device)
        log.info("%s: %s reference of %d images, %d-d", meta.get("dataset"), features, stats.count, len(stats.mean))
        save_reference(out, stats)


if __name__ == "__main__":
    run(main)
