# Figures and tables. Every figure is a report() output with a caption, so
# `snakemake --report report.html` collects them.


rule plot_schedules:
    output:
        figure(
            "results/figures/schedules.png",
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
        "python scripts/plot_schedules.py --out {output:q} 2> {log:q}"


rule plot_forward_process:
    input:
        data=lambda w: split_of(w.exp, "test"),
    output:
        figure(
            "results/figures/{exp}/forward_process.png",
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
        " --title {wildcards.exp} --out {output:q} 2> {log:q}"


rule plot_denoiser:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        data=lambda w: split_of(w.exp, "test"),
    output:
        figure(
            "results/figures/{exp}/denoiser.png",
            "denoiser",
            "{exp}",
            "Denoising",
            {"experiment": "{exp}", "figure": "denoiser input and output"},
        ),
    log:
        "logs/plot_denoiser/{exp}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        device=DEVICE_FLAG,
    shell:
        "python scripts/plot_denoiser.py --checkpoint {input.checkpoint:q} --data {input.data:q}"
        " --out {output:q} {params.device} 2> {log:q}"


rule plot_steps:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        figure(
            "results/figures/{exp}/steps.png",
            "steps",
            "{exp}",
            "Samples",
            {"experiment": "{exp}", "figure": "5, 20 and all steps"},
        ),
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
    shell:
        "python scripts/plot_steps.py --checkpoint {input.checkpoint:q} --steps 5 20 all"
        " --sampling {params.sampling:q} {params.test} --out {output:q} {params.device} 2> {log:q}"


rule plot_loss_curves:
    input:
        "results/experiments/{exp}/train_log.csv",
    output:
        figure(
            "results/figures/{exp}/loss_curves.png",
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
        "python scripts/plot_loss_curves.py --log {input:q} --title {wildcards.exp} --out {output:q} 2> {log:q}"


rule plot_fid_vs_steps:
    input:
        metrics=lambda w: [
            f"{exp_dir(w.exp)}/metrics/{run}.json" for run in runs_of(w.exp)
        ],
        info=lambda w: [
            f"{exp_dir(w.exp)}/samples/{run}.json" for run in runs_of(w.exp)
        ],
    output:
        figure(
            "results/figures/{exp}/fid_vs_steps.png",
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
        " --title {wildcards.exp} --out {output:q} 2> {log:q}"


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
