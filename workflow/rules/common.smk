# Config validation and the helpers every rule file uses. Paths of results are defined here and
# nowhere else ("Result paths" below); the ddpm package never sees them.
import functools
import json
import os
import re
import shlex
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import min_version, validate

min_version("8.20")


def _check_dataset_options():
    """Name the option that does not fit a dataset's source (the schema's own message cannot)."""
    with open(workflow.source_path("../schemas/datasets.schema.yaml")) as f:
        blocks = yaml.safe_load(f)["allOf"]
    problems = []
    for name, entry in (config.get("datasets") or {}).items():
        if not isinstance(entry, dict):
            continue
        for block in blocks:
            source = block["if"]["properties"]["source"]
            if entry.get("source") not in source.get("enum", [source.get("const")]):
                continue
            wrong = sorted(
                k
                for k, v in block["then"].get("properties", {}).items()
                if v is False and k in entry
            )
            missing = sorted(
                k for k in block["then"].get("required", []) if k not in entry
            )
            if wrong:
                problems.append(
                    f"dataset {name!r}: option(s) {wrong} do not apply to source {entry['source']!r}"
                )
            if missing:
                problems.append(
                    f"dataset {name!r}: source {entry['source']!r} needs option(s) {missing}"
                )
    if problems:
        raise WorkflowError("invalid config:\n  " + "\n  ".join(problems))


def _config_files():
    return (
        ", ".join(map(str, workflow.config_settings.configfiles))
        or "config/config.yaml"
    )


def _yaml_number_fix(value):
    """`1.0e+6` for `1.0e6` or `1e6`: YAML 1.1 reads a number without a dot or an exponent sign as text."""
    match = re.fullmatch(r"([-+]?)(\d+)(?:\.(\d*))?[eE]([-+]?)(\d+)", value.strip())
    if not match:
        return None
    sign, whole, fraction, exp_sign, exponent = match.groups()
    return f"{sign}{whole}.{fraction or 0}e{exp_sign or '+'}{exponent}"


def _command_line_booleans():
    """`--config download=false` means what `download=False` means (Snakemake leaves `false` a string)."""
    with open(workflow.source_path("../schemas/config.schema.yaml")) as f:
        properties = yaml.safe_load(f)["properties"]
    for key, spec in properties.items():
        value = config.get(key)
        if spec.get("type") == "boolean" and isinstance(value, str):
            if value.lower() in ("true", "false"):
                config[key] = value.lower() == "true"


def _validate_config():
    """Keys and types: one short message naming the key and where it is (jsonschema's own prints the
    whole schema and config); a typo in any key stops the run here, before any job starts.
    """
    import jsonschema

    _command_line_booleans()
    try:
        validate(config, schema="../schemas/config.schema.yaml")
    except WorkflowError as exc:
        # Snakemake raises from jsonschema's error, formatted into one long string.
        if not isinstance(exc.__context__, jsonschema.ValidationError):
            raise
        error = jsonschema.exceptions.best_match([exc.__context__])
        where = ".".join(map(str, error.absolute_path)) or "the top level"
        message = error.message
        if error.validator == "additionalProperties":
            message += (
                f"; known keys there: {', '.join(error.schema.get('properties', {}))}"
            )
        if isinstance(error.instance, str) and _yaml_number_fix(error.instance):
            message += (
                f"; YAML reads {error.instance} as text: write {_yaml_number_fix(error.instance)}"
                " (a dot in the number and a sign in the exponent)"
            )
        raise WorkflowError(
            f"invalid config ({_config_files()}): at {where}: {message}"
        ) from None


_check_dataset_options()
_validate_config()

EXPERIMENTS = config["experiments"]
DATASETS = config["datasets"]
FEATURE_SETS = ("classifier", "inception")
CONDA_ENV = "../envs/ddpm.yaml"
# Jobs run with the interpreter that runs Snakemake (`.venv/bin/snakemake` works without activating
# the venv), not with whichever `python` comes first on PATH: the shell prefix below makes `python`
# in every rule's command that interpreter. With --sdm conda/apptainer, the environment's `python`.
PYTHON = shlex.quote(sys.executable)
PYTHON_IN_JOBS = (
    ""
    if workflow.deployment_settings.deployment_method
    else f'python() {{{{ {PYTHON} "$@"; }}}}; '
)
# Scripts import the ddpm package of this checkout, whether or not (or wherever) it is installed.
ROOT = Path(workflow.basedir).parent
# (shell.prefix formats its argument once more, hence the doubled braces of ${PYTHONPATH:+...}.)
shell.prefix(
    f"export PYTHONPATH={shlex.quote(str(ROOT))}${{{{PYTHONPATH:+:$PYTHONPATH}}}}; {PYTHON_IN_JOBS}"
)

# Where raw files come from is not provenance: it reaches the (local) fetch jobs through the
# environment, so moving to a machine with another mirror reruns nothing.
if config.get("mirror"):
    os.environ.update(DDPM_MIRROR=str(config["mirror"]))
if "download" in config:
    os.environ.update(DDPM_DOWNLOAD="1" if config["download"] else "0")

# Network jobs that share one GPU at once (config `jobs_per_gpu`), and how many of them may be
# trainings (config `trainings_per_gpu`): the default run's networks are small, and one alone
# leaves most of an H100/H200 idle. The slots beyond the trainings' let the short jobs (judges,
# reference statistics, samples, figures), mostly start-up and compilation, run while the long
# trainings keep the GPU busy, instead of queueing behind them. Scheduling only: no result
# depends on it.
JOBS_PER_GPU = 6
TRAININGS_PER_GPU = 4

# Flags that change results are params of the rules that use them (a change reruns those jobs).
DEVICE_FLAG = f"--device {config['device']}" if "device" in config else ""
# The network jobs' device, unset meaning the scripts' default: auto (a GPU where there is one).
DEVICE = config.get("device", "auto")
INCEPTION_FLAG = (
    f"--inception-weights {shlex.quote(config['inception_weights'])}"
    if config.get("inception_weights")
    else ""
)
GPUS_PER_TRAINING = config.get("gpus_per_training", 1)
# More than one GPU: torchrun starts one process per GPU and the script trains with DDP.
TRAIN_LAUNCHER = (
    f"python -m torch.distributed.run --standalone --nproc-per-node {GPUS_PER_TRAINING}"
    if GPUS_PER_TRAINING > 1
    else "python"
)
METRICS_JSON = json.dumps(config.get("metrics", {}), sort_keys=True)
CLASSIFIER_JSON = json.dumps(config.get("classifier", {}), sort_keys=True)


def run_label(run):
    """A sampler setting's name in file names and tables: `name`, else sampler + steps."""
    return run.get("name") or f"{run['sampler']}{run['steps']}"


def runs_of(exp):
    return {run_label(run): run for run in EXPERIMENTS[exp]["sampling"]["runs"]}


def _check_references():
    problems = []
    for name in config["run"]:
        if name not in EXPERIMENTS:
            problems.append(
                f"run lists {name!r}, which is not under experiments (known: {', '.join(EXPERIMENTS)})"
            )
    for name, exp in EXPERIMENTS.items():
        if exp["dataset"] not in DATASETS:
            problems.append(
                f"experiment {name!r} uses dataset {exp['dataset']!r}, which is not under datasets (known: {', '.join(DATASETS)})"
            )
        labels = [run_label(run) for run in exp["sampling"]["runs"]]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            problems.append(
                f"experiment {name!r} has several sampling runs labelled {repeated}; give them distinct `name`s"
            )
    if problems:
        raise WorkflowError("invalid config:\n  " + "\n  ".join(problems))


_check_references()


wildcard_constraints:
    exp="|".join(map(re.escape, EXPERIMENTS)),
    dataset="|".join(map(re.escape, DATASETS)),
    run=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    features="|".join(FEATURE_SETS),


# Result paths: every `results/...` pattern is written here once, with its wildcards; rules use the
# pattern as it is, and functions fill in what they know with fill().
RAW_DIR = "results/raw/{dataset}"
RAW_MANIFEST = f"{RAW_DIR}/MANIFEST.json"
DATA_DIR = "results/data/{dataset}"
DATA_SPLIT = f"{DATA_DIR}/{{split}}.{{ext}}"  # ext: npz (arrays) or json (sidecar)
SPLITS = ("train", "val", "test")
CLASSIFIER_DIR = "results/classifiers/{dataset}"
CLASSIFIER = f"{CLASSIFIER_DIR}/classifier.pt"
CLASSIFIER_METRICS = f"{CLASSIFIER_DIR}/metrics.json"
FID_REFERENCE = "results/fid_refs/{dataset}/{features}.npz"
EXP_DIR = "results/experiments/{exp}"
MODEL = f"{EXP_DIR}/model.pt"
TRAIN_STATE = f"{EXP_DIR}/state.pt"
TRAIN_LOG = f"{EXP_DIR}/train_log.csv"
PROVENANCE = f"{EXP_DIR}/provenance.json"
TEST_LOSS = f"{EXP_DIR}/test_loss.json"
SAMPLES = (
    f"{EXP_DIR}/samples/{{run}}.{{ext}}"  # ext: npz (images), png (grid), json (info)
)
SAMPLE_METRICS = f"{EXP_DIR}/metrics/{{run}}.json"
TRAJECTORY = f"{EXP_DIR}/trajectory.{{ext}}"  # ext: npz (frames) or gif
FIGURES_DIR = "results/figures"
# Every figure is written as PDF (vector) and PNG: ext is pdf or png.
SCHEDULES_FIGURE = f"{FIGURES_DIR}/schedules.{{ext}}"
EXP_FIGURE = f"{FIGURES_DIR}/{{exp}}/{{figure}}.{{ext}}"
DATA_SPLIT_FIGURE = f"{FIGURES_DIR}/data/{{dataset}}/{{split}}.{{ext}}"
FIGURE_SPLITS = ("train", "test")  # the splits drawn as dataset figures
TABLES_DIR = "results/tables"


# Sampling-step counts of the steps figure ("all" = the diffusion's T).
STEPS_FIGURE_COUNTS = ("5", "20", "all")


def fill(pattern, **values):
    """A path pattern with the given wildcards filled in; the others stay wildcards."""
    return re.sub(
        r"\{(\w+)\}", lambda m: str(values.get(m.group(1), m.group(0))), pattern
    )


def exp_dir(exp):
    return fill(EXP_DIR, exp=exp)


def dataset_of(exp):
    return EXPERIMENTS[exp]["dataset"]


def split_of(exp, split):
    return fill(DATA_SPLIT, dataset=dataset_of(exp), split=split, ext="npz")


def section_json(exp, key):
    """One section of an experiment as JSON for a script (absent: {} and the dataclass defaults)."""
    return json.dumps(EXPERIMENTS[exp].get(key, {}), sort_keys=True)


def sampling_json(exp):
    return json.dumps(
        {k: v for k, v in EXPERIMENTS[exp]["sampling"].items() if k != "runs"},
        sort_keys=True,
    )


def sampler_json(exp, run):
    runs = runs_of(exp)
    if run not in runs:
        raise WorkflowError(
            f"experiment {exp!r} has no sampling run {run!r} (has: {', '.join(runs)})"
        )
    return json.dumps(runs[run], sort_keys=True)


def needs_test_texts(exp):
    return EXPERIMENTS[exp]["sampling"].get("random_texts", 0) > 0


def experiment_targets(exp):
    runs = list(runs_of(exp))
    return [
        fill(MODEL, exp=exp),
        fill(TRAJECTORY, exp=exp, ext="gif"),
        fill(TEST_LOSS, exp=exp),
        *[fill(SAMPLES, exp=exp, run=run, ext="png") for run in runs],
        *[fill(SAMPLE_METRICS, exp=exp, run=run) for run in runs],
        *[
            fill(EXP_FIGURE, exp=exp, figure=figure, ext=ext)
            for figure in (
                "forward_process",
                "denoiser",
                "steps",
                "loss_curves",
                "fid_vs_steps",
            )
            + (("schedule",) if experiment_has_schedule(exp) else ())
            for ext in ("png", "pdf")
        ],
        *[
            fill(DATA_SPLIT_FIGURE, dataset=dataset_of(exp), split=split, ext=ext)
            for split in FIGURE_SPLITS
            for ext in ("png", "pdf")
        ],
    ]


def description_of(exp):
    """The experiment's description: the subtitle of its figures."""
    return EXPERIMENTS[exp].get("description", exp)


def experiment_has_schedule(exp):
    """A Gaussian diffusion has beta schedule constants to plot; the toy diffusion has none."""
    return EXPERIMENTS[exp].get("diffusion", {}).get("kind", "gaussian") == "gaussian"


TABLES = expand(
    f"{TABLES_DIR}/{{table}}.{{ext}}",
    table=("main", "samples", "experiments", "speed"),
    ext=("csv", "md", "tex"),
)


def image_folder_contents(wildcards):
    """An image folder, its sub-folders and files: adding, removing or changing an image reruns."""
    path = DATASETS[wildcards.dataset].get("path")
    return [path, *map(str, Path(path).rglob("*"))] if path else []


def test_split_flag(exp):
    """Text experiments draw held-out strings from the test split."""
    return f"--test {split_of(exp, 'test')}" if needs_test_texts(exp) else ""


def figure(path, caption, category, subcategory, labels):
    return report(
        path,
        caption=f"../report/{caption}.rst",
        category=category,
        subcategory=subcategory,
        labels=labels,
    )


def table_inputs():
    """Per experiment in `run`: the files make_tables.py reads."""
    inputs = {}
    for exp in config["run"]:
        inputs[exp] = {
            "provenance": fill(PROVENANCE, exp=exp),
            "test_loss": fill(TEST_LOSS, exp=exp),
            "classifier_metrics": fill(CLASSIFIER_METRICS, dataset=dataset_of(exp)),
            "runs": {
                run: {
                    "metrics": fill(SAMPLE_METRICS, exp=exp, run=run),
                    "info": fill(SAMPLES, exp=exp, run=run, ext="json"),
                }
                for run in runs_of(exp)
            },
        }
    return inputs


def table_input_files():
    for files in table_inputs().values():
        yield from (
            files["provenance"],
            files["test_loss"],
            files["classifier_metrics"],
        )
        for run in files["runs"].values():
            yield from run.values()


# One inductor cache for every job of the workflow (and for later runs): a network architecture is
# compiled once and the other jobs that run it load the compiled kernels. Set
# TORCHINDUCTOR_CACHE_DIR yourself to use another folder.
os.environ.setdefault(
    "TORCHINDUCTOR_CACHE_DIR", str(ROOT / "results" / "cache" / "torchinductor")
)

# What a finished run reports about itself (wall time, GPU-busy share, model FLOPs).
RUN_DIR = "results/run"
GPU_MONITOR_CSV = f"{RUN_DIR}/gpu_utilisation.csv"
RUN_SUMMARY_JSON = f"{RUN_DIR}/summary.json"


_RUN_START = {}


def start_run_monitor():
    """Note the run's start and sample the GPUs' utilisation until Snakemake exits."""
    import subprocess
    import sys
    import time

    _RUN_START["time"] = time.time()
    Path(RUN_DIR).mkdir(parents=True, exist_ok=True)
    subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "gpu_monitor.py"),
            "--out",
            GPU_MONITOR_CSV,
            "--parent",
            str(os.getpid()),
        ],
        env=env_with_package(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


# How the network jobs share a GPU (config `gpu_sharing`: auto, mps, time_slicing): under MPS
# their kernels run at once instead of taking turns (ddpm/mps.py). No result depends on it.
GPU_SHARING = "auto"
_GPU_SHARING = {}


def start_gpu_sharing():
    """Start an MPS daemon of this run's own for its jobs, where `gpu_sharing` asks for it (auto:
    where the jobs run on this machine's GPU and the daemon serves a client; else time slicing).
    """
    import subprocess

    from ddpm.mps import PIPE_VARIABLE, MpsUnavailable, start_daemon

    sharing = config.get("gpu_sharing", GPU_SHARING)
    on_gpu = _gpu_count() > 0 and not _network_jobs_on_cpu()
    if not workflow.local_exec or not on_gpu:
        if sharing == "mps":
            where = (
                "this run's jobs run on a cluster"
                if not workflow.local_exec
                else "this run uses no GPU (device: cpu, or none found)"
            )
            raise WorkflowError(
                f"gpu_sharing: mps, but {where}: an MPS daemon serves one machine's GPUs. "
                "Leave gpu_sharing at auto (or set time_slicing)."
            )
        return
    _GPU_SHARING["mode"] = "time_slicing"
    if sharing == "time_slicing":
        return
    if GPUS_PER_TRAINING > 1 and sharing == "auto":
        # NCCL between MPS clients is not what the trainings were measured with.
        print("GPU sharing: time slicing (gpus_per_training > 1)", file=sys.stderr)
        return
    if PIPE_VARIABLE in os.environ:
        # A daemon the user (or the site) started: the jobs are its clients already.
        _GPU_SHARING["mode"] = "mps"
        print(
            f"GPU sharing: MPS, the daemon at {os.environ[PIPE_VARIABLE]}",
            file=sys.stderr,
        )
        return
    try:
        daemon = start_daemon()
    except MpsUnavailable as exc:
        if sharing == "mps":
            raise WorkflowError(
                f"gpu_sharing: mps, but {exc}\nRun with --config gpu_sharing=auto (time slicing "
                "where MPS cannot start) or gpu_sharing=time_slicing."
            )
        print(f"GPU sharing: time slicing (MPS unavailable: {exc})", file=sys.stderr)
        return
    os.environ.update(daemon.env)
    _GPU_SHARING.update(mode="mps", daemon=daemon)
    # Quits the daemon should Snakemake end without its end hooks (killed).
    subprocess.Popen(
        [
            sys.executable,
            "-m",
            "ddpm.mps",
            "stop-after",
            str(os.getpid()),
            daemon.control,
            str(daemon.folder),
        ],
        env=env_with_package(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    print(f"GPU sharing: MPS, a daemon for this run ({daemon.folder})", file=sys.stderr)


def stop_gpu_sharing():
    """Quit this run's MPS daemon, if it started one."""
    from ddpm.mps import stop_daemon

    daemon = _GPU_SHARING.pop("daemon", None)
    if daemon is not None:
        stop_daemon(daemon)


def summarize_run():
    """Wall time, per-rule times, GPU-busy share and model FLOPs of the run that just ended."""
    import subprocess
    import sys
    import time

    if "time" not in _RUN_START:
        return
    folders = [exp_dir(exp) for exp in config["run"]]
    command = [
        sys.executable,
        str(ROOT / "scripts" / "summarize_run.py"),
        "--start",
        str(_RUN_START["time"]),
        "--end",
        str(time.time()),
        "--monitor",
        GPU_MONITOR_CSV,
        "--benchmarks",
        "benchmarks",
        "--experiment",
        *folders,
        "--out",
        RUN_SUMMARY_JSON,
    ]
    if "mode" in _GPU_SHARING:
        command += ["--gpu-sharing", _GPU_SHARING["mode"]]
    if subprocess.run(command, env=env_with_package()).returncode != 0:
        print(
            f"the run summary ({RUN_SUMMARY_JSON}) could not be written; the results are complete",
            file=sys.stderr,
        )


def profile_resources(name):
    """Resources a profile sets for rule ``name`` (``set-resources``), for the rules made per
    experiment (``sample_<exp>``, ``evaluate_samples_<exp>``), which share the settings of their
    family's name: a SLURM profile then configures them all in one place."""
    settings = workflow.resource_settings.overwrite_resources.get(name, {})
    # From the command line they arrive parsed (Resource objects); from a profile, plain values.
    return {key: getattr(value, "raw", value) for key, value in settings.items()}


# ---- Before any job: GPUs as a resource, and what the requested targets will cost ----------------
# At parse time, in the process the user started (not in the jobs Snakemake starts on cluster nodes);
# the targets and -n/--lint come from the command line, parsed by Snakemake's own parser.


def _command_line():
    from snakemake.cli import get_argument_parser

    if (
        "snakemake" not in Path(sys.argv[0]).as_posix()
    ):  # the API, called from another program
        return None
    try:
        args, _ = get_argument_parser().parse_known_args(sys.argv[1:])
    except SystemExit:  # not Snakemake's command line (e.g. the API from a script)
        return None
    return args


def _requested_experiments(targets):
    """Experiment -> "training" or "all" for the targets; no target, or a target that is not a
    file of one experiment (a rule's name, a table), stands for every experiment in `run`.
    """
    experiments = {}
    whole = not targets
    for target in targets:
        match = re.match(r"(?:\./)?results/(experiments|figures)/([^/]+)/(.*)", target)
        if match and match.group(2) in EXPERIMENTS:
            training_only = match.group(3) in (
                "model.pt",
                "train_log.csv",
                "provenance.json",
            )
            if not training_only or match.group(2) not in experiments:
                experiments[match.group(2)] = "training" if training_only else "all"
        elif not target.startswith(
            ("results/data/", "results/raw/", "results/classifiers/")
        ):
            whole = True
    if whole:
        experiments.update({exp: "all" for exp in config["run"]})
    return experiments


def experiment_work(exp, *, train=True, sampling_runs=None):
    """ddpm.workload's estimate for one experiment, with its dataset's image size (a fixed-size
    source, MNIST 28x28 or CIFAR 32x32, has no image_size option)."""
    from ddpm.data.registry import get_source
    from ddpm.workload import experiment_workload

    entry = DATASETS[dataset_of(exp)]
    options = get_source(entry["source"]).resolve_options(entry)
    return experiment_workload(
        exp,
        EXPERIMENTS[exp],
        options.get("image_size", (32, 32)),
        channels=options.get("channels", 1),
        train=train,
        sampling_runs=sampling_runs,
    )


def _requested_work(targets):
    """The work still to do for the targets: trainings and sampling runs whose outputs are absent."""
    workloads = []
    for exp, scope in _requested_experiments(targets).items():
        runs = [
            run
            for label, run in runs_of(exp).items()
            if scope == "all"
            and not Path(fill(SAMPLES, exp=exp, run=label, ext="json")).exists()
        ]
        train = not Path(fill(MODEL, exp=exp)).exists()
        workloads.append(experiment_work(exp, train=train, sampling_runs=runs))
    return [w for w in workloads if w.training_images or w.sampling_evaluations]


@functools.cache
def _training_ranks():
    """Experiment -> 1 + its place when sorted by estimated training work."""
    costs = {
        name: experiment_work(name, sampling_runs=[]).training_cost
        for name in EXPERIMENTS
    }
    return {
        name: rank + 1 for rank, name in enumerate(sorted(EXPERIMENTS, key=costs.get))
    }


def training_priority(exp):
    """Longest training first (Snakemake starts higher priorities first), and every training
    before any other job: the long trainings are the run's critical path, and short jobs fill the
    GPU beside them."""
    return len(EXPERIMENTS) + _training_ranks()[exp]


def experiment_priority(exp):
    """Priority of an experiment's sampling and evaluation: below every training, and the
    experiment that trains longest first, so the chain that ends last (its training, samples,
    metrics, tables) never waits for a free GPU slot behind shorter experiments' jobs.
    """
    return _training_ranks()[exp]


@functools.cache
def _gpu_count():
    """The GPUs this (the workflow's own) process sees, asked of the driver once per run."""
    from ddpm.cuda_devices import cuda_device_count

    return cuda_device_count()


def _network_jobs_on_cpu():
    """Whether the network jobs run on the CPU: config `device` cpu, or auto without a GPU."""
    return DEVICE == "cpu" or (DEVICE == "auto" and not _gpu_count())


def _before_any_job():
    args = _command_line()
    if args is None or args.lint or not workflow.is_main_process:
        return
    from ddpm.workload import CPU_RATE, GPU_RATE, describe, exceeds_cpu_limit

    gpus = _gpu_count()
    # Network jobs ask for one `gpu` slot: `jobs_per_gpu` of them share each GPU at once (small
    # networks leave most of a GPU idle alone), at most `trainings_per_gpu` of them trainings,
    # unless --resources says otherwise; without GPUs the resources stay undeclared and CPU jobs
    # run side by side (one thread each: Snakemake sets OMP_NUM_THREADS to a job's threads).
    if gpus and "gpu" not in workflow.global_resources:
        # Jobs run on the first visible GPU (see README: GPUs), so its slots are the limit.
        workflow.global_resources["gpu"] = config.get("jobs_per_gpu", JOBS_PER_GPU)
    if gpus and "training" not in workflow.global_resources:
        workflow.global_resources["training"] = config.get(
            "trainings_per_gpu", TRAININGS_PER_GPU
        )
    work = _requested_work(args.targets)
    if not work:
        return
    if not _network_jobs_on_cpu():
        print(describe(work, GPU_RATE, "on one GPU"), file=sys.stderr)
        return
    estimate = describe(work, CPU_RATE, "on this machine's CPU")
    if DEVICE == "cpu" or not exceeds_cpu_limit(work):
        print(estimate, file=sys.stderr)
        return
    message = (
        f"No GPU found, and the network jobs would run on the CPU.\n{estimate}\n"
        "Either check the pipeline in minutes with the smoke config:\n"
        "  snakemake --cores all --configfile config/smoke.yaml\n"
        "or run it on the CPU anyway: add device=cpu to --config (one --config takes several\n"
        "key=value pairs), e.g. snakemake --cores all --config device=cpu"
    )
    if args.dryrun:
        print(f"{message}\n(a dry run: a real run stops here)", file=sys.stderr)
        return
    print(message, file=sys.stderr)
    sys.exit(1)


sys.path.insert(0, str(ROOT))  # the ddpm package of this checkout
# The helpers this process starts (GPU monitor, MPS watcher, run summary) import the same package.
from ddpm.processes import env_with_package

_before_any_job()
