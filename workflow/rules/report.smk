# Figures and tables. Every figure is written as PNG (a report() output with a caption, so
# `snakemake --report report.html` collects it) and as PDF beside it, for papers.


rule plot_schedules:
    output:
        png=figure(
            fill(SCHEDULES_FIGURE, ext="png"),
            "schedules",
            "Diffusion",
            "Schedules",
            {"figure": "beta schedules"},
        ),
        pdf=fill(SCHEDULES_FIGURE, ext="pdf"),
    log:
        "logs/plot_schedules.log",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_schedules.py --out {output.png:q} > {log:q} 2>&1"


rule plot_experiment_schedule:
    output:
        png=figure(
            fill(EXP_FIGURE, figure="schedule", ext="png"),
            "experiment_schedule",
            "{exp}",
            "Diffusion",
            {"experiment": "{exp}", "figure": "schedule constants"},
        ),
        pdf=fill(EXP_FIGURE, figure="schedule", ext="pdf"),
    log:
        "logs/plot_experiment_schedule/{exp}.log",
    conda:
        CONDA_ENV
    params:
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_schedules.py --diffusion {params.diffusion:q} --description {params.description:q}"
        " --out {output.png:q} > {log:q} 2>&1"


rule plot_dataset_splits:
    input:
        **{split: fill(DATA_SPLIT, split=split, ext="npz") for split in FIGURE_SPLITS},
    output:
        **{
            split: figure(
                fill(DATA_SPLIT_FIGURE, split=split, ext="png"),
                "dataset_split",
                "Datasets",
                "{dataset}",
                {"dataset": "{dataset}", "split": split},
            )
            for split in FIGURE_SPLITS
        },
        **{
            f"{split}_pdf": fill(DATA_SPLIT_FIGURE, split=split, ext="pdf")
            for split in FIGURE_SPLITS
        },
    log:
        "logs/plot_dataset_splits/{dataset}.log",
    conda:
        CONDA_ENV
    params:
        # One job per dataset, every split figure: one start of Python.
        splits=lambda w, input, output: " ".join(
            f"--split {shlex.quote(input[split])} --out {shlex.quote(output[split])}"
            for split in FIGURE_SPLITS
        ),
    shell:
        "python scripts/plot_dataset_grid.py {params.splits} > {log:q} 2>&1"


rule plot_forward_process:
    input:
        data=lambda w: split_of(w.exp, "test"),
    output:
        png=figure(
            fill(EXP_FIGURE, figure="forward_process", ext="png"),
            "forward_process",
            "{exp}",
            "Diffusion",
            {"experiment": "{exp}", "figure": "forward process"},
        ),
        pdf=fill(EXP_FIGURE, figure="forward_process", ext="pdf"),
    log:
        "logs/plot_forward_process/{exp}.log",
    conda:
        CONDA_ENV
    params:
        diffusion=lambda w: section_json(w.exp, "diffusion"),
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_forward_process.py --data {input.data:q} --diffusion {params.diffusion:q}"
        " --description {params.description:q} --out {output.png:q} > {log:q} 2>&1"


rule plot_denoiser:
    input:
        checkpoint=MODEL,
        data=lambda w: split_of(w.exp, "test"),
    output:
        png=figure(
            fill(EXP_FIGURE, figure="denoiser", ext="png"),
            "denoiser",
            "{exp}",
            "Denoising",
            {"experiment": "{exp}", "figure": "denoiser input and output"},
        ),
        pdf=fill(EXP_FIGURE, figure="denoiser", ext="pdf"),
    log:
        "logs/plot_denoiser/{exp}.log",
    benchmark:
        "benchmarks/plot_denoiser/{exp}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        device=DEVICE_FLAG,
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_denoiser.py --checkpoint {input.checkpoint:q} --data {input.data:q}"
        " --description {params.description:q} --out {output.png:q} {params.device} > {log:q} 2>&1"


rule plot_steps:
    input:
        checkpoint=MODEL,
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        png=figure(
            fill(EXP_FIGURE, figure="steps", ext="png"),
            "steps",
            "{exp}",
            "Samples",
            {
                "experiment": "{exp}",
                "figure": f"{', '.join(STEPS_FIGURE_COUNTS)} steps",
            },
        ),
        pdf=fill(EXP_FIGURE, figure="steps", ext="pdf"),
    log:
        "logs/plot_steps/{exp}.log",
    benchmark:
        "benchmarks/plot_steps/{exp}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        steps=STEPS_FIGURE_COUNTS,
        sampling=lambda w: sampling_json(w.exp),
        test=lambda w: test_split_flag(w.exp),
        device=DEVICE_FLAG,
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_steps.py --checkpoint {input.checkpoint:q} --steps {params.steps}"
        " --sampling {params.sampling:q} {params.test} --description {params.description:q}"
        " --out {output.png:q} {params.device} > {log:q} 2>&1"


rule plot_loss_curves:
    input:
        TRAIN_LOG,
    output:
        png=figure(
            fill(EXP_FIGURE, figure="loss_curves", ext="png"),
            "loss_curves",
            "{exp}",
            "Training",
            {"experiment": "{exp}", "figure": "loss curves"},
        ),
        pdf=fill(EXP_FIGURE, figure="loss_curves", ext="pdf"),
    log:
        "logs/plot_loss_curves/{exp}.log",
    conda:
        CONDA_ENV
    params:
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_loss_curves.py --log {input:q} --description {params.description:q}"
        " --out {output.png:q} > {log:q} 2>&1"


rule plot_fid_vs_steps:
    input:
        metrics=lambda w: [
            fill(SAMPLE_METRICS, exp=w.exp, run=run) for run in runs_of(w.exp)
        ],
        info=lambda w: [
            fill(SAMPLES, exp=w.exp, run=run, ext="json") for run in runs_of(w.exp)
        ],
    output:
        png=figure(
            fill(EXP_FIGURE, figure="fid_vs_steps", ext="png"),
            "fid_vs_steps",
            "{exp}",
            "Evaluation",
            {"experiment": "{exp}", "figure": "FID vs steps"},
        ),
        pdf=fill(EXP_FIGURE, figure="fid_vs_steps", ext="pdf"),
    log:
        "logs/plot_fid_vs_steps/{exp}.log",
    conda:
        CONDA_ENV
    params:
        description=lambda w: description_of(w.exp),
    shell:
        "python scripts/plot_fid_vs_steps.py --metrics {input.metrics:q} --info {input.info:q}"
        " --description {params.description:q} --out {output.png:q} > {log:q} 2>&1"


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
        # In the config's order: experiments as `run` lists them, sampler runs as each lists them.
        inputs=json.dumps(table_inputs()),
        out_dir=lambda w, output: Path(output[0]).parent,
    shell:
        "python scripts/make_tables.py --inputs {params.inputs:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"
