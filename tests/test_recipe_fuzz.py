"""Fuzzing the readers of recipes, training configs and experiment files.

Whatever a document holds, reading it gives a valid, hashable result or one typed error of one line
that names the field (`source.time.max: ...`), never a traceback. Documents are the shipped ones
mutated (keys deleted, values replaced by random JSON-ish values, unknown keys added, `kind`
changed) and fully random nested values. Parsing only: no source is built, nothing is rendered.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from synthgen.errors import RecipeError
from synthgen.experiment.config import Experiment, ExperimentError, load_experiment
from synthgen.recipe import Recipe, load_recipe, parse_recipe
from synthgen.schema import apply_override, flag_text
from synthgen.shipped import SHIPPED_ROOT
from synthgen.train.config import ConfigError, TrainConfig, load_train_config

RECIPES = SHIPPED_ROOT / "recipes"

SHIPPED_RECIPES = {path.name: yaml.safe_load(path.read_text()) for path in sorted(RECIPES.glob("*.yaml"))}
SHIPPED_CONFIGS = {
    path.name: yaml.safe_load(path.read_text()) for path in sorted((SHIPPED_ROOT / "configs").glob("*.yaml"))
}


def _absolute_paths(path: Path) -> dict[str, Any]:
    """An experiment file with its recipe and config paths made absolute, so that a copy read
    from anywhere stays valid."""
    document = yaml.safe_load(path.read_text())
    for corpus in document["corpora"]:
        if "recipe" in corpus:  # a real-data control names a dataset instead
            corpus["recipe"] = str((path.parent / corpus["recipe"]).resolve())
    document["train"]["config"] = str((path.parent / document["train"]["config"]).resolve())
    return document


SHIPPED_EXPERIMENTS = {path.name: _absolute_paths(path) for path in sorted((RECIPES / "experiments").glob("*.yaml"))}

# One line: `ORIGIN: PATH: message`, the path being the keys as written, dotted (a key that is
# empty or holds a dot, a space or a line break is quoted, as Python's repr quotes), or `(top level)`.
_SEGMENT = r"""(?:[\w-]+|'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")"""
FIELD_PATH = rf"(?:\(top level\)|{_SEGMENT}(?:\.{_SEGMENT})*)"


# What a file as a whole can be faulted for, where no field is to blame.
FILE_FAULTS = r"(?:not valid YAML|a (?:config|experiment) is a mapping of keys|no training data)"


def assert_names_a_field(message: str, origin: str, file_faults: str = "(?!)") -> None:
    assert "\n" not in message, message
    assert re.fullmatch(rf"{re.escape(origin)}: (?:{FIELD_PATH}: \S|{file_faults}).*", message), message


def assert_one_line_about(message: str, origin: str) -> None:
    assert "\n" not in message, message
    assert message.startswith(f"{origin}: ") and len(message) > len(origin) + 2, message


# -- documents -------------------------------------------------------------------------------------

# Integers past 64 bits, and past Python's 4,300-digit limit on int -> str (which raises ValueError).
HUGE = st.sampled_from([63, 64, 200]).map(lambda bits: 2**bits) | st.sampled_from([-1, 1]).map(
    lambda sign: sign * 10**5000
)
WORDS = ["", "shader", "noise", "gan", "diffusion", "starter", "library", "simclr", "sgd", "~", ".", "a\x00b", "²"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    HUGE,
    st.floats(),  # nan and infinities included
    st.text(max_size=12),
    st.sampled_from(WORDS),
    st.dates(),  # what YAML's safe loader makes of 2020-01-01
    st.binary(max_size=4),  # ... and of !!binary
)
FIELD_NAMES = ["kind", "name", "min", "max", "size", "programs", "path", "generate", "model", "init", "checkpoint"]
keys = st.one_of(st.text(max_size=8), st.sampled_from(FIELD_NAMES), st.integers(-2, 2), st.none())
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """The path of every node of a document, the root's (()) first."""
    found = [prefix]
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found += _paths(child, (*prefix, key))
    return found


def _at(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


@st.composite
def near(draw: st.DrawFn, shipped: dict[str, dict[str, Any]]) -> Any:
    """A shipped document with one to three mutations: a key deleted, a value replaced, an unknown
    key (or list item) added, or `source.kind` changed."""
    document: Any = copy.deepcopy(shipped[draw(st.sampled_from(sorted(shipped)))])
    for _ in range(draw(st.integers(1, 3))):
        operation = draw(st.sampled_from(["delete", "replace", "add", "kind"]))
        if operation == "kind":
            if isinstance(document, dict) and isinstance(document.get("source"), dict):
                document["source"]["kind"] = draw(st.sampled_from(["shader", "noise", "gan", "diffusion"]) | scalars)
            continue
        path = draw(st.sampled_from(_paths(document)))
        if operation == "add":
            target = _at(document, path)
            if isinstance(target, dict):
                target[draw(keys)] = draw(values)
            elif isinstance(target, list):
                target.append(draw(values))
        elif not path:
            document = draw(values) if operation == "replace" else {}
        elif operation == "delete":
            del _at(document, path[:-1])[path[-1]]
        else:
            _at(document, path[:-1])[path[-1]] = draw(values)
    return document


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for the documents of one fuzzing test (module-scoped: hypothesis runs many examples per call)."""
    return tmp_path_factory.mktemp("documents")


def _write(folder: Path, document: Any) -> Path:
    path = folder / "document.yaml"
    try:
        text = yaml.safe_dump(document)
    except ValueError:  # YAML cannot write an integer of 5,000 digits either: reading such text is tested below
        assume(False)
    path.write_text(text)
    return path


def fuzz(examples: int) -> settings:
    # Derandomized in CI, so that a submission lands or not on its own merits; random elsewhere,
    # so that every local run explores new documents.
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow],
        derandomize=bool(os.environ.get("CI")),
    )


# -- recipes ---------------------------------------------------------------------------------------


def check_recipe(document: Any) -> None:
    try:
        recipe = parse_recipe(document, base_dir=RECIPES)
    except RecipeError as err:
        assert_names_a_field(str(err), "recipe")
        return
    assert isinstance(recipe, Recipe)
    # The manifest records the resolved recipe as JSON, and its hash names the corpus.
    json.dumps(recipe.resolved(), allow_nan=False)
    assert len(recipe.sha256) == 64


@fuzz(400)
@given(near(SHIPPED_RECIPES))
def test_a_mutated_shipped_recipe_is_valid_or_one_line_naming_the_field(document: Any):
    check_recipe(document)


@fuzz(150)
@given(values)
def test_any_document_is_a_recipe_or_one_line_naming_the_field(document: Any):
    check_recipe(document)


MINIMAL = {"name": "r", "count": 10, "source": {"kind": "shader"}}


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        # Each of these ended in a traceback, or in a message of several lines.
        ({**MINIMAL, "count": 10**5000}, "recipe: count: an integer of more than 4,000 digits"),
        ({**MINIMAL, "seed": [10**5000]}, "recipe: seed.0: an integer of more than 4,000 digits"),
        ({10**5000: 1}, "recipe: (top level): a key is an integer of more than 4,000 digits"),
        ({**MINIMAL, "source": {"kind": 10**5000}}, "recipe: source.kind: an integer of more than 4,000 digits"),
        ({**MINIMAL, "a\nb": 1}, "recipe: 'a\\nb': unknown key"),
        ({**MINIMAL, "": 1}, "recipe: '': unknown key"),
        ({**MINIMAL, "image": {"size.x": 1}}, "recipe: image.'size.x': unknown key"),
        # Each of these was accepted. NaN passed every check it met (`nan <= min` is false), and every
        # render then drew NaN times.
        (
            {**MINIMAL, "source": {"kind": "shader", "time": {"max": float("nan")}}},
            "recipe: source.time.max: must be a finite number",
        ),
        (
            {**MINIMAL, "source": {"kind": "shader", "time": {"max": float("inf")}}},
            "recipe: source.time.max: must be a finite number",
        ),
        # Resolved as null (NaN) or as text (bytes, dates): the hash named other kwargs than the factory got.
        (
            {**MINIMAL, "source": {"kind": "gan", "generator": "m:f", "generator_kwargs": {"n": float("nan")}}},
            "recipe: source.generator_kwargs: must hold JSON values only",
        ),
        (
            {**MINIMAL, "source": {"kind": "gan", "generator": "m:f", "generator_kwargs": {"b": b"x"}}},
            "recipe: source.generator_kwargs: must hold JSON values only",
        ),
        # Sample keys are 12 digits.
        ({**MINIMAL, "count": 10**12}, "recipe: count: must be <= 999999999999"),
    ],
)
def test_documents_that_once_broke_the_reader_give_one_line(document: dict, expected: str):
    with pytest.raises(RecipeError) as caught:
        parse_recipe(document)
    assert expected in str(caught.value)
    assert_names_a_field(str(caught.value), "recipe")


NASTY_YAML = {
    "an integer of 5,000 digits": ("count: " + "9" * 5000, "Exceeds the limit (4300 digits)"),
    "a date that does not exist": ("count: 2020-13-45", "month must be in 1..12"),
    "nesting past the stack": ("count: " + "[" * 3000 + "]" * 3000, "nested more than 64 levels deep"),
    "nesting past 64 levels": ("count: " + "[" * 100 + "]" * 100, "nested more than 64 levels deep"),
    "an anchor inside itself": ("count: &loop [*loop]", "an anchor is used inside itself"),
}


@pytest.mark.parametrize("reader", ["recipe", "config", "experiment"])
@pytest.mark.parametrize("case", sorted(NASTY_YAML))
def test_yaml_the_loader_cannot_turn_into_a_tree_is_one_line(tmp_path: Path, reader: str, case: str):
    text, expected = NASTY_YAML[case]
    path = tmp_path / "document.yaml"
    path.write_text(text + "\n")
    read, error = {
        "recipe": (load_recipe, RecipeError),
        "config": (load_train_config, ConfigError),
        "experiment": (load_experiment, ExperimentError),
    }[reader]
    with pytest.raises(error) as caught:
        read(path)
    assert_one_line_about(str(caught.value), str(path))
    assert "not valid YAML" in str(caught.value) and expected in str(caught.value)


# -- --set overrides -------------------------------------------------------------------------------

OVERRIDE_KEYS = st.text(max_size=16) | st.sampled_from(
    ["source.programs.0", "source.programs.²", "source.programs.99", "count.x", "count.x.y", "a..b", "source.kind.x"]
)
OVERRIDE_VALUES = st.text(max_size=16) | st.sampled_from(
    [
        "[1, 2]",
        "{a: 1}",
        "1e999",
        "-.inf",
        "9" * 5000,
        "[" * 300,
        "&a [*a]",
        "*a",
        "2020-13-45",
        "!!python/name:os.system",
    ]
)


@fuzz(300)
@given(near(SHIPPED_RECIPES), OVERRIDE_KEYS, OVERRIDE_VALUES)
def test_any_override_applies_or_is_one_line_naming_the_setting(document: Any, key: str, value: str):
    assume(isinstance(document, dict))
    override = f"{key}={value}"
    try:
        apply_override(document, override, RecipeError)
    except RecipeError as err:
        assert_one_line_about(str(err), flag_text("--set", override))
        return
    check_recipe(document)


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("source.programs.²=x", "source.programs.²: expected a list index below 1"),  # "²".isdigit(), int("²") fails
        ("count=" + "9" * 5000, "the value is not valid YAML: Exceeds the limit (4300 digits)"),
        ("count=" + "[" * 3000, "the value is not valid YAML: nested more than 64 levels deep"),
        ("count.x.y=1", "count is not a mapping"),
        ("count.x\n.y=1", "count is not a mapping"),
        ("source.programs.x\n=1", "source.programs.'x\\n': expected a list index below 1"),
    ],
)
def test_overrides_that_once_broke_give_one_line(override: str, expected: str):
    document = {"name": "r", "count": 1, "image": {"size": 8}, "source": {"kind": "shader", "programs": ["starter"]}}
    with pytest.raises(RecipeError) as caught:
        apply_override(document, override, RecipeError)
    assert expected in str(caught.value)
    assert_one_line_about(str(caught.value), flag_text("--set", override))


# -- training configs and experiment files ---------------------------------------------------------


@fuzz(150)
@given(near(SHIPPED_CONFIGS) | values)
def test_a_training_config_is_valid_or_one_line_naming_the_field(scratch: Path, document: Any):
    path = _write(scratch, document)
    try:
        config = load_train_config(path, data=["out/corpus"])
    except ConfigError as err:
        assert_names_a_field(str(err), str(path), FILE_FAULTS)
        return
    assert isinstance(config, TrainConfig) and len(config.sha256()) == 64


def test_a_negative_training_seed_is_refused_before_training(tmp_path: Path):
    # numpy's SeedSequence refuses it: training used to stop with a traceback once it had started.
    path = tmp_path / "train.yaml"
    path.write_text("seed: -1\n")
    with pytest.raises(ConfigError, match=r"train.yaml: seed: must be >= 0"):
        load_train_config(path, data=["out/corpus"])


def test_an_optimiser_name_that_is_a_mapping_is_one_line(tmp_path: Path):
    path = tmp_path / "train.yaml"
    path.write_text("optim: {name: {sgd: 1}}\n")  # was a TypeError: unhashable type: 'dict'
    with pytest.raises(ConfigError, match=r"train.yaml: optim.name: must be one of sgd, lars or adamw"):
        load_train_config(path, data=["out/corpus"])


@fuzz(150)
@given(near(SHIPPED_EXPERIMENTS) | values)
def test_an_experiment_file_is_valid_or_one_line_naming_the_field(scratch: Path, document: Any):
    path = _write(scratch, document)
    try:
        experiment = load_experiment(path)
    except ExperimentError as err:
        assert_names_a_field(str(err), str(path), FILE_FAULTS)
        return
    assert isinstance(experiment, Experiment)
    assert all(0 <= seed < 2**63 for seed in [*experiment.train.seeds, experiment.eval.seed])
