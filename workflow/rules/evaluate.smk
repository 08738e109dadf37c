# Evaluation: reference statistics of each dataset's real test images (once per feature set),
# FID/KID and conditional accuracy of every sample set (one job per experiment), and the test-set
# diffusion loss.


rule fid_reference:
    input:
        test="results/data/{dataset}/test.npz",
        classifier="results/classifiers/{dataset}/classifier.pt",
    output:
        "results/fid_refs/{dataset}/{features}.npz",
    log:
        "logs/fid_reference/{dataset}/{features}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        metrics=METRICS_JSON,
        inception=INCEPTION_FLAG,
        device=DEVICE_FLAG,
    shell:
        "python scripts/fid_reference.py --data {input.test:q} --features {wildcards.features}"
        " --classifier {input.classifier:q} {params.inception} --config {params.metrics:q}"
        " --out {output:q} {params.device} 2> {log:q}"


for _exp in EXPERIMENTS:

    rule:
        name:
            f"evaluate_samples_{_exp}"
        input:
            samples=[f"{exp_dir(_exp)}/samples/{run}.npz" for run in runs_of(_exp)],
            references=expand(
                "results/fid_refs/{dataset}/{features}.npz",
                dataset=dataset_of(_exp),
                features=FEATURE_SETS,
            ),
            classifier=f"results/classifiers/{dataset_of(_exp)}/classifier.pt",
        output:
            [f"{exp_dir(_exp)}/metrics/{run}.json" for run in runs_of(_exp)],
        log:
            f"logs/evaluate_samples/{_exp}.log",
        benchmark:
            f"benchmarks/evaluate_samples/{_exp}.tsv"
        conda:
            CONDA_ENV
        resources:
            **profile_resources("evaluate_samples"),
            gpu=1,
        params:
            metrics=METRICS_JSON,
            inception=INCEPTION_FLAG,
            device=DEVICE_FLAG,
        shell:
            "python scripts/evaluate_samples.py --samples {input.samples:q} --reference {input.references:q}"
            " --classifier {input.classifier:q} {params.inception} --config {params.metrics:q}"
            " --out {output:q} {params.device} > {log:q} 2>&1"


rule test_loss:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        test=lambda w: split_of(w.exp, "test"),
    output:
        "results/experiments/{exp}/test_loss.json",
    log:
        "logs/test_loss/{exp}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        evaluation=lambda w: section_json(w.exp, "evaluation"),
        device=DEVICE_FLAG,
    shell:
        "python scripts/evaluate_loss.py --checkpoint {input.checkpoint:q} --test {input.test:q}"
        " --evaluation {params.evaluation:q} --out {output:q} {params.device} 2> {log:q}"
