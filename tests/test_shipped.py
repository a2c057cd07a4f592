"""The documents shipped in the package (synthgen/shipped/): found by name from any folder, listed,
shown and copied by `synthgen recipes`, referenced by name inside experiment files, and packaged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.errors import DocumentError, RecipeError
from synthgen.experiment.config import ExperimentError, load_experiment
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.shipped import (
    SCHEMA_DIR,
    SHIPPED_ROOT,
    copy_shipped,
    list_shipped,
    resolve_document,
    shipped_names,
    shipped_path,
)
from synthgen.train.config import load_train_config

REPO = Path(__file__).resolve().parents[1]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_every_shipped_document_loads_by_name_from_any_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # nothing of the repository's is reachable by a relative path here
    documents = list_shipped()
    assert {doc.kind for doc in documents} == {"recipe", "config", "experiment"}
    for doc in documents:
        path = resolve_document(doc.name, doc.kind)
        assert path == doc.path and path.is_absolute()
        if doc.kind == "recipe":
            # Its paths resolve (the sources' own checks, slow for the generated ones, are
            # tests/test_recipe.py's: they do not depend on the folder).
            assert load_recipe(path).name == doc.name
        elif doc.kind == "config":
            load_train_config(path, [], ["out/corpus"])
        else:
            # Its references (relative to its own file) resolve, and what they name loads too.
            study = load_experiment(path)
            for corpus in study.corpora:
                if corpus.recipe is not None:
                    load_recipe(corpus.recipe, settings={**study.render.set, **corpus.set})
            assert study.train.config is not None
            load_train_config(study.train.config, [], ["out/corpus"])
    assert not list(tmp_path.iterdir())  # and nothing was written here


def test_every_shipped_recipes_record_is_the_same_recipe():
    """The manifest records the resolved recipe, which must render that corpus again: read back,
    it is the same recipe (every value kept, none falling back to a default), with the same hash.
    (It did not hold for `latent_bound: null`, which the resolved recipe left out as "not given".)"""
    for doc in list_shipped("recipe"):
        recipe = load_recipe(doc.path)
        again = parse_recipe(json.loads(json.dumps(recipe.resolved())))
        assert again.resolved() == recipe.resolved(), doc.name
        assert again.sha256 == recipe.sha256, doc.name


def test_names_take_the_spellings_of_the_docs_and_a_file_wins_over_a_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.chdir(tmp_path)
    recipe = SHIPPED_ROOT / "recipes" / "demo-shaders.yaml"
    for spelling in ("demo-shaders", "demo-shaders.yaml", "recipes/demo-shaders.yaml"):
        assert resolve_document(spelling, "recipe") == recipe
    study = SHIPPED_ROOT / "recipes" / "experiments" / "families-quick.yaml"
    for spelling in ("experiments/families-quick", "families-quick", "recipes/experiments/families-quick.yaml"):
        assert resolve_document(spelling, "experiment") == study
    assert resolve_document("configs/small-cpu.yaml", "config") == shipped_path("small-cpu", "config")
    # A recipe is not an experiment, nor a config: each kind looks among its own.
    with pytest.raises(DocumentError, match="no shipped config of that name"):
        resolve_document("demo-shaders", "config")
    (tmp_path / "demo-shaders").write_text("mine")
    assert resolve_document("demo-shaders", "recipe") == Path("demo-shaders")


def test_a_misspelt_name_is_one_line_with_the_close_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RecipeError) as caught:
        resolve_document("demo-shader", "recipe")
    assert str(caught.value).startswith(
        "recipe 'demo-shader': no such file, and no shipped recipe of that name (did you mean `demo-shaders`?)"
    )
    for args, expected in [
        (["render", "demo-shader", "--out", "out"], "did you mean `demo-shaders`?"),
        (["validate", "noise-demo-spectrm"], "did you mean `noise-demo-spectrum`?"),
        (["experiment", "experiments/families-quik"], "did you mean `experiments/families-quick`?"),
        (["train", "--config", "smal-cpu", "--data", "out/none", "--out", "run"], "did you mean `small-cpu`?"),
        (["train", "--recipe", "demo-shader@2", "--out", "run"], "recipe 'demo-shader': no such file"),
        (["diffusion", "prompts", "diffusion-dem"], "did you mean `diffusion-demo`?"),
    ]:
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.output)
        assert result.output.startswith("error: ") and len(result.output.splitlines()) == 1, result.output
        assert expected in result.output, (args, result.output)
    assert not list(tmp_path.iterdir())


def test_commands_take_shipped_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("validate", "noise-demo-spectrum", "--count", "8")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.rpartition("recipe sha256: ")[0])["name"] == "noise-demo-spectrum"
    result = invoke("render", "noise-demo-spectrum", "--out", "out", "--count", "4", "--set", "image.size=16")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "manifest.json").is_file()
    # The config is found by name: training stops at the data, which is not there.
    result = invoke("train", "--config", "small-cpu", "--data", str(tmp_path / "none"), "--out", "run")
    assert result.exit_code == 2 and "small-cpu" not in result.output and "none" in result.output


def test_experiment_files_name_shipped_recipes_and_configs(tmp_path: Path):
    def study(recipe: str, config: str) -> Path:
        path = tmp_path / "study.yaml"
        document = {
            "name": "named",
            "corpora": [{"name": "shaders", "recipe": recipe}],
            "train": {"config": config},
            "eval": {"dataset": "idx:data"},
        }
        path.write_text(yaml.safe_dump(document))
        return path

    loaded = load_experiment(study("demo-shaders", "small-cpu"))
    assert loaded.corpora[0].recipe == str(shipped_path("demo-shaders", "recipe"))
    assert loaded.train.config == str(shipped_path("small-cpu", "config"))
    # A file of that name beside the experiment comes first.
    (tmp_path / "demo-shaders").write_text("name: mine\n")
    assert load_experiment(study("demo-shaders", "small-cpu")).corpora[0].recipe == str(tmp_path / "demo-shaders")
    with pytest.raises(ExperimentError) as caught:
        load_experiment(study("demo-shadrs", "small-cpu"))
    message = str(caught.value)
    assert "corpora.0.recipe: no such file or directory" in message and "(did you mean `demo-shaders`?)" in message


def test_recipes_list_is_a_table_of_every_shipped_document():
    result = invoke("recipes", "list")
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == ["NAME", "KIND", "FAMILY", "COUNT", "SIZE", "DESCRIPTION"]
    assert [row.split()[0] for row in rows] == [doc.name for doc in list_shipped()]
    demo = next(row for row in rows if row.startswith("demo-shaders "))
    assert demo.split()[1:5] == ["recipe", "shader", "256", "64"]
    assert "The starter shader programs at demo size" in demo
    configs = invoke("recipes", "list", "--kind", "config").output.splitlines()[1:]
    assert [row.split()[0] for row in configs] == list(shipped_names("config"))
    assert all(row.split()[1] == "config" for row in configs)


def test_recipes_show_prints_the_file():
    result = invoke("recipes", "show", "experiments/families-quick")
    assert result.exit_code == 0
    assert result.output == shipped_path("experiments/families-quick", "experiment").read_text()
    result = invoke("recipes", "show", "demo-shaderz")
    assert result.exit_code == 2 and "did you mean `demo-shaders`?" in result.output


def test_a_copied_experiment_still_works_from_its_new_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("recipes", "copy", "experiments/families-quick")
    assert result.exit_code == 0, result.output
    copy = tmp_path / "families-quick.yaml"
    assert f"wrote {copy}" in result.output
    assert "corpora.1.recipe: ../demo-shaders-generated.yaml -> demo-shaders-generated" in result.output
    assert "train.config: ../../configs/small-cpu.yaml -> small-cpu" in result.output
    text = copy.read_text()
    assert "recipe: demo-shaders-generated}" in text and "config: small-cpu\n" in text
    assert "# 4 epochs (about 22 minutes)" in text  # comments are kept
    shipped = load_experiment(shipped_path("families-quick", "experiment")).model_dump()
    assert load_experiment(copy).model_dump() == shipped  # the same study, every reference the same file
    # The modeline points at the installed schema.
    first = text.splitlines()[0]
    assert first == f"# yaml-language-server: $schema={(SCHEMA_DIR / 'experiment.schema.json').as_uri()}"

    # An existing file is kept unless --force.
    copy.write_text("mine")
    result = invoke("recipes", "copy", "experiments/families-quick")
    assert result.exit_code == 2 and "exists" in result.output and "--force" in result.output
    assert copy.read_text() == "mine"
    assert invoke("recipes", "copy", "families-quick", "--kind", "experiment", "--force").exit_code == 0
    assert load_experiment(copy).model_dump() == shipped


def test_a_copied_recipe_is_the_same_recipe_and_placeholders_are_named(tmp_path: Path):
    result = invoke("recipes", "copy", "demo-shaders", str(tmp_path / "mine.yaml"))
    assert result.exit_code == 0, result.output
    assert load_recipe(tmp_path / "mine.yaml").sha256 == load_recipe(shipped_path("demo-shaders", "recipe")).sha256
    # Into a folder: under its own name. Its placeholder path is read from the copy's folder now.
    copied = copy_shipped("gan-genrep-checkpoint", tmp_path)
    assert copied.path == tmp_path / "gan-genrep-checkpoint.yaml" and not copied.rewritten
    assert copied.notes == [
        f"source.checkpoint: REPLACE-ME/generator.safetensors is read from {tmp_path} now (a placeholder: replace it)"
    ]
    assert load_recipe(copied.path).source.checkpoint == str(tmp_path / "REPLACE-ME" / "generator.safetensors")


def test_the_package_data_holds_every_shipped_file():
    tomllib = pytest.importorskip("tomllib")
    patterns = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    # The globs as setuptools reads them (`*` within one folder), against every file that is not code.
    packaged = {path for glob in patterns["synthgen.shipped"] for path in SHIPPED_ROOT.glob(glob)}
    data = {path for path in SHIPPED_ROOT.rglob("*") if path.is_file() and path.suffix not in (".py", ".pyc")}
    assert len(data) > 50 and data <= packaged, sorted(data - packaged)
    schemas = {f"{name}.schema.json" for name in ("recipe", "train", "experiment")}
    assert {path.name for path in SCHEMA_DIR.iterdir()} == schemas
