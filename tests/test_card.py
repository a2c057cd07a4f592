"""The dataset card (README.md) of every corpus: Hugging Face front matter whose `configs` make
`datasets.load_dataset(folder)` work, loading snippets that run, the licence and citation as far
as they are known, written before the manifest, deterministic, synthgen's own file only."""

from __future__ import annotations

import json
import logging
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.corpus import card as card_module
from synthgen.corpus.card import (
    CARD_NAME,
    CARD_SIGNATURE,
    PAPERS,
    parse_front_matter,
    read_card,
    render_card,
    size_category,
)
from synthgen.corpus.read import load_manifest
from synthgen.corpus.storage import Destination
from synthgen.errors import RecipeError
from synthgen.recipe import load_recipe, parse_recipe
from synthgen.render import render_corpus
from synthgen.sources import SOURCES

from .test_eval_datasets import idx_bytes

# 8 samples in 2 shards: renders in a fraction of a second.
NOISE = """
name: card-noise
count: 8
image: {size: 16, format: png}
shard: {samples: 4}
source: {kind: noise, model: spectrum}
"""


def noise_recipe(folder: Path, **changes: Any) -> Path:
    document = {**yaml.safe_load(NOISE), **changes}
    path = folder / "noise.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("card")
    out = folder / "card-noise"
    render_corpus(load_recipe(noise_recipe(folder)), str(out))
    return out


def card_of(folder: Path) -> tuple[dict[str, Any], str]:
    text = (folder / CARD_NAME).read_text()
    matter = parse_front_matter(text)
    assert matter is not None
    return matter, text


def code_blocks(text: str, info: str) -> list[str]:
    return re.findall(rf"^```{info}\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


@pytest.fixture
def offline_datasets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Hugging Face `datasets` with its cache under tmp_path and no network."""
    datasets = pytest.importorskip("datasets")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    return datasets


# -- what the card says ----------------------------------------------------------------------------


def test_the_front_matter_is_a_hub_card_of_this_corpus(corpus: Path):
    matter, text = card_of(corpus)
    manifest = load_manifest(Destination(str(corpus)))
    assert matter["pretty_name"] == "card-noise"
    assert matter["license"] == "other"
    assert matter["size_categories"] == ["n<1K"]
    assert matter["task_categories"] == ["image-feature-extraction"]
    assert {"synthetic", "synthgen", "noise", "webdataset"} <= set(matter["tags"])
    assert matter["configs"] == [{"config_name": "default", "data_files": [{"split": "train", "path": "shard-*.tar"}]}]
    assert matter["synthgen"]["recipe_sha256"] == manifest.recipe_sha256
    assert matter["synthgen"]["real_data"] is False
    assert matter["synthgen"]["cites"] == "Baradad et al., NeurIPS 2021"
    # The body: the counts, the citation, the resolved recipe as the manifest records it.
    assert "| samples | 8 |" in text and "| shards | 2 (`shard-000000.tar` to `shard-000001.tar`) |" in text
    assert f"| bytes | {manifest.filesize:,} |" in text and "| failed draws, redrawn | none |" in text
    assert "@inproceedings{baradad2021learning," in text
    (recipe_block,) = code_blocks(text, "yaml")
    assert yaml.safe_load(recipe_block) == manifest.recipe
    assert CARD_SIGNATURE in text


@pytest.mark.parametrize(
    ("n", "category"),
    [(1, "n<1K"), (999, "n<1K"), (1000, "1K<n<10K"), (105_000, "100K<n<1M"), (1_300_000, "1M<n<10M"), (10**12, "n>1T")],
)
def test_size_categories_are_the_hubs(n: int, category: str):
    datasets = pytest.importorskip("datasets")
    names = json.loads((Path(datasets.__file__).parent / "utils/resources/size_categories.json").read_text())
    assert size_category(n) == category and category in names


def test_every_family_has_a_paper_to_cite():
    synthetic = [kind for kind in SOURCES if kind != "dataset"]
    assert synthetic and all(kind in PAPERS for kind in synthetic)
    for paper in PAPERS.values():
        assert paper.bibtex.startswith("@inproceedings{") and paper.bibtex.endswith("}")


def test_the_bundled_shader_programs_are_mit_as_the_card_says():
    # The card says the programs of `builtin: library`/`starter` are MIT, written for synthgen.
    folder = Path(card_module.__file__).parents[1] / "sources" / "shader" / "programs" / "library"
    programs = sorted(folder.glob("*.frag"))
    assert programs
    assert [p.name for p in programs if "// licence: MIT, written for synthgen" not in p.read_text()] == []
    recipe = {"source": {"kind": "shader", "programs": [{"builtin": "library", "format": "auto"}]}}
    licence, text = card_module.license_for(recipe)
    assert licence == "other" and "MIT-licensed" in text and "does not decide the licence of the images" in text


def test_the_recipes_license_goes_in_the_card(tmp_path: Path):
    out = tmp_path / "out"
    render_corpus(load_recipe(noise_recipe(tmp_path, license="cc-by-4.0")), str(out))
    matter, text = card_of(out)
    assert matter["license"] == "cc-by-4.0" and "as the recipe sets it (`license: cc-by-4.0`)" in text
    with pytest.raises(RecipeError, match="license"):
        parse_recipe({**yaml.safe_load(NOISE), "license": "CC BY 4.0"})


# -- loading it elsewhere ----------------------------------------------------------------------------


def test_datasets_loads_the_folder_through_the_card_and_the_shards_by_name(corpus: Path, offline_datasets):
    load_dataset = offline_datasets.load_dataset
    shards = [str(corpus / "shard-000000.tar"), str(corpus / "shard-000001.tar")]
    by_shards = load_dataset("webdataset", data_files={"train": shards}, split="train")
    by_folder = load_dataset(str(corpus), split="train")  # the card's `configs`: not the sidecars
    for rows in (by_shards, by_folder):
        assert len(rows) == 8
        assert sorted(row["json"]["index"] for row in rows) == list(range(8))
        assert rows[0]["png"].size == (16, 16)


def test_the_cards_loading_snippets_run(corpus: Path, offline_datasets):
    _, text = card_of(corpus)
    snippets = code_blocks(text, "python")
    firsts = [snippet.split("\n", 1)[0] for snippet in snippets]
    assert firsts == ["import webdataset as wds", "from functools import partial", "from datasets import load_dataset"]
    for snippet in snippets:
        assert '"path/to/card-noise"' in snippet
        scope: dict[str, Any] = {}
        with warnings.catch_warnings():
            warnings.simplefilter("error", UserWarning)  # the libraries' deprecation advice included
            exec(snippet.replace('"path/to/card-noise"', repr(str(corpus))), scope)  # noqa: S102 (our own card's code)
        assert scope["image"].size == (16, 16) and scope["meta"]["recipe"] == "card-noise"


# -- when and how it is written ---------------------------------------------------------------------


def test_the_card_is_written_before_the_manifest_and_the_same_every_time(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def fail_at_manifest(name: str) -> None:
        if name == "manifest":
            raise RuntimeError("stopped before the manifest")

    out = tmp_path / "card-noise"
    recipe = load_recipe(noise_recipe(tmp_path))
    with monkeypatch.context() as patch:
        patch.setattr("synthgen.render.driver.failpoint", fail_at_manifest)
        with pytest.raises(RuntimeError):
            render_corpus(recipe, str(out))
    assert (out / CARD_NAME).exists() and not (out / "manifest.json").exists()
    render_corpus(recipe, str(out))  # resumed: the card is written again, the same
    # Same recipe, same card: no clock, no path in it; the manifest alone makes it.
    assert (out / CARD_NAME).read_bytes() == (corpus / CARD_NAME).read_bytes()
    assert render_card(load_manifest(Destination(str(out)))).encode() == (out / CARD_NAME).read_bytes()


def test_a_readme_that_is_not_synthgens_is_left_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    out = tmp_path / "out"
    out.mkdir()
    (out / CARD_NAME).write_text("# my notes\n")
    recipe = load_recipe(noise_recipe(tmp_path))
    with caplog.at_level(logging.WARNING):
        render_corpus(recipe, str(out))
    assert (out / CARD_NAME).read_text() == "# my notes\n" and (out / "manifest.json").exists()
    assert "README.md is not synthgen's dataset card: left alone" in caplog.text
    render_corpus(recipe, str(out), overwrite=True)
    assert (out / CARD_NAME).read_text() == "# my notes\n"


def test_overwrite_replaces_synthgens_card_and_a_claimed_card_stays(tmp_path: Path):
    out = tmp_path / "out"
    render_corpus(load_recipe(noise_recipe(tmp_path)), str(out))
    render_corpus(load_recipe(noise_recipe(tmp_path, seed=1)), str(out), overwrite=True)
    matter, _ = card_of(out)
    assert matter["synthgen"]["recipe_sha256"] == load_manifest(Destination(str(out))).recipe_sha256
    # Deleting the marker line makes the file the user's: synthgen no longer rewrites it.
    claimed = "\n".join(line for line in (out / CARD_NAME).read_text().splitlines() if CARD_SIGNATURE not in line)
    (out / CARD_NAME).write_text(claimed)
    render_corpus(load_recipe(noise_recipe(tmp_path, seed=2)), str(out), overwrite=True)
    assert (out / CARD_NAME).read_text() == claimed


# -- inspect ----------------------------------------------------------------------------------------


def test_inspect_shows_the_card(corpus: Path, tmp_path: Path):
    result = CliRunner().invoke(cli, ["inspect", str(corpus), "--count", "1"])
    assert result.exit_code == 0, result.output
    assert "card       README.md (licence other, cites Baradad et al., NeurIPS 2021)" in result.output
    report = json.loads(CliRunner().invoke(cli, ["inspect", str(corpus), "--count", "1", "--json"]).output)
    assert report["card"]["front_matter"]["configs"][0]["data_files"][0]["path"] == "shard-*.tar"
    assert report["card"]["synthgen"] is True

    # A corpus from before cards, and a card whose front matter is broken: inspect still reports.
    old = tmp_path / "old"
    shutil.copytree(corpus, old)
    (old / CARD_NAME).unlink()
    result = CliRunner().invoke(cli, ["inspect", str(old), "--count", "1"])
    assert result.exit_code == 0 and "card       none (no README.md" in result.output
    (old / CARD_NAME).write_text("---\na: &x [1]\nb: *x\n---\n")
    assert read_card(Destination(str(old)))["problem"] == "the front matter uses YAML aliases"
    result = CliRunner().invoke(cli, ["inspect", str(old), "--count", "1"])
    assert result.exit_code == 0 and "card       README.md (the front matter uses YAML aliases, not synthgen's)" in (
        result.output
    )


# -- import and push --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("folder", "flags", "licence"),
    [("fashion-mnist", [], "mit"), ("digits", [], "unknown"), ("digits", ["--license", "cc-by-4.0"], "cc-by-4.0")],
)
def test_an_imported_corpus_says_it_is_real_data(tmp_path: Path, folder: str, flags: list[str], licence: str):
    data = tmp_path / folder
    data.mkdir()
    for prefix, n in (("train", 6), ("t10k", 3)):
        (data / f"{prefix}-images-idx3-ubyte").write_bytes(idx_bytes(np.arange(n * 64).reshape(n, 8, 8) % 256))
        (data / f"{prefix}-labels-idx1-ubyte").write_bytes(idx_bytes(np.arange(n) % 3))
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["import", f"idx:{data}", "--out", str(out), "--quiet", *flags])
    assert result.exit_code == 0, result.output
    matter, text = card_of(out)
    assert matter["license"] == licence and matter["synthgen"]["real_data"] is True
    assert "real-images" in matter["tags"] and "synthetic" not in matter["tags"]
    assert "image-classification" in matter["task_categories"]
    assert "Real images, not synthetic: the train split of" in text
    assert ("@article{xiao2017fashion," in text) == (folder == "fashion-mnist")


def test_push_sends_the_card_before_the_manifest(corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from synthgen.corpus.push import push_corpus

    written: list[str] = []
    for method in ("write_bytes", "upload"):
        original = getattr(Destination, method)

        def record(self, *args, _original=original, _method=method, **kwargs):
            written.append(args[0] if _method == "write_bytes" else args[1])
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Destination, method, record)
    remote = tmp_path / "remote"
    push_corpus(str(corpus), str(remote))
    assert (remote / CARD_NAME).read_bytes() == (corpus / CARD_NAME).read_bytes()
    assert written.index(CARD_NAME) < written.index("manifest.json")
    assert push_corpus(str(corpus), str(remote)).uploaded == 0  # identical: skipped

    # A corpus from before cards is pushed as it is; a README.md there that is not synthgen's stays,
    # and so does the user's own here (not pushed).
    old, other = tmp_path / "old", tmp_path / "other"
    shutil.copytree(corpus, old)
    (old / CARD_NAME).unlink()
    push_corpus(str(old), str(other))
    assert sorted(p.name for p in other.iterdir()) == sorted(p.name for p in old.iterdir())
    (other / CARD_NAME).write_text("theirs\n")
    push_corpus(str(corpus), str(other))
    assert (other / CARD_NAME).read_text() == "theirs\n"
    (old / CARD_NAME).write_text("mine\n")
    push_corpus(str(old), str(tmp_path / "third"))
    assert not (tmp_path / "third" / CARD_NAME).exists()
