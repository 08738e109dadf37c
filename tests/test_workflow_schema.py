"""The config schema lists exactly the fields of the dataclasses that hold their defaults."""

import dataclasses
from pathlib import Path

import pytest
import yaml

from ddpm.config import DiffusionConfig, EvaluationConfig, ModelConfig, SamplerConfig, SamplingConfig, TrainingConfig
from ddpm.evaluation.classifier import ClassifierConfig
from ddpm.evaluation.fid import MetricConfig

SCHEMA = yaml.safe_load((Path(__file__).resolve().parents[1] / "workflow/schemas/config.schema.yaml").read_text())


@pytest.mark.parametrize(
    "section, cls",
    [
        ("model", ModelConfig),
        ("diffusion", DiffusionConfig),
        ("training", TrainingConfig),
        ("sampling", SamplingConfig),
        ("sampler", SamplerConfig),
        ("evaluation", EvaluationConfig),
        ("classifier", ClassifierConfig),
        ("metrics", MetricConfig),
    ],
)
def test_schema_sections_match_dataclasses(section, cls):
    definition = SCHEMA["$defs"][section]
    assert definition["additionalProperties"] is False
    assert set(definition["properties"]) == {f.name for f in dataclasses.fields(cls)}
    # Defaults live in the dataclasses only.
    assert all("default" not in spec for spec in definition["properties"].values())


def test_every_level_rejects_unknown_keys():
    def walk(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                assert node.get("additionalProperties") is False, node
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(SCHEMA)
