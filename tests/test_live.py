"""Live training data: a recipe rendered inside the loader, sample for sample what `render` writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from synthgen.export.shards import iter_tar_samples
from synthgen.recipe import load_recipe
from synthgen.render import render_corpus
from synthgen.train.live import live_indices, live_samples, open_live


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
