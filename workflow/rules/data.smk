# Datasets: fetch raw files (verified; a local rule, so cluster nodes never need the internet),
# prepare train/val/test splits, draw a sample grid. Dataset facts live in ddpm/data/registry.py;
# config["datasets"][name] only picks a `source` and overrides its options. Where raw files may
# come from (mirror, download) reaches the fetch script through the environment (common.smk), not
# as a param: moving to a machine with another mirror must not re-prepare every dataset.
localrules:
    fetch_raw,


rule fetch_raw:
    input:
        image_folder_contents,
    output:
        RAW_MANIFEST,
    log:
        "logs/fetch_raw/{dataset}.log",
    conda:
        CONDA_ENV
    params:
        source=lambda wildcards: config["datasets"][wildcards.dataset]["source"],
        raw_dir=lambda wildcards: fill(RAW_DIR, dataset=wildcards.dataset),
        options=lambda wildcards: json.dumps(
            config["datasets"][wildcards.dataset], sort_keys=True
        ),
    shell:
        "python scripts/fetch_raw.py --source {params.source:q} --raw-dir {params.raw_dir:q}"
        " --manifest {output:q} --options {params.options:q} > {log:q} 2>&1"


rule prepare_dataset:
    input:
        manifest=RAW_MANIFEST,
    output:
        expand(DATA_SPLIT, split=SPLITS, ext=("npz", "json"), allow_missing=True),
    log:
        "logs/prepare_dataset/{dataset}.log",
    conda:
        CONDA_ENV
    params:
        raw_dir=lambda wildcards: fill(RAW_DIR, dataset=wildcards.dataset),
        out_dir=lambda wildcards: fill(DATA_DIR, dataset=wildcards.dataset),
        # The whole entry: a changed option prepares the dataset again.
        options=lambda wildcards: json.dumps(
            config["datasets"][wildcards.dataset], sort_keys=True
        ),
    shell:
        "python scripts/prepare_dataset.py --name {wildcards.dataset:q} --manifest {input.manifest:q}"
        " --raw-dir {params.raw_dir:q} --options {params.options:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"
