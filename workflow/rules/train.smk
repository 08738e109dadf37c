# Training: one diffusion model per experiment, one judge network (classifier / text recognizer)
# per dataset. The training state beside the checkpoint is not an output: a restarted job resumes
# from it, and Snakemake never deletes it.


rule train:
    input:
        train=lambda w: split_of(w.exp, "train"),
        val=lambda w: split_of(w.exp, "val"),
    output:
        checkpoint=MODEL,
        log=TRAIN_LOG,
        provenance=PROVENANCE,
    log:
        "logs/train/{exp}.log",
    benchmark:
        "benchmarks/train/{exp}.tsv"
    priority: lambda w: training_priority(w.exp)
    conda:
        CONDA_ENV
    resources:
        gpu=GPUS_PER_TRAINING,
        training=1,
    params:
        launcher=TRAIN_LAUNCHER,
        model=lambda w: section_json(w.exp, "model"),
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        training=lambda w: section_json(w.exp, "training"),
        state=lambda w: fill(TRAIN_STATE, exp=w.exp),
        device=DEVICE_FLAG,
    shell:
        "{params.launcher} scripts/train.py --train {input.train:q} --val {input.val:q}"
        " --model {params.model:q} --diffusion {params.diffusion:q} --training {params.training:q}"
        " --checkpoint {output.checkpoint:q} --state {params.state:q} --train-log {output.log:q}"
        " --provenance {output.provenance:q} --experiment {wildcards.exp} {params.device} > {log:q} 2>&1"


rule train_classifier:
    input:
        train=fill(DATA_SPLIT, split="train", ext="npz"),
        val=fill(DATA_SPLIT, split="val", ext="npz"),
        test=fill(DATA_SPLIT, split="test", ext="npz"),
    output:
        checkpoint=CLASSIFIER,
        metrics=CLASSIFIER_METRICS,
    log:
        "logs/train_classifier/{dataset}.log",
    benchmark:
        "benchmarks/train_classifier/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        config=CLASSIFIER_JSON,
        device=DEVICE_FLAG,
    shell:
        "python scripts/train_classifier.py --train {input.train:q} --val {input.val:q} --test {input.test:q}"
        " --config {params.config:q} --out {output.checkpoint:q} --metrics {output.metrics:q} {params.device} > {log:q} 2>&1"
