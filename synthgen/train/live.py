"""Live training data: a recipe's samples rendered inside the data-loader workers while the model
trains, instead of read from shards (Shaders21k trained this way; GenRep had an online mode).

Sample i of a live stream is sample i of the recipe, byte for byte: it is rendered by the same
`render_samples` and encoded into the same fields (`sample_fields`) that `synthgen render` writes
into a shard, then decoded by the same training pipeline. A virtual epoch ("pass") is
`samples_per_pass` samples; pass p renders samples p*N ... p*N + N-1, so the stream never repeats
an image, and its first N samples are the corpus `synthgen render --count N` would write.

Each loader worker of each rank (a slot) renders indices slot, slot + nslots, ... of every pass,
in that order, with its own source (its own GL context, generator or pipeline). Samples are
independent draws, so they need no shuffle buffer; keeping them in index order is what lets a
resumed run pass over samples without rendering them, and a saved stream replay in order.
"""

from __future__ import annotations

import functools
import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np

from synthgen.errors import DataError
from synthgen.permissions import Permissions, check_code_allowed, resolve_permissions
from synthgen.recipe import Recipe, load_recipe
from synthgen.render.samples import render_samples, sample_fields
from synthgen.sources import build_source
from synthgen.sources.base import Source
from synthgen.train.recording import StreamRecording, is_recording, open_recording

# A training corpus spec `recipe:PATH` is that recipe, rendered live (PATH may be a saved stream).
LIVE_PREFIX = "recipe:"


@dataclass(frozen=True)
class LiveCorpus:
    """A recipe in a training mix, rendered live; the facts a training corpus has."""

    spec: str
    weight: float
    recipe: Recipe
    samples_per_pass: int
    has_labels: bool
    # A saved stream (`--save-stream`) served in place of rendering, as far as it goes.
    replay: StreamRecording | None = None
    # What the user allowed the recipe to run, as open_live found it in effect: the loader
    # workers build their sources with it (they see neither the command line nor its context).
    permissions: Permissions | None = None

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
    path: str,
    weight: float = 1.0,
    samples_per_pass: int | None = None,
    overrides: tuple[str, ...] = (),
    permissions: Permissions | None = None,
) -> LiveCorpus:
    """A recipe (or a saved stream) for live training.

    A recipe's sample 0 is rendered here: a recipe that cannot render fails now, in one line, not
    in a loader worker. A saved stream replays its recorded recipe and pass length.
    `permissions`: what the recipe may run (synthgen.permissions; None: the permissions in
    effect, e.g. the `granting` block of `synthgen train --allow-code ...`, else the environment's).
    """
    spec = f"{LIVE_PREFIX}{path}"
    permissions = resolve_permissions(permissions)
    if is_recording(path):
        replay = open_recording(path)
        if samples_per_pass not in (None, replay.samples_per_pass):
            raise DataError(
                f"{path}: the stream was saved with {replay.samples_per_pass} live samples per pass, "
                f"not {samples_per_pass}; replay it without --live-samples"
            )
        # Past the recording's end its recipe is rendered: the same permission, asked now.
        check_code_allowed(replay.recipe, permissions, origin=path)
        return LiveCorpus(spec, weight, replay.recipe, replay.samples_per_pass, replay.has_labels, replay, permissions)
    recipe = load_recipe(path, overrides)
    check_code_allowed(recipe, permissions, origin=path)
    source = build_source(recipe, permissions=permissions)
    try:
        (_, first), *_ = render_samples(recipe, source, [0])
    finally:
        source.close()
    return LiveCorpus(
        spec, weight, recipe, samples_per_pass or recipe.count, first.cls is not None, permissions=permissions
    )


def live_indices(slot: int, nslots: int, samples_per_pass: int, passes: int | None = None) -> Iterator[int]:
    """The sample indices slot `slot` of `nslots` renders, pass after pass (endless unless `passes`)."""
    for number in range(sys.maxsize if passes is None else passes):
        yield from range(number * samples_per_pass + slot, (number + 1) * samples_per_pass, nslots)


def _is_slot_of(index: int, *, samples_per_pass: int, nslots: int, slot: int) -> bool:
    """True if slot `slot` renders sample `index` (the inverse of `live_indices`)."""
    return index % samples_per_pass % nslots == slot


class LiveStream:
    """One slot's live samples as shard fields (`__key__`, `jpg`, `view1.jpg`, `json`, `cls`, ...),
    in index order.

    Samples are rendered a source batch at a time, when taken; `skip` passes over samples without
    rendering them. A corpus replaying a saved stream reads this slot's recorded samples first and
    renders only past the recording's end. With `check_every`, the slot renders its first sample
    again after every that many samples and stops with a DataError if the pixels differ: a
    renderer sharing a GPU with training has been seen to corrupt its images after a while.
    """

    def __init__(
        self,
        corpus: LiveCorpus,
        slot: int,
        nslots: int,
        *,
        rank: int = 0,
        device: str | None = None,
        check_every: int = 0,
        passes: int | None = None,
    ) -> None:
        self.corpus = corpus
        self.weight = corpus.weight
        self.device = device
        self.check_every = check_every
        self._indices = live_indices(slot, nslots, corpus.samples_per_pass, passes)
        self._ready: deque[dict[str, Any]] = deque()
        self._source: Source | None = None
        self._replay = None
        if corpus.replay is not None:
            mine = functools.partial(_is_slot_of, samples_per_pass=corpus.samples_per_pass, nslots=nslots, slot=slot)
            self._replay = corpus.replay.slot_reader(rank, mine)
        self._reference: tuple[int, list[np.ndarray]] | None = None
        self._since_check = 0

    def __iter__(self) -> LiveStream:
        return self

    def __next__(self) -> dict[str, Any]:
        if not self._ready:
            self._fill()
        return self._ready.popleft()

    def take(self) -> dict[str, Any]:
        return next(self)

    def skip(self, count: int) -> None:
        """Pass over the next `count` samples without rendering them (they were trained on before)."""
        for _ in range(count):
            if self._ready:
                self._ready.popleft()
            else:
                next(self._indices)

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None

    def __enter__(self) -> LiveStream:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _fill(self) -> None:
        pending: list[int] = []
        if self._replay is not None:
            index = next(self._indices)
            recorded = self._replay.take(index)
            if recorded is not None:
                self._ready.append(recorded)
                return
            self._replay = None  # the recording ends here: render from this sample on
            pending.append(index)
        if self._source is None:
            self._source = build_source(self.corpus.recipe, device=self.device, permissions=self.corpus.permissions)
        pending += islice(self._indices, self._source.batch_size - len(pending))
        if not pending:
            raise StopIteration
        recipe = self.corpus.recipe
        rendered = render_samples(recipe, self._source, pending)
        self._ready.extend(sample_fields(recipe, spec, sample) for spec, sample in rendered)
        if self.check_every:
            self._check_renderer(pending[0], rendered[0][1].images, len(pending))

    def _check_renderer(self, index: int, images: list[np.ndarray], rendered: int) -> None:
        """Keep the first sample rendered as the reference; after every `check_every` samples,
        render it again and stop if its pixels changed."""
        if self._reference is None:
            self._reference = (index, images)
            return
        assert self._source is not None
        self._since_check += rendered
        if self._since_check < self.check_every:
            return
        self._since_check = 0
        index, expected = self._reference
        (_, again), *_ = render_samples(self.corpus.recipe, self._source, [index])
        worst = max(int(np.abs(a.astype(np.int16) - b).max()) for a, b in zip(again.images, expected, strict=True))
        if worst:
            raise DataError(
                f"{self.corpus.spec}: sample {index} rendered again on {self.device or 'the CPU'} differs from "
                f"its first render by up to {worst}/255: the renderer is corrupting images (a GPU shared with "
                "training?); training stopped, resume from the last checkpoint once the renderer is fixed"
            )
