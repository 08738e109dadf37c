"""The datasets config schema declares exactly the options of the registry, with matching types."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from ddpm.data import SOURCES
from ddpm.data.registry import REQUIRED

SCHEMA = yaml.safe_load((Path(__file__).parents[1] / "workflow" / "schemas" / "datasets.schema.yaml").read_text())
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(SCHEMA)
ALL_OPTIONS = set(SCHEMA["properties"]) - {"source"}
VALID_VALUES = {
    "sha256": {}, "image_size": [8, 8], "val_size": 2, "test_size": 0.2, "seed": 0, "crop_to_bbox": True,
    "path": "/data", "channels": 1, "count": 5, "alphabet": "ab", "text_length": 2,
}


def errors(entry):
    return [e.message for e in VALIDATOR.iter_errors(entry)]


def test_schema_is_valid_and_has_no_defaults():
    type(VALIDATOR).check_schema(SCHEMA)
    assert "default" not in yaml.safe_dump(SCHEMA)


def test_sources_match_the_registry():
    assert SCHEMA["properties"]["source"]["enum"] == list(SOURCES)
    assert ALL_OPTIONS == {name for source in SOURCES.values() for name in source.options} == set(VALID_VALUES)


@pytest.mark.parametrize("key", list(SOURCES))
def test_registry_defaults_validate(key):
    source = SOURCES[key]
    entry = {"source": key, **{n: "/data" if v is REQUIRED else v for n, v in source.options.items()}}
    assert errors(entry) == []


@pytest.mark.parametrize("key", list(SOURCES))
def test_options_of_other_sources_are_refused(key):
    allowed = set(SOURCES[key].options) | ({"path"} if key == "image_folder" else set())
    base = {"source": key, "path": "/data"} if key == "image_folder" else {"source": key}
    for option, value in VALID_VALUES.items():
        assert bool(errors({**base, option: value})) == (option not in allowed), option


def test_required_path_and_bad_values():
    assert "'path' is a required property" in errors({"source": "image_folder"})
    assert errors({"source": "mnist", "val_size": 0})
    assert errors({"source": "mnist", "val_size": 1.5})
    assert errors({"source": "mnist", "sha256": {"x": "abc"}})
    assert errors({"source": "hoda", "image_size": [28]})
    assert errors({"source": "mnist", "colour": True})
    assert errors({"val_size": 5})
    assert errors({"source": "mnist", "val_size": 0.1}) == []
