# Training: one diffusion model per experiment, one judge network (classifier / text recognizer)
# per dataset. The training state beside the checkpoint is not an output: a restarted job resumes
# from it, and Snakemake never deletes it.


rule train:
    input:
        train=lambda w: split_of(w.exp, "train"),
        val=lambda w: split_of(w.exp, "val"),
    output:
        checkpoint="results/experiments/{exp}/model.pt",
        log="results/experiments/{exp}/train_log.csv",
        provenance="results/experiments/{exp}/provenance.json",
    log:
        "logs/train/{exp}.log",
    benchmark:
        "benchmarks/train/{exp}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=GPUS_PER_TRAINING,
    params:
        launcher=TRAIN_LAUNCHER,
        model=lambda w: section_json(w.exp, "model"),
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        training=lambda w: section_json(w.exp, "training"),
        state=lambda w: f"{exp_dir(w.exp)}/state.pt",
        device=DEVICE_FLAG,
    shell:
        "{params.launcher} scripts/train.py --train {input.train:q} --val {input.val:q}"
        " --model {params.model:q} --diffusion {params.diffusion:q} --training {params.training:q}"
        " --checkpoint {output.checkpoint:q} --state {params.state:q} --train-log {output.log:q}"
        " --provenance {output.provenance:q} --experiment {wildcards.exp} {params.device} 2> {log:q}"


rule train_classifier:
    input:
        train="results/data/{dataset}/train.npz",
        val="results/data/{dataset}/val.npz",
        test="results/data/{dataset}/test.npz",
    output:
        checkpoint="results/classifiers/{dataset}/classifier.pt",
        metrics="results/classifiers/{dataset}/metrics.json",
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
        " --config {params.config:q} --out {output.checkpoint:q} --metrics {output.metrics:q} {params.device} 2> {log:q}"
