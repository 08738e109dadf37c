"""Values written in more than one file agree with their one home in the code.

The config schema's enums against the registries and constants that the code checks names with;
the workflow's constants against the package's; the U-Net's defaults against ModelConfig; the
conda environments against pyproject.toml.
"""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from ddpm.config import DataSpec, DiffusionConfig, ModelConfig
from ddpm.data import SPLITS
from ddpm.errors import ConfigError
from ddpm.evaluation.feature_sets import FEATURE_SETS
from ddpm.factory import build_diffusion, build_model
from ddpm.models.layers import GROUP_NORMS, UPSAMPLES
from ddpm.models.unet import UNet
from ddpm.mps import SHARINGS
from ddpm.runtime import PRECISIONS, SWITCHES
from ddpm.samplers import SAMPLERS
from ddpm.samplers.ddpm import VARIANCES
from ddpm.samplers.spacing import SPACINGS
from ddpm.schedules import beta_schedule_names
from ddpm.targets import Target

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
DEFS = SCHEMA["$defs"]


def enum(definition: str, key: str | None = None) -> list:
    node = DEFS[definition] if key is None else DEFS[definition]["properties"][key]
    return node["enum"]


@pytest.mark.parametrize(
    "schema_enum, code_names",
    [
        (enum("diffusion", "schedule"), beta_schedule_names()),
        (enum("diffusion", "target"), [target.value for target in Target]),
        (enum("sampler", "sampler"), SAMPLERS),
        (enum("sampler", "variance"), VARIANCES),
        (enum("sampler", "spacing"), SPACINGS),
        (enum("precision"), PRECISIONS),
        (enum("switch"), SWITCHES),
        (enum("model", "group_norm"), GROUP_NORMS),
        (enum("model", "upsample"), UPSAMPLES),
        (SCHEMA["properties"]["gpu_sharing"]["enum"], SHARINGS),
    ],
    ids=["schedule", "target", "sampler", "variance", "spacing", "precision", "switch", "group_norm", "upsample", "gpu_sharing"],
)
def test_schema_enums_are_the_code_names(schema_enum, code_names):
    assert sorted(schema_enum) == sorted(code_names)


def test_the_workflows_gpu_sharing_default_is_a_schema_choice():
    default = re.search(r'^GPU_SHARING = "(\w+)"$', (ROOT / "workflow/rules/common.smk").read_text(), re.MULTILINE)
    assert default and default.group(1) in SHARINGS


DATA = DataSpec(image_channels=1, image_size=(8, 8), num_classes=2, class_names=("a", "b"), alphabet="ab", text_length=2)


def test_schema_architectures_and_conditionings_are_built():
    for architecture in enum("model", "architecture"):
        for conditioning in enum("model", "conditioning"):
            config = ModelConfig(architecture=architecture, conditioning=conditioning, base_channels=8, channel_mult=(1, 2), text_dim=8)
            try:
                build_model(config, DATA)
            except ConfigError as exc:
                # The toy U-Net is unconditional by design; any other refusal is a name the code lacks.
                assert architecture == "toy_unet" and conditioning != "none", exc
    with pytest.raises(ConfigError, match="unknown model architecture"):
        build_model(ModelConfig(architecture="not-a-network"), DATA)
    with pytest.raises(ConfigError, match="unknown conditioning"):
        build_model(ModelConfig(conditioning="not-a-condition"), DATA)
    with pytest.raises(ConfigError, match="unknown model.group_norm 'channels-last'; use one of standard, channels_last, fused"):
        build_model(ModelConfig(group_norm="channels-last"), DATA)
    with pytest.raises(ConfigError, match="unknown model.upsample 'sub-pixel'; use one of direct, subpixel"):
        build_model(ModelConfig(upsample="sub-pixel"), DATA)


def test_schema_diffusion_kinds_are_built():
    for kind in enum("diffusion", "kind"):
        build_diffusion(DiffusionConfig(kind=kind))
    with pytest.raises(ConfigError, match="unknown diffusion kind"):
        build_diffusion(DiffusionConfig(kind="not-a-kind"))


def smk_constant(path: str, name: str):
    """A constant assigned as a Python literal in a workflow file."""
    match = re.search(rf"^{name} = (.+)$", (ROOT / path).read_text(), re.MULTILINE)
    assert match, f"{path} defines no {name}"
    return ast.literal_eval(match.group(1))


def test_workflow_constants_are_the_package_ones():
    # The workflow runs without importing the package (and torch), so it keeps its own copies.
    assert tuple(smk_constant("workflow/rules/common.smk", "FEATURE_SETS")) == FEATURE_SETS
    assert tuple(smk_constant("workflow/rules/common.smk", "SPLITS")) == tuple(SPLITS)


def test_unet_defaults_are_model_config_defaults():
    defaults = ModelConfig()
    parameters = inspect.signature(UNet).parameters
    shared = [field.name for field in dataclasses.fields(ModelConfig) if field.name in parameters]
    assert len(shared) >= 8
    for name in shared:
        default = parameters[name].default
        assert (tuple(default) if isinstance(default, list) else default) == getattr(defaults, name), name


# pyproject name -> conda-forge name (absent: same name); packages the rules' environment does not need.
CONDA_NAMES = {"torch": "pytorch", "matplotlib": "matplotlib-base"}
ONLY_FOR_SNAKEMAKE = {"snakemake", "snakemake-executor-plugin-slurm"}
# conda-forge packages that stand for a pyproject extra: torchmetrics[image].
EXTRAS = {"torch-fidelity": "torchmetrics[image]"}


def requirement(line: str) -> tuple[str, str]:
    """(name with extras, version specifier) of a requirement such as ``torch>=2.4``."""
    match = re.fullmatch(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*?)\s*", line)
    assert match, line
    return match.group(1), match.group(2)


def test_conda_environments_follow_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {}
    for line in project["dependencies"]:
        name, version = requirement(line)
        base = name.split("[")[0]
        if base not in ONLY_FOR_SNAKEMAKE:
            wanted[CONDA_NAMES.get(base, base)] = version
    rules_env = yaml.safe_load((ROOT / "workflow/envs/ddpm.yaml").read_text())["dependencies"]
    listed = dict(requirement(line) for line in rules_env if isinstance(line, str) and not line.startswith("python"))
    for conda_name, extra in EXTRAS.items():
        assert extra in project["dependencies"] or any(d.startswith(extra) for d in project["dependencies"])
        assert listed.pop(conda_name) == ""
    assert listed == wanted

    # environment.yml installs the package itself, so it takes pyproject's list as it is.
    user_env = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip = next(entry["pip"] for entry in user_env if isinstance(entry, dict))
    assert pip == ["-e .[test]"]
    assert [entry for entry in user_env if isinstance(entry, str)] == ["python=3.12", "pip"]


@pytest.mark.parametrize("key, constant", [("jobs_per_gpu", "JOBS_PER_GPU"), ("trainings_per_gpu", "TRAININGS_PER_GPU")])
def test_gpu_slot_defaults_are_stated_as_the_workflow_sets_them(key, constant):
    default = smk_constant("workflow/rules/common.smk", constant)
    assert f"default {default}," in SCHEMA["properties"][key]["description"]
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert re.search(rf"`{key}`[^`]*\(\S*\s*default {default}[;)]", readme), key
