# Figures and tables. Every figure is written as PNG (a report() output with a caption, so
# `snakemake --report report.html` collects it) and as PDF beside it, for papers.


rule plot_schedules:
    output:
        png=figure(
            "results/figures/schedules.png",
            "schedules",
            "Diffusion",
            "Schedules",
            {"figure": "beta schedules"},
        ),
        pdf="results/figures/schedules.pdf",
    log:
        "logs/plot_schedules.log",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_schedules.py --out {output.png:q} 2> {log:q}"


rule plot_experiment_schedule:
    output:
        png=figure(
            "results/figures/{exp}/schedule.png",
            "experiment_schedule",
            "{exp}",
            "Diffusion",
            {"experiment": "{exp}", "figure": "schedule constants"},
        ),
        pdf="results/figures/{exp}/schedule.pdf",
    log:
        "logs/plot_experiment_schedule/{exp}.log",
    conda:
        CONDA_ENV
    params:
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_schedules.py --diffusion {params.diffusion:q} --description {params.description:q}"
        " --out {output.png:q} 2> {log:q}"


rule plot_dataset_split:
    input:
        "results/data/{dataset}/{split}.npz",
    output:
        png=report(
            "results/figures/data/{dataset}/{split}.png",
            caption="../report/dataset_split.rst",
            category="Datasets",
            subcategory="{dataset}",
            labels={"dataset": "{dataset}", "split": "{split}"},
        ),
        pdf="results/figures/data/{dataset}/{split}.pdf",
    log:
        "logs/plot_dataset_split/{dataset}/{split}.log",
    wildcard_constraints:
        split="train|test",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_dataset_grid.py --split {input:q} --out {output.png:q} 2> {log:q}"


rule plot_forward_process:
    input:
        data=lambda w: split_of(w.exp, "test"),
    output:
        png=figure(
            "results/figures/{exp}/forward_process.png",
            "forward_process",
            "{exp}",
            "Diffusion",
            {"experiment": "{exp}", "figure": "forward process"},
        ),
        pdf="results/figures/{exp}/forward_process.pdf",
    log:
        "logs/plot_forward_process/{exp}.log",
    conda:
        CONDA_ENV
    params:
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_forward_process.py --data {input.data:q} --diffusion {params.diffusion:q}"
        " --description {params.description:q} --out {output.png:q} 2> {log:q}"


rule plot_denoiser:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        data=lambda w: split_of(w.exp, "test"),
    output:
        png=figure(
            "results/figures/{exp}/denoiser.png",
            "denoiser",
            "{exp}",
            "Denoising",
            {"experiment": "{exp}", "figure": "denoiser input and output"},
        ),
        pdf="results/figures/{exp}/denoiser.pdf",
    log:
        "logs/plot_denoiser/{exp}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        device=DEVICE_FLAG,
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_denoiser.py --checkpoint {input.checkpoint:q} --data {input.data:q}"
        " --description {params.description:q} --out {output.png:q} {params.device} 2> {log:q}"


rule plot_steps:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        png=figure(
            "results/figures/{exp}/steps.png",
            "steps",
            "{exp}",
            "Samples",
            {"experiment": "{exp}", "figure": "5, 20 and all steps"},
        ),
        pdf="results/figures/{exp}/steps.pdf",
    log:
        "logs/plot_steps/{exp}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        sampling=lambda w: sampling_json(w.exp),
        test=lambda w: test_split_flag(w.exp),
        device=DEVICE_FLAG,
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_steps.py --checkpoint {input.checkpoint:q} --steps 5 20 all"
        " --sampling {params.sampling:q} {params.test} --description {params.description:q}"
        " --out {output.png:q} {params.device} 2> {log:q}"


rule plot_loss_curves:
    input:
        "results/experiments/{exp}/train_log.csv",
    output:
        png=figure(
            "results/figures/{exp}/loss_curves.png",
            "loss_curves",
            "{exp}",
            "Training",
            {"experiment": "{exp}", "figure": "loss curves"},
        ),
        pdf="results/figures/{exp}/loss_curves.pdf",
    log:
        "logs/plot_loss_curves/{exp}.log",
    conda:
        CONDA_ENV
    params:
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_loss_curves.py --log {input:q} --description {params.description:q}"
        " --out {output.png:q} 2> {log:q}"


rule plot_fid_vs_steps:
    input:
        metrics=lambda w: [
            f"{exp_dir(w.exp)}/metrics/{run}.json" for run in runs_of(w.exp)
        ],
        info=lambda w: [
            f"{exp_dir(w.exp)}/samples/{run}.json" for run in runs_of(w.exp)
        ],
    output:
        png=figure(
            "results/figures/{exp}/fid_vs_steps.png",
            "fid_vs_steps",
            "{exp}",
            "Evaluation",
            {"experiment": "{exp}", "figure": "FID vs steps"},
        ),
        pdf="results/figures/{exp}/fid_vs_steps.pdf",
    log:
        "logs/plot_fid_vs_steps/{exp}.log",
    conda:
        CONDA_ENV
    params:
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_fid_vs_steps.py --metrics {input.metrics:q} --info {input.info:q}"
        " --description {params.description:q} --out {output.png:q} 2> {log:q}"


rule make_tables:
    input:
        list(table_input_files()),
    output:
        [
            report(
                path,
                caption="../report/tables.rst",
                category="Tables",
                labels={"table": Path(path).name},
            )
            for path in TABLES
        ],
    log:
        "logs/make_tables.log",
    conda:
        CONDA_ENV
    params:
        inputs=json.dumps(table_inputs(), sort_keys=True),
    shell:
        "python scripts/make_tables.py --inputs {params.inputs:q} --out-dir results/tables 2> {log:q}"
