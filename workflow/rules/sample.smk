# Sampling: one job per experiment draws every sampler setting it lists (N images from its seed
# range each) and a short denoising trajectory for the GIF, in one process with one compilation.
# The rules are made per experiment because each lists its own settings (and so its own outputs).


for _exp in EXPERIMENTS:

    rule:
        name:
            f"sample_{_exp}"
        input:
            checkpoint=fill(MODEL, exp=_exp),
            test=split_of(_exp, "test") if needs_test_texts(_exp) else [],
        output:
            samples=[
                fill(SAMPLES, exp=_exp, run=run, ext="npz") for run in runs_of(_exp)
            ],
            grids=[
                report(
                    fill(SAMPLES, exp=_exp, run=run, ext="png"),
                    caption="../report/samples_grid.rst",
                    category=_exp,
                    subcategory="Samples",
                    labels={"experiment": _exp, "sampler": run},
                )
                for run in runs_of(_exp)
            ],
            grids_pdf=[
                fill(SAMPLES, exp=_exp, run=run, ext="pdf") for run in runs_of(_exp)
            ],
            info=[fill(SAMPLES, exp=_exp, run=run, ext="json") for run in runs_of(_exp)],
            frames=fill(TRAJECTORY, exp=_exp, ext="npz"),
            gif=report(
                fill(TRAJECTORY, exp=_exp, ext="gif"),
                caption="../report/trajectory.rst",
                category=_exp,
                subcategory="Denoising",
                labels={"experiment": _exp, "figure": "trajectory"},
            ),
        log:
            f"logs/sample/{_exp}.log",
        benchmark:
            f"benchmarks/sample/{_exp}.tsv"
        priority: experiment_priority(_exp)
        conda:
            CONDA_ENV
        resources:
            **profile_resources("sample"),
            gpu=1,
        params:
            runs=json.dumps(EXPERIMENTS[_exp]["sampling"]["runs"], sort_keys=True),
            sampling=sampling_json(_exp),
            test=test_split_flag(_exp),
            out_dir=lambda w, output: os.path.dirname(output.samples[0]),
            description=description_of(_exp),
            device=DEVICE_FLAG,
        shell:
            "python scripts/sample.py --checkpoint {input.checkpoint:q} --runs {params.runs:q}"
            " --sampling {params.sampling:q} {params.test} --out-dir {params.out_dir:q}"
            " --trajectory-npz {output.frames:q} --trajectory-gif {output.gif:q} --description {params.description:q}"
            " {params.device} > {log:q} 2>&1"
