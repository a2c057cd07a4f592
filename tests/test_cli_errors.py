"""Issue 21: errors that blame the setting the user gave (a flag, not the file it changed), in the
documents' own words (not pydantic's), and one spelling per option across the commands."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner
from hypothesis import given
from pydantic import ValidationError

from synthgen.cli import cli
from synthgen.experiment.config import Experiment
from synthgen.recipe import Recipe
from synthgen.schema import format_validation_error, tree_problem
from synthgen.sources import SOURCE_TAGS
from synthgen.train.config import TrainConfig
from synthgen.train.methods import METHODS

from .test_experiment import write_stripes
from .test_recipe_fuzz import SHIPPED_CONFIGS, SHIPPED_EXPERIMENTS, SHIPPED_RECIPES, fuzz, near

RECIPE = """name: tiny
count: 4
views: 1
image: {size: 16, format: png}
source: {kind: noise, model: spectrum}
"""
# What pydantic says, and what no message of synthgen's may.
PYDANTIC_WORDS = ("should be", "instance of", "pattern '^", "should have", "Field required", "Extra inputs")


def invoke(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def error_line(result: Any) -> str:
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0].removeprefix("error: ")


@pytest.fixture
def recipe(tmp_path: Path) -> Path:
    path = tmp_path / "recipe.yaml"
    path.write_text(RECIPE)
    return path


# -- the flag that gave a value is the one blamed ------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--set", "image.format=gif"], "--set image.format=gif: must be one of jpg, png or webp (got 'gif')"),
        (
            ["--set", "image.format=jpeg"],
            "--set image.format=jpeg: must be one of jpg, png or webp (got 'jpeg') (did you mean `jpg`?)",
        ),  # fmt: skip
        (["--set", "image.colour=red"], "--set image.colour=red: unknown key (did you mean `color`?)"),
        (
            ["--set", "name=a b"],
            "--set 'name=a b': must be letters, digits, '.', '_' or '-', starting with a letter or digit (got 'a b')",
        ),  # fmt: skip
        (
            ["--set", "image=3"],
            "--set image=3: must be a mapping, e.g. {size: [256, 256], format: jpg, quality: 95} (got 3)",
        ),  # fmt: skip
        (
            ["--set", "source={kind: noise, model: spectrm}"],
            "--set 'source={kind: noise, model: spectrm}': model: unknown model 'spectrm' (did you mean `spectrum`?)",
        ),  # fmt: skip
        (["--count", "1000000000000"], "--count: must be <= 999999999999 (got 1000000000000)"),
    ],
)
def test_render_and_validate_blame_the_flag_not_the_recipe_file(recipe: Path, args: list[str], expected: str):
    for command in ("validate", "render"):
        extra = ["--out", str(recipe.parent / "out")] if command == "render" else []
        line = error_line(invoke(command, str(recipe), *extra, *args))
        assert line.startswith(expected), line
    assert not (recipe.parent / "out").exists()


def test_the_file_is_blamed_for_its_own_keys_and_each_origin_for_its_own(recipe: Path):
    recipe.write_text(RECIPE.replace("views: 1", "views: 0"))
    line = error_line(invoke("validate", str(recipe), "--set", "seed=-1"))
    assert line == f"--set seed=-1: must be >= 0 (got -1); {recipe}: views: must be >= 1 (got 0)"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--arch", "resnet-18"], "--arch: unknown architecture 'resnet-18' (did you mean `resnet18`?); known: "),
        (["--set", "model.arch=resnet-18"], "--set model.arch=resnet-18: unknown architecture 'resnet-18' "),
        (["--method", "simclear"], "--method: unknown name 'simclear' (did you mean `simclr`?)"),
        (["--lr", "-1"], "--lr: must be > 0.0 (got -1.0)"),
        (["--set", "epochs=0"], "--set epochs=0: must be >= 1 (got 0)"),
        (["--set", "data.batchsize=8"], "--set data.batchsize=8: unknown key (did you mean `batch_size`?)"),
        (["--data", ""], "--data '': url: must not be empty"),
    ],
)
def test_train_blames_the_flag_not_the_config_file(tmp_path: Path, args: list[str], expected: str):
    config = tmp_path / "train.yaml"
    config.write_text("epochs: 1\nmodel: {arch: resnet18}\n")
    data = [] if "--data" in args else ["--data", str(tmp_path / "corpus")]
    line = error_line(invoke("train", *data, "--config", str(config), "--out", str(tmp_path / "run"), *args))
    assert line.startswith(expected), line
    assert not (tmp_path / "run").exists()
    config.write_text("epochs: 0\n")  # the file's own mistake names the file
    line = error_line(invoke("train", "--data", "x", "--config", str(config), "--out", str(tmp_path / "run")))
    assert line == f"{config}: epochs: must be >= 1 (got 0)"


def test_an_experiment_blames_its_set_and_its_own_keys_in_the_recipes_and_configs(tmp_path: Path, recipe: Path):
    write_stripes(tmp_path / "stripes", {"train": 2, "val": 1})  # checked first: it must be there
    study = tmp_path / "study.yaml"
    study.write_text(
        f"name: s\nrender: {{set: {{image.size: 16}}}}\ncorpora: [{{name: a, recipe: {recipe}}}]\n"
        "train: {set: {epochs: 1}}\neval: {dataset: 'imagefolder:stripes'}\n"
    )
    out = ["--out", str(tmp_path / "out")]
    assert error_line(invoke("experiment", str(study), *out, "--set", "render.set.image.size=2")).startswith(
        "--set render.set.image.size=2: each side must be between 8 and 8192 pixels"
    )  # an error of the recipe, caused by the study's --set
    assert error_line(invoke("experiment", str(study), *out, "--set", "train.set.epochs=0")) == (
        "--set train.set.epochs=0: must be >= 1 (got 0)"
    )
    assert error_line(invoke("experiment", str(study), *out, "--set", "eval.probes=[svm]")) == (
        "--set eval.probes=[svm]: 0: must be one of linear, knn or finetune (got 'svm')"
    )
    study.write_text(study.read_text().replace("image.size: 16", "image.colour: red"))
    assert error_line(invoke("experiment", str(study), *out)) == (
        f"{study}: render.set.image.colour: unknown key (did you mean `color`?)"
    )  # the study's key, not the recipe file it was set in
    assert not (tmp_path / "out").exists()


# -- the documents' words, not pydantic's ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"count": "many"}, "count: must be a whole number (got 'many')"),  # int_parsing
        ({"count": 1.5}, "count: must be a whole number (got 1.5)"),  # int_from_float
        ({"count": [1]}, "count: must be a whole number (got [1])"),  # int_type
        ({"count": 0}, "count: must be >= 1 (got 0)"),  # greater_than_equal
        ({"views": 65}, "views: must be <= 64 (got 65)"),  # less_than_equal
        ({"name": "a/b"}, "name: must be letters, digits, '.', '_' or '-'"),  # string_pattern_mismatch
        ({"name": 3}, "name: must be text (got 3)"),  # string_type
        ({"name": "x" * 200}, "name: must be at most 128 characters long"),  # string_too_long
        ({"image": 3}, "image: must be a mapping, e.g. {size: [256, 256], format: jpg, quality: 95}"),  # model_type
        ({"image": {"format": "gif"}}, "image.format: must be one of jpg, png or webp (got 'gif')"),  # literal_error
        ({"image": {"size": [8, 8, 8]}}, "image.size: must hold at most 2 items"),  # too_long
        ({"image": {"size": "big"}}, "image.size: must be a list (got 'big')"),  # tuple_type
        ({"image": {"quality": 1e999}}, "image.quality: must be a finite number"),  # finite_number
        ({"colour": 1}, "colour: unknown key (did you mean `color`?)"),  # extra_forbidden
        ({"image": {1: 2}}, "image.1: a key must be text (got 1)"),  # invalid_key
        (
            {"source": {"kind": "noise", "model": "spectrum", "slope": {"min": "x"}}},
            "source.slope.min: must be a number (got 'x')",
        ),  # float_parsing  # fmt: skip
        ({"source": {"kind": "shader", "programs": []}}, "source.programs: must hold at least 1 item"),  # too_short
    ],
)
def test_pydantic_errors_are_worded_as_the_documents_say_them(change: dict[str, Any], expected: str):
    document = {"name": "r", "count": 4, "source": {"kind": "noise", "model": "spectrum"}, **change}
    with pytest.raises(ValidationError) as caught:
        Recipe.model_validate(document)
    message = format_validation_error(caught.value, document, SOURCE_TAGS)
    assert message.startswith(expected), message
    assert not any(words in message for words in PYDANTIC_WORDS), message


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"channels_last": "maybe"}, "channels_last: must be true or false (got 'maybe')"),  # bool_parsing
        ({"channels_last": [1]}, "channels_last: must be true or false (got [1])"),  # bool_type
        ({"optim": {"lr": 0}}, "optim.lr: must be > 0.0 (got 0)"),  # greater_than
        ({"data": {"storage_options": [1]}}, "data.storage_options: must be a mapping of keys to values"),  # dict_type
        ({"data": {"corpora": [{"weight": 1}]}}, "data.corpora.0.url: required key is missing"),  # missing
    ],
)
def test_train_config_errors_are_worded_too(document: dict[str, Any], expected: str):
    with pytest.raises(ValidationError) as caught:
        TrainConfig.model_validate(document)
    message = format_validation_error(caught.value, document, {"name": METHODS})
    assert message.startswith(expected), message
    assert not any(words in message for words in PYDANTIC_WORDS), message


def _no_pydantic_words(model: Any, document: Any, tags: Any = None) -> None:
    if tree_problem(document) is not None:
        return  # what every loader refuses before validation (an integer of 5,000 digits)
    try:
        model.model_validate(document, context={"base_dir": Path.cwd()})
    except ValidationError as err:
        message = format_validation_error(err, document, tags)
        assert not any(words in message for words in PYDANTIC_WORDS), message


@fuzz(200)
@given(near(SHIPPED_RECIPES), near(SHIPPED_CONFIGS), near(SHIPPED_EXPERIMENTS))
def test_no_message_of_a_mutated_shipped_document_speaks_pydantic(recipe: Any, config: Any, study: Any):
    _no_pydantic_words(Recipe, recipe, SOURCE_TAGS)
    _no_pydantic_words(TrainConfig, config, {"name": METHODS})
    _no_pydantic_words(Experiment, study)


# -- one spelling per option ----------------------------------------------------------------------


def _commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += _commands(command, (*prefix, name))
    return found


def test_every_command_spells_its_options_one_way():
    for path, command in _commands(cli):
        visible = {opt: param for param in command.params if not getattr(param, "hidden", False)
                   for opt in getattr(param, "opts", [])}  # fmt: skip
        # "How many" is --count everywhere; --set is KEY=VALUE everywhere.
        assert not {"--n", "--samples"} & set(visible), path
        if "--set" in visible:
            assert visible["--set"].metavar == "KEY=VALUE" and visible["--set"].multiple, path
        # A folder option reads DIR (or DEST for a corpus), a file option FILE; none the type's name.
        for option in ("--out", "--cache", "--config", "--save-stream"):
            if option in visible:
                shown = visible[option].make_metavar(click.Context(command))
                assert shown in ("DIR", "DEST", "FILE"), (path, option, shown)
        for param in visible.values():  # click's name for a folder type: the help says DIR
            assert param.make_metavar(click.Context(command)) != "DIRECTORY", (path, param.opts)


def test_old_spellings_still_work_with_one_warning_and_shaders_list_set_is_refused(tmp_path: Path, recipe: Path):
    rendered = invoke("render", str(recipe), "--out", str(tmp_path / "c"), "--quiet")
    assert rendered.exit_code == 0, rendered.output
    old = invoke("inspect", str(tmp_path / "c"), "--samples", "2", "--json")
    new = invoke("inspect", str(tmp_path / "c"), "--count", "2", "--json")
    assert old.exit_code == new.exit_code == 0
    assert old.stdout == new.stdout and '"decoded": 2' in new.stdout
    assert old.stderr == "warning: --samples is now --count: --samples will go in a later release\n"
    assert new.stderr == ""
    sheet = tmp_path / "sheet.png"
    previewed = invoke("preview", str(tmp_path / "c"), "--out", str(sheet), "--n", "3")
    assert previewed.stdout == f"wrote {sheet}: 3 samples\n" and previewed.stderr.count("warning: --n is now") == 1
    assert invoke("preview", str(tmp_path / "c"), "--out", str(sheet), "--count", "2").stderr == ""
    refused = invoke("shaders", "list", "--set", "starter")
    assert refused.exit_code == 2 and "--set is --program-set here" in refused.output
    assert "--program-set starter" in refused.output
    listed = invoke("shaders", "list", "--program-set", "starter")
    assert listed.exit_code == 0 and listed.output.strip().splitlines()[-1].startswith("16 programs")
