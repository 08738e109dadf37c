# Evaluation: reference statistics of each dataset's real test images (once per feature set),
# FID/KID and conditional accuracy of every sample set, and the test-set diffusion loss.


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


rule evaluate_samples:
    input:
        samples="results/experiments/{exp}/samples/{run}.npz",
        references=lambda w: expand(
            "results/fid_refs/{dataset}/{features}.npz",
            dataset=dataset_of(w.exp),
            features=FEATURE_SETS,
        ),
        classifier=lambda w: f"results/classifiers/{dataset_of(w.exp)}/classifier.pt",
    output:
        "results/experiments/{exp}/metrics/{run}.json",
    log:
        "logs/evaluate_samples/{exp}/{run}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        metrics=METRICS_JSON,
        inception=INCEPTION_FLAG,
        device=DEVICE_FLAG,
    shell:
        "python scripts/evaluate_samples.py --samples {input.samples:q} --reference {input.references:q}"
        " --classifier {input.classifier:q} {params.inception} --config {params.metrics:q}"
        " --out {output:q} {params.device} 2> {log:q}"


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
