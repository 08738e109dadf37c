# Evaluation: reference statistics of each dataset's real test images (one job, every feature set),
# FID/KID and conditional accuracy of every sample set (one job per experiment), and the test-set
# diffusion loss.


rule fid_reference:
    input:
        test=fill(DATA_SPLIT, split="test", ext="npz"),
        classifier=CLASSIFIER,
    output:
        # One job per dataset, every feature set: one start of Python and the test split's load.
        **{
            features: fill(FID_REFERENCE, features=features)
            for features in FEATURE_SETS
        },
    log:
        "logs/fid_reference/{dataset}.log",
    benchmark:
        "benchmarks/fid_reference/{dataset}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        metrics=METRICS_JSON,
        inception=INCEPTION_FLAG,
        device=DEVICE_FLAG,
        outputs=lambda w, output: " ".join(
            f"--features {features} --out {shlex.quote(output[features])}"
            for features in FEATURE_SETS
        ),
    shell:
        "python scripts/fid_reference.py --data {input.test:q} {params.outputs}"
        " --classifier {input.classifier:q} {params.inception} --config {params.metrics:q}"
        " {params.device} > {log:q} 2>&1"


for _exp in EXPERIMENTS:

    rule:
        name:
            f"evaluate_samples_{_exp}"
        input:
            samples=[
                fill(SAMPLES, exp=_exp, run=run, ext="npz") for run in runs_of(_exp)
            ],
            references=expand(
                FID_REFERENCE, dataset=dataset_of(_exp), features=FEATURE_SETS
            ),
            classifier=fill(CLASSIFIER, dataset=dataset_of(_exp)),
        output:
            [fill(SAMPLE_METRICS, exp=_exp, run=run) for run in runs_of(_exp)],
        log:
            f"logs/evaluate_samples/{_exp}.log",
        benchmark:
            f"benchmarks/evaluate_samples/{_exp}.tsv"
        priority: experiment_priority(_exp)
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
        checkpoint=MODEL,
        test=lambda w: split_of(w.exp, "test"),
    output:
        TEST_LOSS,
    log:
        "logs/test_loss/{exp}.log",
    benchmark:
        "benchmarks/test_loss/{exp}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        evaluation=lambda w: section_json(w.exp, "evaluation"),
        device=DEVICE_FLAG,
    shell:
        "python scripts/evaluate_loss.py --checkpoint {input.checkpoint:q} --test {input.test:q}"
        " --evaluation {params.evaluation:q} --out {output:q} {params.device} > {log:q} 2>&1"
