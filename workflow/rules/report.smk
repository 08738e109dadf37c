# Figures and tables. Every figure is a report() output with a caption, so
# `snakemake --report report.html` collects them.


rule plot_schedules:
    output:
        figure(
            SCHEDULES_FIGURE,
            "schedules",
            "Diffusion",
            "Schedules",
            {"figure": "beta schedules"},
        ),
    log:
        "logs/plot_schedules.log",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_schedules.py --out {output:q} > {log:q} 2>&1"


rule plot_forward_process:
    input:
        data=lambda w: split_of(w.exp, "test"),
    output:
        figure(
            fill(EXP_FIGURE, figure="forward_process"),
            "forward_process",
            "{exp}",
            "Diffusion",
            {"experiment": "{exp}", "figure": "forward process"},
        ),
    log:
        "logs/plot_forward_process/{exp}.log",
    conda:
        CONDA_ENV
    params:
        diffusion=lambda w: section_json(w.exp, "diffusion"),
    shell:
        "python scripts/plot_forward_process.py --data {input.data:q} --diffusion {params.diffusion:q}"
        " --title {wildcards.exp} --out {output:q} > {log:q} 2>&1"


rule plot_denoiser:
    input:
        checkpoint=MODEL,
        data=lambda w: split_of(w.exp, "test"),
    output:
        figure(
            fill(EXP_FIGURE, figure="denoiser"),
            "denoiser",
            "{exp}",
            "Denoising",
            {"experiment": "{exp}", "figure": "denoiser input and output"},
        ),
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
    shell:
        "python scripts/plot_denoiser.py --checkpoint {input.checkpoint:q} --data {input.data:q}"
        " --out {output:q} {params.device} > {log:q} 2>&1"


rule plot_steps:
    input:
        checkpoint=MODEL,
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        figure(
            fill(EXP_FIGURE, figure="steps"),
            "steps",
            "{exp}",
            "Samples",
            {
                "experiment": "{exp}",
                "figure": f"{', '.join(STEPS_FIGURE_COUNTS)} steps",
            },
        ),
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
    shell:
        "python scripts/plot_steps.py --checkpoint {input.checkpoint:q} --steps {params.steps}"
        " --sampling {params.sampling:q} {params.test} --out {output:q} {params.device} > {log:q} 2>&1"


rule plot_loss_curves:
    input:
        TRAIN_LOG,
    output:
        figure(
            fill(EXP_FIGURE, figure="loss_curves"),
            "loss_curves",
            "{exp}",
            "Training",
            {"experiment": "{exp}", "figure": "loss curves"},
        ),
    log:
        "logs/plot_loss_curves/{exp}.log",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_loss_curves.py --log {input:q} --title {wildcards.exp} --out {output:q} > {log:q} 2>&1"


rule plot_fid_vs_steps:
    input:
        metrics=lambda w: [
            fill(SAMPLE_METRICS, exp=w.exp, run=run) for run in runs_of(w.exp)
        ],
        info=lambda w: [
            fill(SAMPLES, exp=w.exp, run=run, ext="json") for run in runs_of(w.exp)
        ],
    output:
        figure(
            fill(EXP_FIGURE, figure="fid_vs_steps"),
            "fid_vs_steps",
            "{exp}",
            "Evaluation",
            {"experiment": "{exp}", "figure": "FID vs steps"},
        ),
    log:
        "logs/plot_fid_vs_steps/{exp}.log",
    conda:
        CONDA_ENV
    shell:
        "python scripts/plot_fid_vs_steps.py --metrics {input.metrics:q} --info {input.info:q}"
        " --title {wildcards.exp} --out {output:q} > {log:q} 2>&1"


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
        out_dir=lambda w, output: Path(output[0]).parent,
    shell:
        "python scripts/make_tables.py --inputs {params.inputs:q} --out-dir {params.out_dir:q} > {log:q} 2>&1"
