"""Training progress reaches the console of a Snakemake run."""

from test_divergence import DIFFUSION, MODEL, SPEC, _data, _files, _training

from ddpm.training import train


def test_progress_reaches_the_console_a_few_times_per_run(tmp_path, capsys):
    # stdout is what Snakemake shows on its console (the rules send stderr to the job's log).
    train(MODEL, SPEC, DIFFUSION, _training(steps=40, log_every=2), _data(), _files(tmp_path), meta={"experiment": "tiny"})
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].startswith("tiny: step 40/40, loss ") and lines[-1].endswith("ETA 0m00s") and " img/s, " in lines[-1]
    assert 2 <= len(lines) <= 11  # at most one per tenth of the run, not one per log step (20)
