from __future__ import annotations

from pathlib import Path

import pytest

from synthgen.errors import RecipeError
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.schema import apply_override
from synthgen.shipped import SHIPPED_ROOT
from synthgen.sources import SOURCES

MINIMAL = {"name": "r", "count": 10, "source": {"kind": "shader"}}
KINDS = ", ".join(sorted(SOURCES))


def error_of(document: dict) -> str:
    with pytest.raises(RecipeError) as caught:
        parse_recipe(document)
    return str(caught.value)


def test_defaults_are_resolved_and_recorded():
    recipe = parse_recipe(MINIMAL)
    resolved = recipe.resolved()
    assert resolved["seed"] == 0 and resolved["views"] == 1
    assert resolved["image"] == {"size": [256, 256], "format": "jpg", "quality": 95}
    assert resolved["source"]["time"] == {"min": 0.1, "max": 10.0}
    assert resolved["source"]["programs"] == [{"builtin": "starter", "format": "auto"}]
    assert resolved["source"]["reject"] == {"min_std": 2.0, "max_nan_fraction": 0.05}
    assert "view_time_spread" not in resolved["source"]


def test_hash_names_the_resolved_recipe():
    base = parse_recipe(MINIMAL).sha256
    # Writing a default explicitly, or size as one number, is the same corpus.
    assert parse_recipe({**MINIMAL, "seed": 0, "image": {"size": [256, 256]}}).sha256 == base
    assert parse_recipe({**MINIMAL, "image": {"size": 256}}).sha256 == base
    # Anything that changes the samples changes the hash.
    assert parse_recipe({**MINIMAL, "seed": 1}).sha256 != base
    assert parse_recipe({**MINIMAL, "source": {"kind": "shader", "time": {"max": 9}}}).sha256 != base
    assert len(base) == 64


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({**MINIMAL, "colour": 1}, "colour: unknown key"),
        ({**MINIMAL, "source": {"kind": "shader", "speed": 2}}, "source.speed: unknown key"),
        ({**MINIMAL, "count": "many"}, "count: must be a whole number (got 'many')"),
        ({**MINIMAL, "count": 0}, "count: must be >= 1 (got 0)"),
        ({"name": "r", "source": {"kind": "shader"}}, "count: required key is missing"),
        (
            {**MINIMAL, "source": {"kind": "shader", "time": {"min": 3, "max": 1}}},
            "source.time.max: must be > min (3.0)",
        ),
        ({**MINIMAL, "image": {"format": "gif"}}, "image.format: must be one of jpg, png or webp (got 'gif')"),
        ({**MINIMAL, "image": {"size": [4, 4]}}, "image.size: each side must be between 8 and 8192"),
        ({**MINIMAL, "source": {"kind": "nope"}}, f"source.kind: unknown kind 'nope'; known kinds: {KINDS}"),
        ({**MINIMAL, "source": {}}, f"source.kind: missing `kind` (one of {KINDS})"),
        ({**MINIMAL, "source": {"kind": "shader", "time": {"min": 12}}}, "source.time.max: must be > min (12.0)"),
        ({**MINIMAL, "name": "a/b"}, "name: must be letters, digits, '.', '_' or '-', starting with a letter or digit"),
        (
            {**MINIMAL, "source": {"kind": "shader", "programs": []}},
            "source.programs: must hold at least 1 item",
        ),
        (
            {**MINIMAL, "source": {"kind": "shader", "programs": [{"builtin": "starter", "path": "."}]}},
            "source.programs.0: give exactly one of `builtin`, `path` or `generate`",
        ),
        (
            {**MINIMAL, "source": {"kind": "shader", "programs": [{"builtin": "library", "seed": 3}]}},
            "source.programs.0: `seed` goes with `generate`",
        ),
        (
            {**MINIMAL, "source": {"kind": "shader", "programs": [{"builtin": "library", "format": "twigl-geek"}]}},
            "source.programs.0: `format` goes with `path`",
        ),
        (
            {**MINIMAL, "source": {"kind": "shader", "sampling": {"mode": "blocked", "block": 9999}}},
            "source.sampling.block: must be <= 512",
        ),
    ],
)
def test_errors_name_the_field_path(document, expected):
    message = error_of(document)
    assert expected in message
    assert "\n" not in message


def test_missing_program_path_is_an_error_naming_it(tmp_path: Path):
    message = error_of({**MINIMAL, "source": {"kind": "shader", "programs": [str(tmp_path / "nowhere")]}})
    assert "source.programs.0.path: no such file or directory" in message
    assert "nowhere" in message


def test_relative_paths_resolve_against_the_recipe_folder(make_recipe, program_dir: Path):
    recipe = load_recipe(make_recipe())
    assert recipe.source.programs[0].path == str(program_dir.resolve())


def test_overrides_set_nested_keys_with_yaml_values(make_recipe):
    recipe = load_recipe(
        make_recipe(),
        overrides=["source.time.max=9", "views=3", "image.format=jpg", "source.programs.0=starter"],
        count=5,
    )
    assert recipe.source.time.max == 9.0
    assert recipe.views == 3 and recipe.count == 5
    assert recipe.image.format == "jpg"
    assert recipe.source.programs[0].builtin == "starter"


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ("views", "expected KEY=VALUE"),
        ("source.programs.5=x", "expected a list index below 1"),
        ("count.x=1", "count is not a mapping"),
    ],
)
def test_bad_overrides_are_clear(override, expected):
    document = {"name": "r", "count": 1, "source": {"kind": "shader", "programs": ["starter"]}}
    with pytest.raises(RecipeError, match=expected):
        apply_override(document, override, RecipeError)


def test_yaml_tags_that_construct_objects_are_refused(tmp_path: Path):
    path = tmp_path / "evil.yaml"
    path.write_text("name: !!python/object/apply:os.system ['echo pwned']\ncount: 1\nsource: {kind: shader}\n")
    with pytest.raises(RecipeError, match="not valid YAML"):
        load_recipe(path)


def test_unreadable_or_non_mapping_recipes(tmp_path: Path):
    with pytest.raises(RecipeError, match="recipe file not found"):
        load_recipe(tmp_path / "missing.yaml")
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(RecipeError, match="a recipe is a mapping"):
        load_recipe(path)


@pytest.mark.parametrize("path", sorted((SHIPPED_ROOT / "recipes").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_recipes_are_valid(path: Path):
    from synthgen.sources import source_class

    recipe = load_recipe(path)
    source_class(recipe.source.kind).check(recipe)
    assert recipe.name == path.stem


def test_each_document_raises_its_own_error_for_a_bad_override(tmp_path: Path):
    """A `--set` that is not KEY=VALUE is the document's error, so that a caller catching
    RecipeError does not catch a train config's or an experiment's (all three are DocumentError)."""
    from synthgen.errors import DocumentError
    from synthgen.experiment.config import ExperimentError, load_experiment
    from synthgen.train.config import ConfigError, load_train_config

    with pytest.raises(ConfigError, match="expected KEY=VALUE") as config_error:
        load_train_config(None, overrides=["epochs"])
    experiment = tmp_path / "study.yaml"
    experiment.write_text("name: s\n")
    with pytest.raises(ExperimentError, match="expected KEY=VALUE") as experiment_error:
        load_experiment(experiment, overrides=["eval"])
    for caught in (config_error.value, experiment_error.value):
        assert isinstance(caught, DocumentError) and not isinstance(caught, RecipeError)


def test_a_variant_section_names_the_variant_in_its_unknown_key_error():
    """Nested tagged unions (`kind`, then `model`) drop both tags from the path, and a key the
    chosen variant does not read is an unknown key for that variant."""
    noise = {"name": "r", "count": 1, "source": {"kind": "noise", "model": "wmm", "slope": {}}}
    with pytest.raises(RecipeError, match=r"^recipe: source\.slope: unknown key for model wmm$"):
        parse_recipe(noise)
    nested = {"name": "r", "count": 1, "source": {"kind": "noise", "model": "dead_leaves", "dead_leaves": {"x": 1}}}
    with pytest.raises(RecipeError, match=r"^recipe: source\.dead_leaves\.x: unknown key$"):
        parse_recipe(nested)


def test_a_misspelt_key_or_name_gets_a_suggestion():
    def error(document: dict) -> str:
        with pytest.raises(RecipeError) as caught:
            parse_recipe({"name": "r", "count": 1, **document})
        return str(caught.value)

    assert error({"veiws": 2, "source": {"kind": "shader"}}) == "recipe: veiws: unknown key (did you mean `views`?)"
    assert "unknown kind 'shadr' (did you mean `shader`?); known kinds: " in error({"source": {"kind": "shadr"}})
    noise = {"kind": "noise", "model": "spectrum", "slop": {}}
    assert error({"source": noise}) == "recipe: source.slop: unknown key for model spectrum (did you mean `slope`?)"
    # Nothing close: no guess.
    assert error({"source": {"kind": "shader", "qqqq": 1}}) == "recipe: source.qqqq: unknown key for kind shader"
