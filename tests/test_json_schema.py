"""The JSON Schemas of recipes, train configs and experiments (`synthgen schema`), that editors check
documents against as they are typed: shipped as printed, naming every shipped document valid, and
rejecting unknown keys and wrong types as the models do, without refusing what the models accept."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.errors import DocumentError
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.shipped import MODELINE, SCHEMA_DIR, SCHEMA_NAMES, list_shipped
from synthgen.train.config import TrainConfig, load_train_config

jsonschema = pytest.importorskip("jsonschema")


def validator(name: str) -> Any:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", ["recipe", "train", "experiment"])
def test_the_shipped_schemas_are_what_the_command_prints(name: str):
    result = CliRunner().invoke(cli, ["schema", name])
    assert result.exit_code == 0, result.output
    # When a document model changes, regenerate (synthgen/shipped/json_schema.py says how).
    assert result.output == (SCHEMA_DIR / f"{name}.schema.json").read_text(), f"regenerate {name}.schema.json"
    assert json.loads(result.output)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_shipped_document_names_its_schema_and_passes_it():
    validators = {name: validator(name) for name in ("recipe", "train", "experiment")}
    for doc in list_shipped():
        text = doc.path.read_text()
        first = text.splitlines()[0]
        assert first.startswith(MODELINE), doc.name
        # The path is relative to the document, as the YAML language server reads it.
        schema = (doc.path.parent / first.removeprefix(MODELINE)).resolve()
        assert schema == SCHEMA_DIR / f"{SCHEMA_NAMES[doc.kind]}.schema.json", doc.name
        errors = list(validators[SCHEMA_NAMES[doc.kind]].iter_errors(yaml.safe_load(text)))
        assert not errors, (doc.name, [error.message for error in errors])


def test_the_modeline_is_a_comment_that_no_hash_sees():
    for doc in list_shipped("recipe"):
        text = doc.path.read_text()
        without = parse_recipe(yaml.safe_load(text.split("\n", 1)[1]), base_dir=doc.path.parent)
        assert without.sha256 == load_recipe(doc.path).sha256, doc.name


def test_resolved_documents_pass_their_schema():
    """A manifest's resolved recipe (every default written out) is a recipe too."""
    recipes, configs = validator("recipe"), validator("train")
    for doc in list_shipped("recipe"):
        resolved = load_recipe(doc.path).resolved()
        assert not list(recipes.iter_errors(resolved)), doc.name
    for doc in list_shipped("config"):
        assert not list(configs.iter_errors(load_train_config(doc.path, [], ["out/c"]).resolved())), doc.name


BASE = {"name": "doc", "count": 8, "image": {"size": 32}, "source": {"kind": "shader", "programs": ["starter"]}}


def recipe_with(*changes: tuple[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(BASE)
    for path, value in changes:
        *parents, last = path.split(".")
        node = document
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return document


def model_accepts(document: dict[str, Any]) -> bool:
    try:
        parse_recipe(document)
    except DocumentError:
        return False
    return True


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ((), True),
        ((("image.size", [48, 32]),), True),  # the long form of `size: 32`
        ((("source.programs", [{"generate": 4, "seed": 1}, "library"]),), True),  # objects and shorthands
        ((("colour", "red"),), False),  # unknown keys, at every level
        ((("image.colour", "red"),), False),
        ((("source.colour", "red"),), False),
        ((("source.programs", [{"generate": 4, "colour": "red"}]),), False),
        ((("count", "many"),), False),  # wrong types
        ((("image.format", "gif"),), False),
        ((("source.kind", "paint"),), False),
        ((("source", {"kind": "noise", "model": "spectrum", "size": 3}),), False),  # a variant's unknown key
        ((("source", {"kind": "noise", "model": "spectrum"}),), True),
        ((("source", {"kind": "diffusion", "model": "synthgen:tiny-sd", "prompts": {"classes": ["a"]}}),), True),
        (
            (("source", {"kind": "diffusion", "model": "m", "prompts": {"classes": ["a"]}, "generation_size": 64}),),
            True,
        ),
    ],
)
def test_the_schema_accepts_and_rejects_as_the_model_does(changes: tuple, valid: bool):
    document = recipe_with(*changes)
    assert model_accepts(document) is valid
    assert validator("recipe").is_valid(document) is valid


@pytest.mark.parametrize(
    ("source", "valid"),
    [
        ({"init": "sparse"}, True),
        ({"checkpoint": "g.safetensors"}, True),
        ({"generator": "pkg.mod:make", "checkpoint": "g.safetensors"}, True),  # a factory may take weights
        ({}, False),  # none of the keys that choose the variant
        ({"init": "sparse", "checkpoint": "g.safetensors"}, False),  # init chose: checkpoint is unknown to it
        ({"init": None, "checkpoint": "g.safetensors"}, False),  # null chooses nothing, and is unknown to it
        ({"init": "sparse", "generator_kwargs": {}}, False),
    ],
)
def test_variants_chosen_by_a_key_present_are_said_in_the_schema(source: dict[str, Any], valid: bool):
    document = recipe_with(("source", {"kind": "gan", **source}))
    assert model_accepts(document) is valid
    assert validator("recipe").is_valid(document) is valid


def test_the_train_schema_takes_what_the_defaults_fill_in():
    # lr and weight_decay default by optimiser: a config may leave them out.
    document = {"optim": {"name": "adamw"}, "data": {"corpora": [{"url": "out/c"}]}}
    TrainConfig.model_validate(document)
    assert validator("train").is_valid(document)
    document["optim"]["momentum_typo"] = 0.9
    assert not validator("train").is_valid(document)
