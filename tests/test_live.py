"""Live training data: a recipe rendered inside the loader, sample for sample what `render` writes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from synthgen.cli import cli
from synthgen.export.shards import iter_tar_samples
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.train.config import load_train_config
from synthgen.train.live import LIVE_PREFIX, live_indices, live_samples, open_live
from synthgen.train.loop import train


def as_bytes(sample: dict) -> dict:
    """A sample's fields as the shard writer stores them."""
    return {k: v if isinstance(v, bytes) else str(v).encode() for k, v in sample.items() if not k.startswith("__")} | {
        "__key__": sample["__key__"]
    }


@pytest.mark.parametrize("kind", ["shader", "noise"])
def test_the_first_live_samples_equal_the_rendered_corpus_byte_for_byte(make_recipe, tmp_path: Path, kind: str):
    recipe_path = make_recipe(count=12, shard={"samples": 5}, image={"format": "jpg"})
    if kind == "noise":
        recipe_path = tmp_path / "noise.yaml"
        recipe_path.write_text(
            "name: live-noise\ncount: 12\nviews: 2\nimage: {size: 16, format: jpg}\nshard: {samples: 5}\n"
            "source: {kind: noise, model: spectrum}\n"
        )
    render_corpus(load_recipe(recipe_path), str(tmp_path / "corpus"), progress=False)
    rendered = []
    for tar in sorted((tmp_path / "corpus").glob("shard-*.tar")):
        with tar.open("rb") as stream:
            rendered += [as_bytes(sample) for sample in iter_tar_samples(stream)]

    corpus = open_live(str(recipe_path))
    live = [as_bytes(sample) for sample in live_samples(corpus, slot=0, nslots=1, passes=1)]
    assert [s["__key__"] for s in live] == [f"{i:012d}" for i in range(12)]
    assert live == rendered
    assert corpus.has_labels == (kind == "shader")


def test_two_workers_on_two_ranks_render_disjoint_indices_that_cover_each_pass():
    per_slot = {slot: list(live_indices(slot, 4, samples_per_pass=10, passes=2)) for slot in range(4)}
    everything = [index for indices in per_slot.values() for index in indices]
    assert sorted(everything) == list(range(20))  # disjoint, and every sample of both passes
    assert per_slot[1] == [1, 5, 9, 11, 15, 19]  # pass 2 renders new samples, never pass 1's again


def test_a_live_run_of_a_few_steps_lowers_the_loss(make_recipe, tmp_path: Path, one_torch_thread: None):
    from .test_train import FAST, losses

    recipe_path = make_recipe(count=64, image={"size": 32, "format": "png"})
    config = load_train_config(
        None, ["epochs=4", "augment.preset=none", "data.live_samples=64", *FAST], [f"{LIVE_PREFIX}{recipe_path}"]
    )
    summary = train(config, tmp_path / "run", progress=False)
    assert summary["finished"] and summary["steps"] == 16 and summary["bad_samples"] == 0
    values = losses(tmp_path / "run")
    assert sum(values[-4:]) / 4 < sum(values[4:8]) / 4, values


def test_the_train_command_mixes_a_live_recipe_with_shards(make_recipe, shader_corpus: Path, tmp_path: Path):
    recipe_path = make_recipe(count=32, image={"size": 32, "format": "png"})
    result = CliRunner().invoke(
        cli,
        ["train", "--recipe", f"{recipe_path}@0.5", "--data", f"{shader_corpus}@0.5", "--live-samples", "12",
         "--out", str(tmp_path / "run"), "--quiet", "--epochs", "1", "--batch-size", "16", "--workers", "0",
         "--set", "augment.size=32"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    # An epoch is every corpus's samples once: 12 live + 20 stored = 32, two batches of 16.
    assert "finished: 2/2 steps" in result.output
    saved = load_train_config(tmp_path / "run" / "config.yaml")
    assert [(c.url, c.weight) for c in saved.data.corpora] == [
        (str(shader_corpus), 0.5),
        (f"{LIVE_PREFIX}{recipe_path}", 0.5),
    ]
