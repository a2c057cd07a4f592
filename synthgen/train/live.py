"""Live training data: a recipe's samples rendered inside the data-loader workers while the model
trains, instead of read from shards (Shaders21k trained this way; GenRep had an online mode).

Sample i of a live stream is sample i of the recipe, byte for byte: it is rendered by the same
`render_samples` and encoded into the same fields (`sample_fields`) that `synthgen render` writes
into a shard, then decoded by the same training pipeline. A virtual epoch ("pass") is
`samples_per_pass` samples; pass p renders samples p*N ... p*N + N-1, so the stream never repeats
an image, and its first N samples are the corpus `synthgen render --count N` would write.

Each loader worker of each rank (a slot) renders indices slot, slot + nslots, ... of every pass,
with its own source (its own GL context, generator or pipeline).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from synthgen.recipe import Recipe, load_recipe
from synthgen.render import render_samples, sample_fields
from synthgen.sources import build_source

# A training corpus spec `recipe:PATH` is that recipe, rendered live.
LIVE_PREFIX = "recipe:"


@dataclass(frozen=True)
class LiveCorpus:
    """A recipe in a training mix, rendered live; the facts a training corpus has."""

    spec: str
    weight: float
    recipe: Recipe
    samples_per_pass: int
    has_labels: bool

    @property
    def nsamples(self) -> int:
        return self.samples_per_pass

    @property
    def stored_views(self) -> int:
        return self.recipe.views

    @property
    def image_size(self) -> tuple[int, int]:
        return self.recipe.image.size


def open_live(
    recipe_path: str, weight: float = 1.0, samples_per_pass: int | None = None, overrides: tuple[str, ...] = ()
) -> LiveCorpus:
    """Read and check a recipe for live training, and render its sample 0 here: a recipe that
    cannot render fails now, in one line, not in a loader worker."""
    recipe = load_recipe(recipe_path, overrides)
    source = build_source(recipe)
    try:
        (_, first), *_ = render_samples(recipe, source, [0])
    finally:
        source.close()
    return LiveCorpus(
        spec=f"{LIVE_PREFIX}{recipe_path}",
        weight=weight,
        recipe=recipe,
        samples_per_pass=samples_per_pass or recipe.count,
        has_labels=first.cls is not None,
    )


def live_indices(slot: int, nslots: int, samples_per_pass: int, passes: int | None = None) -> Iterator[int]:
    """The sample indices slot `slot` of `nslots` renders, pass after pass (endless unless `passes`)."""
    for number in range(sys.maxsize if passes is None else passes):
        yield from range(number * samples_per_pass + slot, (number + 1) * samples_per_pass, nslots)


def live_samples(
    corpus: LiveCorpus, slot: int, nslots: int, device: str | None = None, passes: int | None = None
) -> Iterator[dict[str, Any]]:
    """This slot's samples as shard fields (`__key__`, `jpg`, `view1.jpg`, `json`, `cls`, ...),
    rendered by a source this slot builds for itself."""
    source = build_source(corpus.recipe, device=device)
    try:
        indices = live_indices(slot, nslots, corpus.samples_per_pass, passes)
        while batch := [index for _, index in zip(range(source.batch_size), indices, strict=False)]:
            for spec, sample in render_samples(corpus.recipe, source, batch):
                yield sample_fields(corpus.recipe, spec, sample)
    finally:
        source.close()
