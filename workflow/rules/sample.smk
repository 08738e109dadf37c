# Sampling: every sampler setting an experiment lists, N images from its seed range; and a short
# denoising trajectory for the GIF.


rule sample:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        samples="results/experiments/{exp}/samples/{run}.npz",
        grid=report(
            "results/experiments/{exp}/samples/{run}.png",
            caption="../report/samples_grid.rst",
            category="{exp}",
            subcategory="Samples",
            labels={"experiment": "{exp}", "sampler": "{run}"},
        ),
        info="results/experiments/{exp}/samples/{run}.json",
    log:
        "logs/sample/{exp}/{run}.log",
    benchmark:
        "benchmarks/sample/{exp}/{run}.tsv"
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        sampler=lambda w: sampler_json(w.exp, w.run),
        sampling=lambda w: sampling_json(w.exp),
        test=lambda w: test_split_flag(w.exp),
        device=DEVICE_FLAG,
    shell:
        "python scripts/sample.py --checkpoint {input.checkpoint:q} --sampler {params.sampler:q}"
        " --sampling {params.sampling:q} {params.test} --out {output.samples:q} --grid {output.grid:q}"
        " --info {output.info:q} {params.device} 2> {log:q}"


rule sample_trajectory:
    input:
        checkpoint="results/experiments/{exp}/model.pt",
        test=lambda w: split_of(w.exp, "test") if needs_test_texts(w.exp) else [],
    output:
        frames="results/experiments/{exp}/trajectory.npz",
        gif=report(
            "results/experiments/{exp}/trajectory.gif",
            caption="../report/trajectory.rst",
            category="{exp}",
            subcategory="Denoising",
            labels={"experiment": "{exp}", "figure": "trajectory"},
        ),
    log:
        "logs/sample_trajectory/{exp}.log",
    conda:
        CONDA_ENV
    resources:
        gpu=1,
    params:
        # The experiment's first sampler setting draws the trajectory.
        sampler=lambda w: json.dumps(
            EXPERIMENTS[w.exp]["sampling"]["runs"][0], sort_keys=True
        ),
        sampling=lambda w: sampling_json(w.exp),
        test=lambda w: test_split_flag(w.exp),
        device=DEVICE_FLAG,
    shell:
        "python scripts/sample_trajectory.py --checkpoint {input.checkpoint:q} --sampler {params.sampler:q}"
        " --sampling {params.sampling:q} {params.test} --out-npz {output.frames:q} --out-gif {output.gif:q}"
        " {params.device} 2> {log:q}"
