# Datasets: fetch raw files (verified; a local rule, so cluster nodes never need the internet),
# prepare train/val/test splits, draw a sample grid. Dataset facts live in ddpm/data/registry.py;
# config["datasets"][name] only picks a `source` and overrides its options.
import json
import re
import shlex
from pathlib import Path

DATA_SPLITS = ("train", "val", "test")
DATA_NAME_PATTERN = "|".join(re.escape(name) for name in config["datasets"]) or "(?!)"
# Where raw files may come from is not a param: moving to a machine with another mirror must not
# re-prepare every dataset.
DATA_FETCH_FLAGS = " ".join(
    ([f"--mirror {shlex.quote(str(config['mirror']))}"] if config.get("mirror") else [])
    + ([] if config.get("download", True) else ["--no-download"])
)


def data_image_folder_contents(wildcards):
    """An image folder, its sub-folders and files: adding, removing or changing an image reruns."""
    path = config["datasets"][wildcards.dataset].get("path")
    return [path, *map(str, Path(path).rglob("*"))] if path else []


localrules:
    fetch_raw,


rule fetch_raw:
    input:
        data_image_folder_contents,
    output:
        "results/raw/{dataset}/MANIFEST.json",
    params:
        source=lambda wildcards: config["datasets"][wildcards.dataset]["source"],
        raw_dir=lambda wildcards: f"results/raw/{wildcards.dataset}",
        options=lambda wildcards: json.dumps(config["datasets"][wildcards.dataset], sort_keys=True),
    log:
        "logs/fetch_raw/{dataset}.log",
    wildcard_constraints:
        dataset=DATA_NAME_PATTERN,
    shell:
        "python scripts/fetch_raw.py --source {params.source:q} --raw-dir {params.raw_dir:q}"
        " --manifest {output:q} --options {params.options:q} {DATA_FETCH_FLAGS} 2> {log:q}"


rule prepare_dataset:
    input:
        manifest="results/raw/{dataset}/MANIFEST.json",
    output:
        expand("results/data/{{dataset}}/{split}.{ext}", split=DATA_SPLITS, ext=("npz", "json")),
    params:
        raw_dir=lambda wildcards: f"results/raw/{wildcards.dataset}",
        out_dir=lambda wildcards: f"results/data/{wildcards.dataset}",
        # The whole entry: a changed option prepares the dataset again.
        options=lambda wildcards: json.dumps(config["datasets"][wildcards.dataset], sort_keys=True),
    log:
        "logs/prepare_dataset/{dataset}.log",
    wildcard_constraints:
        dataset=DATA_NAME_PATTERN,
    shell:
        "python scripts/prepare_dataset.py --name {wildcards.dataset:q} --manifest {input.manifest:q}"
        " --raw-dir {params.raw_dir:q} --options {params.options:q} --out-dir {params.out_dir:q} 2> {log:q}"


rule dataset_grid:
    input:
        npz="results/data/{dataset}/train.npz",
        sidecar="results/data/{dataset}/train.json",
    output:
        report(
            "results/data/{dataset}/grid.png",
            caption="../report/dataset_grid.rst",
            category="Datasets",
            subcategory="{dataset}",
        ),
    log:
        "logs/dataset_grid/{dataset}.log",
    wildcard_constraints:
        dataset=DATA_NAME_PATTERN,
    shell:
        "python scripts/plot_dataset_grid.py --split {input.npz:q} --out {output:q} 2> {log:q}"
