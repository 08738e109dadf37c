"""Score sample files: FID (and KID) against each reference, and conditional accuracy for labelled samples.

All sample sets of one model are scored in one process (``--samples a.npz b.npz --out a.json b.json``).
Each metrics JSON holds fid per feature set (null, with the reason under fid_unavailable, where the
features are unavailable), kid, conditional accuracy (null for unconditional samples), num_images.
"""

from __future__ import annotations

import argparse
import json
import logging

from ddpm.cli import run
from ddpm.runtime import resolve_device
from ddpm.config import from_dict
from ddpm.evaluation.evaluate import SampleScorer
from ddpm.evaluation.fid import MetricConfig, load_reference
from ddpm.evaluation.images import read_samples
from ddpm.io import write_json

log = logging.getLogger("evaluate_samples")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", required=True, nargs="+", help="sample files (.npz)")
    parser.add_argument("--reference", nargs="+", default=[], help="reference statistics files, one per feature set")
    parser.add_argument("--classifier", help="classifier checkpoint (classifier features, conditional accuracy)")
    parser.add_argument(
        "--inception-weights", help="Inception weights file (else $DDPM_INCEPTION_WEIGHTS, then torch hub's cache)"
    )
    parser.add_argument("--out", required=True, nargs="+", help="metrics JSON to write, one per sample file")
    parser.add_argument("--config", default="{}", help="MetricConfig settings as JSON (default: its defaults)")
    parser.add_argument("--device", default="auto", help="auto (CUDA if present), cpu, cuda, cuda:N")
    args = parser.parse_args()
    args.device = resolve_device(args.device)

    if len(args.samples) != len(args.out):
        raise SystemExit(f"error: {len(args.samples)} sample files but {len(args.out)} --out files; give one each")
    config = from_dict(MetricConfig, json.loads(args.config), "metrics")
    scorer = SampleScorer(
        [load_reference(path) for path in args.reference],
        classifier_path=args.classifier, inception_weights=args.inception_weights,
        config=config, device=args.device,
    )
    for samples, out in zip(args.samples, args.out):
        images, labels = read_samples(samples)
        metrics = scorer.score(images, labels)
        log.info("%s: fid %s", samples, metrics["fid"])
        write_json(out, {"samples": samples, **metrics})

if __name__ == "__main__":
    run(main)
